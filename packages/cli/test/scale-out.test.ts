/**
 * Scale-out as an operator runs it: real `solvebox serve --redis` API nodes and `solvebox worker`
 * processes on one real redis-server, driven by clients that follow the protocol. Skips, saying
 * why, where redis-server is not installed (fails under CI=true).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { isKnownCode } from '@solvebox/protocol';
import { createAccount } from '@solvebox/server';
import { RedisStorage } from '@solvebox/server/storage/redis';
import { redisServerMissing, startRedisServer, type RedisServerProcess } from '@solvebox/server/testing';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
// No SOLVEBOX_* settings of the caller's; the console on a free port, since test files run at once.
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))), SOLVEBOX_CONSOLE_PORT: '0' };
/** Short leases and sweeps, so that a killed worker's tasks come back within about a second. */
const TIMING = ['--lease', '0.6', '--sweep-interval', '100', '--log-level', 'error'];
/** The sandbox answers turnstile tasks after this delay: long enough that a kill lands mid-task. */
const PAGEURL = 'https://example.com/login?sandbox=delay:0.03';
const SITEKEY = '0x4AAAAAAAscaleout';

interface Launched {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: string;
  readonly url?: string;
  stderr(): string;
}

/** Starts `solvebox <args>` and waits for the line that says it is ready. */
async function launch(args: string[], ready: RegExp): Promise<Launched> {
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not become ready; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = ready.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, stdout, ...(match[1] ? { url: match[1] } : {}), stderr: () => stderr };
}

const node = (redisUrl: string, prefix: string): Promise<Launched> =>
  launch(['serve', '--redis', redisUrl, '--redis-prefix', prefix, '--port', '0', '--run-solvers', '0', ...TIMING], /^listening on (http:\/\/\S+)$/m);
const worker = (redisUrl: string, prefix: string): Promise<Launched> =>
  launch(['worker', '--redis', redisUrl, '--redis-prefix', prefix, '--solvers', 'sandbox', '--concurrency', '8', ...TIMING], /^solving (.*) from/m);

async function stop(p: Launched, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await once(p.child, 'exit');
}

async function newKey(redisUrl: string, prefix: string, threads: number): Promise<{ key: string; accountId: number }> {
  const storage = await RedisStorage.connect({ url: redisUrl, prefix });
  try {
    const { key, account } = await createAccount(storage, { threads, balanceMicros: 0, proxiesAllowed: false });
    return { key, accountId: account.id };
  } finally {
    await storage.close();
  }
}

/** Every plain-text answer a client may see from in.php or res.php: OK|…, the not-ready marker, or a catalogued code. */
function documented(body: string): boolean {
  return body.startsWith('OK') || body === 'CAPCHA_NOT_READY' || isKnownCode(body.split('|')[0]!);
}

interface Client {
  readonly seen: Map<string, number>;
  readonly statuses: Set<number>;
  /** Submits one task on `submitTo` and polls `pollOn` until it ends, following the protocol's retry rules. */
  solve(submitTo: string, pollOn: string): Promise<{ id: string; answer: string }>;
}

function client(key: string): Client {
  const seen = new Map<string, number>();
  const statuses = new Set<number>();
  const call = async (url: string): Promise<string> => {
    for (;;) {
      try {
        const response = await fetch(url);
        statuses.add(response.status);
        const body = await response.text();
        const code = body.startsWith('OK|') ? 'OK' : body;
        seen.set(code, (seen.get(code) ?? 0) + 1);
        return body;
      } catch {
        await sleep(50); // the node itself is unreachable: not expected here, but retry like a client
      }
    }
  };
  return {
    seen,
    statuses,
    async solve(submitTo, pollOn) {
      const query = new URLSearchParams({ key, method: 'turnstile', sitekey: SITEKEY, pageurl: PAGEURL });
      let id: string;
      for (let backoff = 10; ; backoff = Math.min(backoff * 2, 500)) {
        const body = await call(`${submitTo}/in.php?${query}`);
        if (body.startsWith('OK|')) {
          id = body.slice(3);
          break;
        }
        // All threads busy, or the server's storage is down: wait and submit again.
        if (body !== 'ERROR_ZERO_BALANCE' && body !== 'ERROR_SERVER_ERROR') throw new Error(`in.php answered ${body}`);
        await sleep(backoff);
      }
      for (;;) {
        await sleep(25);
        const body = await call(`${pollOn}/res.php?key=${key}&action=get&id=${id}`);
        if (body.startsWith('OK|')) return { id, answer: body.slice(3) };
        if (body !== 'CAPCHA_NOT_READY' && body !== 'ERROR_SERVER_ERROR') throw new Error(`task ${id}: res.php answered ${body}`);
      }
    },
  };
}

