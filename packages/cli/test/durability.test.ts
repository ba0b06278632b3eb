/**
 * Durable submits, as the issue of a crash shows them: a real `solvebox serve` on a SQLite file is
 * SIGKILLed while 32 clients submit as fast as it answers; after a restart on the same file every
 * task whose `OK|id` a client received is still there. /health shows the writes sharing fsyncs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccount } from '@solvebox/server';
import { SqliteStorage } from '@solvebox/server/storage/sqlite';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
// No SOLVEBOX_* settings of the caller's; the console on a free port, since test files run at once.
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))), SOLVEBOX_CONSOLE_PORT: '0' };
const CLIENTS = 32;

async function serve(db: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  // No solvers: every accepted task stays queued, so a lost one cannot hide among finished ones.
  const child = spawn(process.execPath, [BIN, 'serve', '--db', db, '--port', '0', '--run-solvers', '0', '--log-level', 'error'], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  return { child, url };
}

test('SIGKILL under submit load loses no acknowledged task; concurrent submits share fsyncs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-durable-'));
  const db = join(dir, 'solvebox.db');
  try {
    const storage = new SqliteStorage({ file: db });
    const { key } = await createAccount(storage, { threads: 1_000_000, balanceMicros: 0, proxiesAllowed: false });
    await storage.close();

    const first = await serve(db);
    const acknowledged: string[] = [];
    let killed = false;
    const body = new URLSearchParams({ key, method: 'turnstile', sitekey: '0x4AAAAAAAdurable', pageurl: 'https://example.com/a' }).toString();
    const client = async (): Promise<void> => {
      while (!killed) {
        try {
          const res = await fetch(`${first.url}/in.php`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
          const text = await res.text();
          assert.match(text, /^OK\|\d{16}$/);
          acknowledged.push(text.slice(3));
        } catch (err) {
          if (!killed) throw err;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    while (acknowledged.length < 1500) await sleep(20);
    const health = (await (await fetch(`${first.url}/health`)).json()) as { storage: { groupCommit?: { syncs: number; writes: number } } };
    const group = health.storage.groupCommit;
    assert.ok(group && group.syncs > 0, 'writes wait for fsyncs');
    assert.ok(group.writes / group.syncs > 1.5, `writes share fsyncs: ${group.writes} writes in ${group.syncs} fsyncs`);
    killed = true;
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    await Promise.all(clients);

    const second = await serve(db);
    try {
      const lost: string[] = [];
      for (let i = 0; i < acknowledged.length; i += 100) {
        const ids = acknowledged.slice(i, i + 100);
        const answer = await (await fetch(`${second.url}/res.php?key=${key}&action=get&ids=${ids.join(',')}`)).text();
        for (const [j, a] of answer.split('|').entries()) if (a !== 'CAPCHA_NOT_READY') lost.push(`${ids[j]}: ${a}`);
      }
      assert.deepEqual(lost, [], `all ${acknowledged.length} acknowledged tasks survived the SIGKILL`);
    } finally {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
