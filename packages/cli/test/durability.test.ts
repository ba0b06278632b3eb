/**
 * Durable submits, as the issue of a crash shows them: a real `solvebox serve` on a SQLite file is
 * SIGKILLed while 32 clients submit as fast as it answers, half of them tokens and half images
 * (which live in the image log beside the database); after a restart on the same file every task
 * whose `OK|id` a client received is still there, each image byte for byte. /health shows the
 * writes sharing fsyncs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createAccount } from '@solvebox/server';
import { SqliteStorage } from '@solvebox/server/storage/sqlite';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
// No SOLVEBOX_* settings of the caller's; the console on a free port, since test files run at once.
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))), SOLVEBOX_CONSOLE_PORT: '0' };
const CLIENTS = 32;
const PNG = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'ocr', 'test', 'fixtures', 'captchapng-1.png'));

/** Creates the database `db` with one account of `threads` threads; its key. */
async function accountIn(db: string, threads: number): Promise<string> {
  const storage = new SqliteStorage({ file: db });
  try {
    return (await createAccount(storage, { threads, balanceMicros: 0, proxiesAllowed: false })).key;
  } finally {
    await storage.close();
  }
}

/** `fileBlocks`: the largest file the server may write, in KiB (`ulimit -f`); a write past it fails (EFBIG). */
async function serve(db: string, fileBlocks?: number): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  // No solvers: every accepted task stays queued, so a lost one cannot hide among finished ones.
  const args = [BIN, 'serve', '--db', db, '--port', '0', '--run-solvers', '0', '--log-level', 'error'];
  const child =
    fileBlocks === undefined
      ? spawn(process.execPath, args, { env: ENV })
      : spawn('bash', ['-c', `ulimit -f ${fileBlocks} && exec "$0" "$@"`, process.execPath, ...args], { env: ENV });
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
    const key = await accountIn(db, 1_000_000);

    const first = await serve(db);
    const acknowledged: string[] = [];
    /** Each acknowledged image task's bytes, by id. */
    const images = new Map<string, Buffer>();
    let killed = false;
    const token = new URLSearchParams({ key, method: 'turnstile', sitekey: '0x4AAAAAAAdurable', pageurl: 'https://example.com/a' }).toString();
    const client = async (_: unknown, n: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        // A real PNG with bytes of this client's and this submit's after its end: every image differs.
        const image = n % 2 === 1 ? Buffer.concat([PNG, Buffer.from(`${n}:${i}`.repeat(200))]) : undefined;
        const body = image ? new URLSearchParams({ key, method: 'base64', body: image.toString('base64') }).toString() : token;
        try {
          const res = await fetch(`${first.url}/in.php`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
          const text = await res.text();
          assert.match(text, /^OK\|\d{16}$/);
          acknowledged.push(text.slice(3));
          if (image) images.set(text.slice(3), image);
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
    // Every acknowledged image, as its client sent it.
    assert.ok(images.size > 100, `${images.size} images acknowledged`);
    const stored = new SqliteStorage({ file: db });
    try {
      const read = new Map<string, Buffer>();
      for (;;) {
        const lease = await stored.leaseTask(['image'], Date.now(), 60_000);
        if (!lease) break;
        read.set(lease.id, Buffer.from((lease.spec as { image: Uint8Array }).image));
      }
      const damaged = [...images].filter(([id, image]) => !read.get(id)?.equals(image)).map(([id]) => id);
      assert.deepEqual(damaged, [], `all ${images.size} acknowledged images read back whole`);
    } finally {
      await stored.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an image the disk refuses fails its submit with ERROR_SERVER_ERROR, leaves no task behind, and the server lives on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-full-'));
  const db = join(dir, 'solvebox.db');
  try {
    const key = await accountIn(db, 1000);
    // Files of up to 2 MiB: the database and its log stay under it, the image log soon does not.
    const server = await serve(db, 2048);
    const answers: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const image = Buffer.concat([PNG, Buffer.alloc(90_000, i)]);
        const body = new URLSearchParams({ key, method: 'base64', body: image.toString('base64') }).toString();
        const res = await fetch(`${server.url}/in.php`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        answers.push(await res.text());
      }
      const accepted = answers.filter((a) => a.startsWith('OK|'));
      assert.ok(accepted.length >= 10 && accepted.length < 30, `some images fit, then the disk is full: ${answers.join(' ')}`);
      assert.deepEqual(new Set(answers.filter((a) => !a.startsWith('OK|'))), new Set(['ERROR_SERVER_ERROR']));
      const token = new URLSearchParams({ key, method: 'turnstile', sitekey: '0x4AAAAAAAdurable', pageurl: 'https://example.com/a' }).toString();
      const res = await fetch(`${server.url}/in.php`, { method: 'POST', body: token, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.match(await res.text(), /^OK\|/, 'a token task still goes in');
      const rows = new Database(db, { readonly: true });
      try {
        assert.equal(rows.prepare("SELECT count(*) FROM tasks WHERE type = 'image'").pluck().get(), accepted.length, 'no row of a refused image stays');
      } finally {
        rows.close();
      }
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      // Every image task stored is one a client was told OK about, and reads whole.
      const stored = new SqliteStorage({ file: db });
      try {
        const leased: string[] = [];
        for (;;) {
          const lease = await stored.leaseTask(['image'], Date.now(), 60_000);
          if (!lease) break;
          leased.push(lease.id);
          assert.equal((lease.spec as { image: Uint8Array }).image.length, PNG.length + 90_000);
        }
        assert.deepEqual(leased.sort(), accepted.map((a) => a.slice(3)).sort());
      } finally {
        await stored.close();
      }
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