/** Runs `total` tasks through `lanes` concurrent clients, submitting round-robin across the nodes and polling on the next one. */
/**
 * SIGKILLs a worker while it holds leases, so that the test always sees some leased again: it is
 * frozen (SIGSTOP) past the lease length, and if tasks that were active then got a second attempt
 * meanwhile, the frozen worker held them; otherwise it runs on a moment and is tried again. A plain
 * kill at a random moment found the worker between tasks when the machine was loaded.
 */
async function killHoldingLeases(worker: ChildProcessWithoutNullStreams, redis: Redis, keys: string): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    worker.kill('SIGSTOP');
    const leased = await redis.zrange(`${keys}active`, '0', '-1');
    await sleep(1000); // past the 0.6 s lease: what the frozen worker held, the other leases again
    const attempts = await Promise.all(leased.map((id) => redis.hget(`${keys}task:${id}`, 'attempts')));
    if (attempts.some((n) => Number(n) > 1)) break;
    worker.kill('SIGCONT');
    await sleep(30 + tries * 7);
  }
  worker.kill('SIGKILL');
}

async function drive(c: Client, nodes: readonly string[], total: number, lanes: number, onDone?: (n: number) => void): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < total) {
        const i = next++;
        const { id, answer } = await c.solve(nodes[i % nodes.length]!, nodes[(i + 1) % nodes.length]!);
        assert.ok(!answers.has(id), `task id ${id} was handed out twice`);
        answers.set(id, answer);
        onDone?.(answers.size);
      }
    }),
  );
  return answers;
}

