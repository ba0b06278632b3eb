/**
 * The image log (src/storage/sqlite/image-log.ts) through SqliteStorage: images round-trip from
 * segment files, segments roll over and are deleted once unused, a record cut short by a crash
 * drops only its own (never acknowledged) task, and a database of the release before, whose
 * images are in task_blobs, keeps them.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { TaskSpec } from '@solvebox/protocol';
import { hashApiKey } from '../src/identity.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function newFile(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, 'solvebox.db');
}

const HINTS = { phrase: false, caseSensitive: false, numeric: 0, calc: false, minLength: 0, maxLength: 0, language: 0 };
/** A 10 kB "image" whose bytes say which task it is. */
function imageSpec(n: number): TaskSpec {
  return { type: 'image', image: new Uint8Array(10_240).map((_, i) => (i * 7 + n * 13) & 0xff), format: 'png', hints: HINTS } as unknown as TaskSpec;
}
const segments = (file: string): string[] => readdirSync(`${file}-images`).sort();

async function admitImages(storage: SqliteStorage, accountId: number, count: number, now: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const id = storage.newTaskId();
    // One batch each, in order: createdAt orders the queue.
    const outcome = await storage.admitTask({ id, accountId, spec: imageSpec(n), createdAt: now + n, deadlineAt: now + 60_000 }, 100, now + n);
    assert.deepEqual(outcome, { kind: 'admitted' });
    ids.push(id);
  }
  return ids;
}

async function newAccount(storage: SqliteStorage): Promise<number> {
  return (await storage.createAccount({ keyHash: `h${Math.random()}`, keyHint: 'abc…', threads: 100, balanceMicros: 0, proxiesAllowed: false, createdAt: 0 }))
    .id;
}

test('sqlite: the image log starts a new segment at its size, and deletes one once no task refers to it', async () => {
  const file = newFile();
  // Two 10 kB records fit a segment; the third starts the next.
  const storage = new SqliteStorage({ file, imageSegmentBytes: 25_000 });
  try {
    const account = await newAccount(storage);
    const now = Date.now();
    const ids = await admitImages(storage, account, 6, now);
    assert.equal(segments(file).length, 3);
    const later = now + 100;
    for (let n = 0; n < 6; n++) {
      const lease = await storage.leaseTask(['image'], later, 1000);
      assert.ok(lease);
      assert.equal(lease.id, ids[n]);
      assert.deepEqual(lease.spec, imageSpec(n), `task ${n} reads its own image`);
      // The first segment's two tasks end first; the rest stay until later.
      await storage.failTask(lease, { code: 'ERROR_CAPTCHA_UNSOLVABLE', expiresAt: n < 2 ? later + 1 : later + 10 });
    }
    assert.equal((await storage.sweep(later + 2, { resultTtlMs: 1, banWindowMs: 1 })).expired, 2);
    assert.deepEqual(segments(file), ['00000002.images', '00000003.images'], 'the first segment went with its last task');
    assert.equal((await storage.sweep(later + 11, { resultTtlMs: 1, banWindowMs: 1 })).expired, 4);
    assert.deepEqual(segments(file), ['00000003.images'], 'the segment still written to stays');
  } finally {
    await storage.close();
  }
});

test('sqlite: a task whose image a crash cut short is dropped on opening; the others keep theirs, and new ones go to a new segment', async () => {
  const file = newFile();
  let storage = new SqliteStorage({ file });
  const account = await newAccount(storage);
  const now = Date.now();
  const ids = await admitImages(storage, account, 3, now);
  await storage.close();
  // As if the last record had not reached the disk when the power went.
  const [segment] = segments(file);
  const path = join(`${file}-images`, segment!);
  truncateSync(path, statSync(path).size - 100);

  storage = new SqliteStorage({ file });
  try {
    const found = await storage.getTasks(account, ids, now);
    assert.deepEqual([...found.keys()].sort(), ids.slice(0, 2).sort(), 'the third task, never acknowledged, is gone');
    for (let n = 0; n < 2; n++) {
      const lease = await storage.leaseTask(['image'], now + 10, 1000);
      assert.deepEqual(lease?.spec, imageSpec(n));
    }
    assert.equal(await storage.leaseTask(['image'], now + 10, 1000), undefined);
    await admitImages(storage, account, 1, now);
    assert.equal(segments(file).length, 2, 'a segment of an earlier run is never appended to');
  } finally {
    await storage.close();
  }
});

