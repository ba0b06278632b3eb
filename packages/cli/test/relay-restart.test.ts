/**
 * The relay never submits a task upstream twice: a real `solvebox serve` relaying to a Solvebox
 * upstream is SIGKILLed while it polls the upstream; restarted on the same database, it polls the
 * same upstream task to its answer, and the upstream, counting its tasks, holds exactly one. On
 * Redis the same holds when a relaying `solvebox worker` dies and another takes over its lease.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { configWith, createAccount, loadConfig, startServer } from '@solvebox/server';
import { SqliteStorage } from '@solvebox/server/storage/sqlite';
import { RedisStorage } from '@solvebox/server/storage/redis';
import { redisServerMissing, startRedisServer } from '@solvebox/server/testing';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))), SOLVEBOX_CONSOLE_PORT: '0' };

async function serve(args: string[], env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  return launch(['serve', '--port', '0', '--log-level', 'error', ...args], env, /^listening on (http:\/\/\S+)$/m);
}

/** Starts `solvebox <args>` and waits for the line that says it is ready; `url` is its first group. */
async function launch(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...ENV, ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${stderr}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = ready.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, url };
}

/** A Solvebox upstream on SQLite with the sandbox for every type, and an API key of it. */
async function startUpstream(db: string): Promise<{ server: Awaited<ReturnType<typeof startServer>>; key: string }> {
  const server = await startServer(configWith({ port: 0, db, logLevel: 'silent', sweepIntervalMs: 50, solvers: loadConfig({ solvers: '*=sandbox' }).solvers }));
  const { key } = await createAccount(server.services.storage, { threads: 5, balanceMicros: 0, proxiesAllowed: false });
  return { server, key };
}

/** The upstreams file: the one upstream, polled fast. */
function upstreamsFile(dir: string, url: string, keyEnv: string): string {
  const file = join(dir, 'upstreams.json');
  writeFileSync(file, JSON.stringify({ upstreams: [{ name: 'up', url, keyEnv, types: ['turnstile'], priority: 1, pollInterval: 0.1, firstPoll: 0 }] }));
  return file;
}

/** Submits a Turnstile task whose sandbox answer comes after `delay` seconds; its id. */
async function submitDelayed(url: string, key: string, delay: number): Promise<string> {
  const body = new URLSearchParams({ key, method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: `https://example.com/?sandbox=delay:${delay}` });
  const submitted = await (await fetch(`${url}/in.php`, { method: 'POST', body })).text();
  assert.match(submitted, /^OK\|\d+$/);
  return submitted.slice(3);
}

/** Polls until the task is not CAPCHA_NOT_READY (10 s at most); its answer. */
async function answerOf(url: string, key: string, id: string): Promise<string> {
  let answer = '';
  for (let i = 0; i < 200; i++) {
    answer = await (await fetch(`${url}/res.php?${new URLSearchParams({ key, action: 'get', id })}`)).text();
    if (answer !== 'CAPCHA_NOT_READY') break;
    await sleep(50);
  }
  return answer;
}

function count(db: string, sql: string): number {
  const connection = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return connection.prepare(sql).pluck().get() as number;
  } finally {
    connection.close();
  }
}

test('a relay SIGKILLed mid-poll resumes the same upstream task after a restart: no duplicate submit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-relay-restart-'));
  const upstreamDb = join(dir, 'upstream.db');
  const relayDb = join(dir, 'relay.db');
  const upstream = await startServer(
    configWith({ port: 0, db: upstreamDb, logLevel: 'silent', sweepIntervalMs: 50, solvers: loadConfig({ solvers: '*=sandbox' }).solvers }),
  );
  try {
    const { key: upstreamKey } = await createAccount(upstream.services.storage, { threads: 5, balanceMicros: 0, proxiesAllowed: false });
    const storage = new SqliteStorage({ file: relayDb });
    const { key } = await createAccount(storage, { threads: 5, balanceMicros: 0, proxiesAllowed: false });
    await storage.close();
    const file = join(dir, 'upstreams.json');
    writeFileSync(
      file,
      JSON.stringify({
        upstreams: [
          { name: 'up', url: upstream.url, dialect: 'v1', keyEnv: 'RELAY_RESTART_KEY', types: ['turnstile'], priority: 1, pollInterval: 0.1, firstPoll: 0 },
        ],
      }),
    );
    const args = ['--db', relayDb, '--upstreams', file, '--solvers', 'turnstile=relay'];
    const env = { RELAY_RESTART_KEY: upstreamKey };

    const first = await serve(args, env);
    const submitted = await (
      await fetch(`${first.url}/in.php`, {
        method: 'POST',
        body: new URLSearchParams({ key, method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: 'https://example.com/?sandbox=delay:4' }),
      })
    ).text();
    assert.match(submitted, /^OK\|\d+$/);
    const id = submitted.slice(3);
    // Polling upstream: the upstream has the task, and the relay's ticket holds its id.
    for (let i = 0; i < 100 && count(relayDb, "SELECT count(*) FROM relay_tickets WHERE ticket LIKE '%upstreamId%'") === 0; i++) await sleep(50);
    assert.equal(count(relayDb, "SELECT count(*) FROM relay_tickets WHERE ticket LIKE '%upstreamId%'"), 1, 'the ticket was written before the first poll');
    assert.equal(count(upstreamDb, 'SELECT count(*) FROM tasks'), 1);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await serve(args, env);
    try {
      assert.equal(await answerOf(second.url, key, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
      assert.equal(count(upstreamDb, 'SELECT count(*) FROM tasks'), 1, 'the upstream got one task: the restart polled it again, it did not submit again');
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  } finally {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on Redis, a relaying worker SIGKILLed mid-poll: another worker takes over the lease and polls the same upstream task', {
  skip: redisServerMissing(),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-relay-lease-'));
  const upstreamDb = join(dir, 'upstream.db');
  const { server: upstream, key: upstreamKey } = await startUpstream(upstreamDb);
  const redis = await startRedisServer();
  const children: ChildProcessWithoutNullStreams[] = [];
  try {
    const prefix = 'relay-lease:';
    const storage = await RedisStorage.connect({ url: redis.url, prefix });
    const { key } = await createAccount(storage, { threads: 5, balanceMicros: 0, proxiesAllowed: false });
    await storage.close();
    const file = upstreamsFile(dir, upstream.url, 'RELAY_LEASE_KEY');
    const env = { RELAY_LEASE_KEY: upstreamKey };
    const shared = ['--redis', redis.url, '--redis-prefix', prefix, '--lease', '0.6', '--sweep-interval', '100', '--log-level', 'error'];
    const api = await launch(['serve', '--port', '0', '--run-solvers', '0', ...shared], env, /^listening on (http:\/\/\S+)$/m);
    children.push(api.child);
    const worker = () => launch(['worker', '--upstreams', file, '--solvers', '*=none,turnstile=relay', ...shared], env, /^solving (.*) from/m);
    const first = await worker();
    children.push(first.child);

    const id = await submitDelayed(api.url, key, 3);
    for (let i = 0; i < 100 && count(upstreamDb, 'SELECT count(*) FROM tasks') === 0; i++) await sleep(50);
    await sleep(300); // the ticket with the upstream's id is written before the first poll
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await worker();
    children.push(second.child);
    assert.equal(await answerOf(api.url, key, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
    assert.equal(count(upstreamDb, 'SELECT count(*) FROM tasks'), 1, "one upstream task: the second worker resumed the first one's");
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await redis.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