describe('scale-out on Redis', { skip: redisServerMissing() }, () => {
  test('2 API nodes, 2 workers, 1000 tasks round-robin: each completes exactly once, the thread limit always holds, and a worker killed with SIGKILL loses nothing', {
    timeout: 120_000,
  }, async (t) => {
    const redis = await startRedisServer();
    const prefix = `scale-${randomUUID()}:`;
    const processes: Launched[] = [];
    const sampler = new Redis(redis.url);
    try {
      const threads = 16;
      const { key, accountId } = await newKey(redis.url, prefix, threads);
      const nodes = await Promise.all([node(redis.url, prefix), node(redis.url, prefix)]);
      const workers = await Promise.all([worker(redis.url, prefix), worker(redis.url, prefix)]);
      processes.push(...nodes, ...workers);

      // Sample the account's busy threads (unfinished tasks within their deadline) as Redis holds them.
      const busyKey = `${prefix}{v1}:busy:${accountId}`;
      let maxBusy = 0;
      let samples = 0;
      let sampling = true;
      const sampling$ = (async () => {
        while (sampling) {
          const busy = await sampler.zcount(busyKey, `(${Date.now()}`, '+inf');
          maxBusy = Math.max(maxBusy, busy);
          samples++;
          await sleep(5);
        }
      })();

      const c = client(key);
      let killedAt = 0;
      let killing: Promise<void> | undefined;
      const answers = await drive(
        c,
        nodes.map((n) => n.url!),
        1000,
        threads + 4,
        (done) => {
          if (done === 300 && killedAt === 0) {
            killedAt = done;
            killing = killHoldingLeases(workers[0]!.child, sampler, `${prefix}{v1}:`);
          }
        },
      );
      await killing;
      sampling = false;
      await sampling$;

      t.diagnostic(`busy threads: at most ${maxBusy} of ${threads} in ${samples} samples; answers seen: ${JSON.stringify(Object.fromEntries(c.seen))}`);
      assert.equal(answers.size, 1000, 'every task answered');
      assert.equal(killedAt, 300, 'a worker was killed mid-run');
      assert.ok(
        [...answers.values()].every((a) => a.length > 20),
        'every answer is a sandbox token',
      );
      assert.ok(samples > 50, `sampled the thread count ${samples} times`);
      assert.ok(maxBusy <= threads, `at most ${threads} threads busy at any sample (saw ${maxBusy})`);
      assert.ok(maxBusy >= threads - 2, `the clients kept the threads busy (saw at most ${maxBusy})`);
      assert.deepEqual([...c.statuses], [200], 'HTTP 200 for every protocol outcome');
      for (const code of c.seen.keys()) assert.ok(documented(code), `undocumented answer ${code}`);

      // Exactly once: the solver statistics count each completion; a task stored twice would count twice.
      const storage = await RedisStorage.connect({ url: redis.url, prefix });
      try {
        const [sandbox] = await storage.solverStats();
        assert.equal(sandbox?.solved, 1000);
        assert.equal(sandbox?.failed, 0);
      } finally {
        await storage.close();
      }
      // The killed worker held leases: their tasks were leased again, by the surviving worker.
      const attempts = await Promise.all([...answers.keys()].map((id) => sampler.hget(`${prefix}{v1}:task:${id}`, 'attempts')));
      const retried = attempts.filter((a) => Number(a) > 1).length;
      assert.ok(retried >= 1, 'tasks of the killed worker were leased again');
      assert.ok(retried <= 8, `only the killed worker's tasks (at most its concurrency) were leased twice, not ${retried}`);
    } finally {
      sampler.disconnect();
      await Promise.all(processes.map((p) => stop(p, 'SIGKILL')));
      await redis.dispose();
    }
  });

  test('Redis killed under load and restarted: clients see only documented codes, and no accepted task is lost', { timeout: 120_000 }, async (t) => {
    // appendfsync always: Redis acknowledges a write only once it is on disk, so a crash loses no accepted task.
    const redis: RedisServerProcess = await startRedisServer({ persistent: true });
    const prefix = `outage-${randomUUID()}:`;
    const processes: Launched[] = [];
    try {
      const { key } = await newKey(redis.url, prefix, 8);
      const nodes = await Promise.all([node(redis.url, prefix), node(redis.url, prefix)]);
      processes.push(...nodes, await worker(redis.url, prefix));
      const c = client(key);

      let outage: Promise<void> | undefined;
      const answers = await drive(
        c,
        nodes.map((n) => n.url!),
        240,
        8,
        (done) => {
          if (done === 60 && !outage) {
            outage = (async () => {
              await redis.stop('SIGKILL');
              await sleep(1500);
              await redis.restart();
            })();
          }
        },
      );
      await outage;

      t.diagnostic(`answers seen around the outage: ${JSON.stringify(Object.fromEntries(c.seen))}`);
      assert.equal(answers.size, 240, 'every accepted task was answered');
      assert.ok((c.seen.get('ERROR_SERVER_ERROR') ?? 0) > 0, 'the outage was seen (as ERROR_SERVER_ERROR)');
      assert.deepEqual([...c.statuses], [200], 'HTTP 200 throughout');
      for (const code of c.seen.keys()) assert.ok(documented(code), `undocumented answer ${code}`);
      for (const p of processes) assert.equal(p.child.exitCode, null, 'no process died');
      // The nodes report healthy again.
      for (const n of nodes) assert.equal((await fetch(`${n.url}/health`)).status, 200);
    } finally {
      await Promise.all(processes.map((p) => stop(p, 'SIGKILL')));
      await redis.dispose();
    }
  });
});