test('a database made by the release before the image log keeps its images, and stores new ones in the log', async () => {
  const file = newFile();
  copyFileSync(new URL('../../test/fixtures/schema-10.sqlite', import.meta.url), file);
  const fixture = { key: 'abcdef0123456789abcdef0123456789', id: '5079496105828637' };
  const png = readFileSync(new URL('../../../ocr/test/fixtures/captchapng-1.png', import.meta.url));
  const storage = new SqliteStorage({ file });
  try {
    const account = await storage.findAccount({ keyHash: hashApiKey(fixture.key) });
    assert.ok(account);
    const now = Date.now();
    assert.equal((await storage.getTasks(account.id, [fixture.id], now)).get(fixture.id)?.state, 'queued');
    const lease = await storage.leaseTask(['image'], now, 1000);
    assert.equal(lease?.id, fixture.id);
    assert.deepEqual(Buffer.from((lease.spec as { image: Uint8Array }).image), png, 'its image, from task_blobs');

    const [fresh] = await admitImages(storage, account.id, 1, now);
    assert.equal(segments(file).length, 1, 'a new task’s image goes to the log');
    const next = await storage.leaseTask(['image'], now + 10, 1000);
    assert.equal(next?.id, fresh);
    assert.deepEqual(next?.spec, imageSpec(0));
  } finally {
    await storage.close();
  }
});

test('sqlite: opening the store while a server writes images (an admin command) drops none of its tasks', async () => {
  const file = newFile();
  const setup = new SqliteStorage({ file });
  const account = await newAccount(setup);
  await setup.close();
  // The "server": another thread admitting image tasks one after another until told to stop.
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    let stop = false;
    parentPort.once('message', () => (stop = true));
    (async () => {
      const { SqliteStorage } = await import(workerData.module);
      const storage = new SqliteStorage({ file: workerData.file });
      const ids = [];
      const image = new Uint8Array(10_240).fill(7);
      const hints = { phrase: false, caseSensitive: false, numeric: 0, calc: false, minLength: 0, maxLength: 0, language: 0 };
      while (!stop) {
        const id = storage.newTaskId();
        const now = Date.now();
        const outcome = await storage.admitTask({ id, accountId: workerData.account, spec: { type: 'image', image, format: 'png', hints }, createdAt: now, deadlineAt: now + 60_000 }, 1e9, now);
        if (outcome.kind === 'admitted') ids.push(id);
        if (ids.length === 1) parentPort.postMessage('writing');
      }
      await storage.close();
      parentPort.postMessage(ids);
    })();
    `,
    { eval: true, workerData: { file, account, module: new URL('../src/storage/sqlite/index.js', import.meta.url).href } },
  );
  await once(worker, 'message');
  // Counted in openings, not in time: a loaded machine opens the store more slowly.
  const OPENINGS = 20;
  for (let opened = 0; opened < OPENINGS; opened++) {
    await new SqliteStorage({ file }).close();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const done = once(worker, 'message');
  worker.postMessage('stop');
  const [ids] = (await done) as [string[]];
  assert.ok(ids.length > OPENINGS, `${ids.length} tasks admitted while the store was opened ${OPENINGS} times`);
  const storage = new SqliteStorage({ file });
  try {
    const found = await storage.getTasks(account, ids, Date.now());
    assert.equal(found.size, ids.length, 'every admitted task is still there');
  } finally {
    await storage.close();
  }
});
