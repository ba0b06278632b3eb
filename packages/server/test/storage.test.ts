/** The storage contract against the memory adapter and a real SQLite file; SQLite schema upgrades. */
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MemoryStorage } from '../src/storage/memory.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { MIGRATIONS } from '../src/storage/sqlite/schema.js';
import type { TaskSpec } from '@solvebox/protocol';
import { storageContract } from './storage-contract.js';
import { tempDir } from './helpers.js';

storageContract('memory', async () => ({ storage: new MemoryStorage() }));

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storageContract('sqlite', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'contract.db');
  return { storage: new SqliteStorage({ file }), reopen: async () => new SqliteStorage({ file }) };
});

test('sqlite: a database written before the specs moved to their own table (schema 4) keeps its tasks', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'old.db');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS.slice(0, 4)) old.exec(migration);
  old.pragma('user_version = 4');
  old.prepare("INSERT INTO accounts (id, key_hash, key_hint, threads, balance_micros, proxies_allowed, created_at) VALUES (1, 'h', 'abc…', 5, 0, 1, 0)").run();
  const spec = { type: 'turnstile', sitekey: '0x4AAAAAAAold', pageurl: 'https://example.com/' };
  old
    .prepare(
      "INSERT INTO tasks (id, account_id, type, state, spec, available_at, deadline_at, created_at) VALUES (1234567890123456, 1, 'turnstile', 'queued', ?, 0, ?, 0)",
    )
    .run(JSON.stringify(spec), Date.now() + 60_000);
  old.close();

  const storage = new SqliteStorage({ file });
  try {
    const lease = await storage.leaseTask(['turnstile'], Date.now(), 1000);
    assert.equal(lease?.id, '1234567890123456');
    assert.deepEqual(lease.spec, spec);
  } finally {
    await storage.close();
  }
});

test('sqlite: images are stored as they came, in the image log beside a small spec, round-trip, and go with their task; a long text spec has a table of its own', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'specs.db');
  const storage = new SqliteStorage({ file });
  const read = <T>(sql: string): T => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).get() as T;
    } finally {
      db.close();
    }
  };
  const logged = (): number => readdirSync(`${file}-images`).reduce((sum, name) => sum + statSync(join(`${file}-images`, name)).size, 0);
  try {
    const account = await storage.createAccount({ keyHash: 'h', keyHint: 'abc…', threads: 5, balanceMicros: 0, proxiesAllowed: false, createdAt: 0 });
    const image = new Uint8Array(10_240).map((_, i) => (i * 31) & 0xff);
    const instructionsImage = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 7, 7]);
    const spec = { type: 'image', image, format: 'png', hints: {} } as unknown as TaskSpec;
    const grid: TaskSpec = { type: 'grid', image: instructionsImage, format: 'png', instructions: 'x'.repeat(2000), instructionsImage: image };
    const now = Date.now();
    for (const s of [spec, grid]) {
      assert.deepEqual(await storage.admitTask({ id: storage.newTaskId(), accountId: account.id, spec: s, createdAt: now, deadlineAt: now + 60_000 }, 5, now), {
        kind: 'admitted',
      });
    }
    const stored = read<{ n: number; spec: number; refs: number; bytes: number }>(
      "SELECT (SELECT count(*) FROM task_blobs) AS n, (SELECT max(length(spec)) FROM tasks WHERE type = 'image') AS spec, (SELECT count(image_segment) FROM tasks) AS refs, (SELECT sum(image_length) FROM tasks) AS bytes",
    );
    assert.deepEqual({ n: stored.n, refs: stored.refs }, { n: 0, refs: 2 }, 'nothing in task_blobs; both rows point into the log');
    // Each task's images packed (a 4-byte length before each), written once, each batch from a page of its own.
    assert.equal(stored.bytes, 4 + 10_240 + 4 + 6 + 4 + 10_240);
    assert.ok(logged() >= stored.bytes && logged() < stored.bytes + 4096, `the log holds them once: ${logged()} bytes`);
    assert.ok(stored.spec < 200, `the image task's spec is small: ${stored.spec} characters`);
    assert.equal(read<{ n: number }>('SELECT count(*) AS n FROM task_specs').n, 1, 'the 2 000-character text goes to task_specs');
    for (const [type, s] of [
      ['image', spec],
      ['grid', grid],
    ] as const) {
      const lease = await storage.leaseTask([type], now, 1000);
      assert.ok(lease);
      assert.deepEqual(lease.spec, s);
      await storage.failTask(lease, { code: 'ERROR_CAPTCHA_UNSOLVABLE', expiresAt: now + 1 });
    }
    assert.equal((await storage.sweep(now + 2, { resultTtlMs: 1, banWindowMs: 1 })).expired, 2);
    assert.equal(read<{ n: number }>('SELECT (SELECT count(*) FROM task_blobs) + (SELECT count(*) FROM task_specs) AS n').n, 0, 'deleted with their tasks');
  } finally {
    await storage.close();
  }
});

test('sqlite: a task solved while its admission waits for the disk reads as solved (the cache is not overwritten)', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const storage = new SqliteStorage({ file: join(dir, 'race.db') });
  try {
    const account = await storage.createAccount({ keyHash: 'h', keyHint: 'abc…', threads: 5, balanceMicros: 0, proxiesAllowed: false, createdAt: 0 });
    const now = Date.now();
    const spec = { type: 'turnstile', sitekey: '0x4AAAAAAArace', pageurl: 'https://example.com/' } as TaskSpec;
    const admitted = storage.admitTask({ id: '1234567890123456', accountId: account.id, spec, createdAt: now, deadlineAt: now + 60_000 }, 5, now);
    // The admission's transaction runs in this turn's check phase; its fsync ends later.
    await new Promise((resolve) => setImmediate(resolve));
    const lease = await storage.leaseTask(['turnstile'], now, 1000);
    assert.ok(lease, 'committed, so a worker can lease it before the fsync ends');
    assert.equal(
      await storage.completeTask(lease, { solution: { kind: 'text', text: 'ANSWER' }, priceMicros: 0, expiresAt: now + 60_000, solver: 'sandbox' }, now),
      true,
    );
    assert.deepEqual(await admitted, { kind: 'admitted' });
    assert.equal((await storage.getTasks(account.id, [lease.id], now)).get(lease.id)?.state, 'solved');
  } finally {
    await storage.close();
  }
});

test('sqlite: checkpoints run off the committing thread, and under steady writes the log still restarts', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'checkpoints.db');
  // Small numbers so that a second of writes shows every step: the worker's passive checkpoints,
  // sooner once the log is past catchUpPages, and this thread finishing one when the log is four
  // times that (a worker this slow is outrun).
  const storage = new SqliteStorage({ file, checkpoints: { intervalMs: 20, catchUpPages: 50 } });
  try {
    // The WAL header's checkpoint sequence number (bytes 12-15) goes up each time the log restarts.
    const restarts = (): number => {
      const fd = openSync(`${file}-wal`, 'r');
      try {
        const header = Buffer.alloc(16);
        readSync(fd, header, 0, 16, 0);
        return header.readUInt32BE(12);
      } finally {
        closeSync(fd);
      }
    };
    const spec: TaskSpec = { type: 'turnstile', sitekey: '0x4AAAAAAAAAAAAAAAAAAAAA', pageurl: 'https://example.com/' };
    const accounts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        storage.createAccount({ keyHash: `h${i}`, keyHint: 'x', threads: 1, balanceMicros: 0, proxiesAllowed: false, createdAt: 0 }),
      ),
    );
    const startedAt = restarts();
    let largestLog = 0;
    const end = Date.now() + 1500;
    await Promise.all(
      accounts.map(async (account) => {
        while (Date.now() < end) {
          const now = Date.now();
          const outcome = await storage.admitTask(
            { id: storage.newTaskId(), accountId: account.id, spec, createdAt: now, deadlineAt: now + 60_000 },
            1_000_000,
            now,
          );
          assert.equal(outcome.kind, 'admitted');
          largestLog = Math.max(largestLog, statSync(`${file}-wal`).size);
        }
      }),
    );
    const counts = storage.diagnostics().checkpoints as { checkpoints: number; catchUps: number };
    assert.ok(counts.checkpoints >= 5, `worker checkpoints: ${counts.checkpoints}`);
    assert.ok(counts.catchUps >= 1, `catch-ups: ${counts.catchUps}`);
    assert.ok(restarts() - startedAt >= 2, `log restarts: ${restarts() - startedAt}`);
    assert.ok(largestLog < 16 * 1024 * 1024, `largest log: ${largestLog} bytes`);
  } finally {
    await storage.close();
  }
});

test('sqlite: a sweep of more tasks than one chunk ends them all, in chunks with requests let in between', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const storage = new SqliteStorage({ file: join(dir, 'sweep.db') });
  try {
    const account = await storage.createAccount({ keyHash: 'h', keyHint: 'x', threads: 5000, balanceMicros: 0, proxiesAllowed: false, createdAt: 0 });
    const spec: TaskSpec = { type: 'turnstile', sitekey: '0x4AAAAAAAAAAAAAAAAAAAAA', pageurl: 'https://example.com/' };
    const admitted = await Promise.all(
      Array.from({ length: 1234 }, () => storage.admitTask({ id: storage.newTaskId(), accountId: account.id, spec, createdAt: 0, deadlineAt: 1000 }, 5000, 0)),
    );
    assert.ok(admitted.every((o) => o.kind === 'admitted'));
    let between = 0;
    const ticker = setInterval(() => between++, 0);
    const overdue = await storage.sweep(1000, { resultTtlMs: 10, banWindowMs: 1 });
    clearInterval(ticker);
    assert.deepEqual(overdue, { overdue: 1234, expired: 0, stalled: 0 });
    assert.ok(between >= 1, 'timers ran between the chunks');
    assert.deepEqual(await storage.sweep(1010, { resultTtlMs: 10, banWindowMs: 1 }), { overdue: 0, expired: 1234, stalled: 0 });
  } finally {
    await storage.close();
  }
});
