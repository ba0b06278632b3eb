/**
 * Task ids on SQLite: tasks stored under sequential keys, published as keyed permutations of them
 * (identity.ts TaskIdCipher, storage/sqlite/task-ids.ts). The ids must stay unguessable without
 * the database's secret, never repeat across restarts, and tasks of a database made by the release
 * before (random ids as keys) must stay pollable.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { canonicalTaskId, halfSipHash, ID_FLOOR, TaskIdCipher } from '../src/identity.js';
import { SqliteStorage } from '../src/storage/sqlite/index.js';
import { MIGRATIONS } from '../src/storage/sqlite/schema.js';
import { getQuery, result, startTestServer, submitOk, tempDir, turnstile, waitForResult } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const newDir = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};

test('HalfSipHash-2-4 gives the reference implementation’s outputs', () => {
  // vectors_hsip32[8] of the reference (key 00..07, message 00..07), and values printed by its
  // halfsiphash.c for the key 0f 1e 2d 3c 4b 5a 69 78 and messages (round, x) as two LE words.
  assert.equal(halfSipHash(0x03020100, 0x07060504, 0x03020100, 0x07060504), 2407839952);
  const k0 = 0x3c2d1e0f;
  const k1 = 0x78695a4b;
  assert.deepEqual(
    [0, 1, 2, 0x3ffffff, 12345678].map((x) => halfSipHash(k0, k1, 0, x)),
    [3994988106, 249614484, 3333391670, 1833289793, 3844833348],
  );
  assert.deepEqual(
    [0, 1, 2, 0x3ffffff, 12345678].map((x) => halfSipHash(k0, k1, 2, x)),
    [713231675, 2319918139, 3019420132, 1764314562, 3225248701],
  );
});

test('the cipher is a permutation: ids are canonical, distinct, and decode to their sequence number', () => {
  const cipher = new TaskIdCipher(Buffer.from('00112233445566778899aabbccddeeff', 'hex').subarray(0, 8));
  const seen = new Set<string>();
  for (let seq = 0; seq < 50_000; seq++) {
    const id = cipher.idOf(seq);
    assert.equal(canonicalTaskId(id), id, id);
    assert.equal(cipher.seqOf(id), seq);
    seen.add(id);
  }
  assert.equal(seen.size, 50_000);
  for (const seq of [2 ** 52 - 1, 2 ** 40 + 3, 999_999_999_999_999]) assert.equal(cipher.seqOf(cipher.idOf(seq)), seq);
  assert.equal(cipher.seqOf(String(ID_FLOOR + 2 ** 52)), undefined, 'above the permuted range');
});

test('ids tell nothing of their order, and nothing without the secret', () => {
  const ids = (secret: string) => {
    const cipher = new TaskIdCipher(Buffer.from(secret, 'hex'));
    return Array.from({ length: 20_000 }, (_, seq) => Number(cipher.idOf(seq)) - ID_FLOOR);
  };
  const a = ids('0123456789abcdef');
  const b = ids('0123456789abcdee'); // one bit of the secret changed

  // Consecutive ids rise or fall as often as chance says, and no step between them repeats: an
  // attacker who saw their own ids can step to no one else's.
  const rises = a.slice(1).filter((x, i) => x > (a[i] as number)).length;
  assert.ok(Math.abs(rises / (a.length - 1) - 0.5) < 0.03, `rises ${rises}`);
  const steps = new Set(a.slice(1).map((x, i) => x - (a[i] as number)));
  assert.equal(steps.size, a.length - 1, 'every step between consecutive ids differs');

  // Every bit is set about half the time, in either low or high half of the 52 bits.
  for (let bit = 0; bit < 52; bit++) {
    const set = a.filter((x) => Math.floor(x / 2 ** bit) % 2 === 1).length / a.length;
    assert.ok(Math.abs(set - 0.5) < 0.03, `bit ${bit} set in ${set}`);
  }

  // Another secret gives unrelated ids for the same sequence: none shared, and the two agree on a
  // bit about half the time, as independent ids would.
  const inA = new Set(a);
  assert.equal(b.filter((x) => inA.has(x)).length, 0);
  let agree = 0;
  for (const [i, x] of a.entries())
    for (let bit = 0; bit < 52; bit += 13) agree += Math.floor(x / 2 ** bit) % 2 === Math.floor((b[i] as number) / 2 ** bit) % 2 ? 1 : 0;
  assert.ok(Math.abs(agree / (a.length * 4) - 0.5) < 0.03, `agree ${agree}`);
});

test('sqlite: ids never repeat across restarts, even when the process dies without closing', async () => {
  const file = join(newDir(), 'ids.db');
  const first = new SqliteStorage({ file });
  const before = Array.from({ length: 5000 }, () => first.newTaskId());
  // A second process opening the file, as a restart after a SIGKILL would (the first never closes).
  const second = new SqliteStorage({ file });
  const afterRestart = Array.from({ length: 5000 }, () => second.newTaskId());
  const all = new Set([...before, ...afterRestart]);
  assert.equal(all.size, 10_000);
  for (const id of all) assert.equal(canonicalTaskId(id), id);
  await second.close();
  await first.close();
  const third = new SqliteStorage({ file });
  assert.ok(!all.has(third.newTaskId()));
  await third.close();
});

test('sqlite: a new id that equals a remaining random-id task of the release before is skipped', async () => {
  const file = join(newDir(), 'collide.db');
  const secret = '0011223344556677';
  const expected = new TaskIdCipher(Buffer.from(secret, 'hex'));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS) db.exec(migration);
  db.pragma(`user_version = ${MIGRATIONS.length}`);
  db.prepare("INSERT INTO settings (name, value) VALUES ('task_id_secret', ?)").run(secret);
  db.prepare("INSERT INTO accounts (id, key_hash, key_hint, threads, balance_micros, proxies_allowed, created_at) VALUES (1, 'h', 'abc…', 5, 0, 1, 0)").run();
  // The task an older release stored under its random id, which is the id sequence number 1 gets.
  const taken = expected.idOf(1);
  db.prepare(
    "INSERT INTO tasks (id, account_id, type, state, spec, available_at, deadline_at, created_at) VALUES (?, 1, 'turnstile', 'queued', '{}', 0, ?, 0)",
  ).run(Number(taken), Date.now() + 60_000);
  db.close();

  const storage = new SqliteStorage({ file });
  try {
    const id = storage.newTaskId();
    assert.notEqual(id, taken);
    assert.equal(id, expected.idOf(2));
    assert.equal((await storage.getTasks(1, [taken], Date.now())).get(taken)?.state, 'queued', 'the old task is found under its id');
  } finally {
    await storage.close();
  }
});

/**
 * `fixtures/schema-8.sqlite` was made by the release before sequential ids (commit 72e0cca, schema 8)
 * with `fixtures/make-schema-8.mjs`: one account, a solved, a failed, a queued token task and a
 * queued image task, all under random ids, results kept for ten years.
 */
const FIXTURE = {
  key: '0123456789abcdef0123456789abcdef',
  ids: { solved: '8274330403242540', failed: '5671990125468386', image: '1627343019561744', queued: '1117938089679153' },
};

test('a database made by the release before moves forward: its tasks answer polls, reports and solving as before', async () => {
  const dir = newDir();
  copyFileSync(new URL('../../test/fixtures/schema-8.sqlite', import.meta.url), join(dir, 'solvebox.db'));
  const t = await startTestServer({}, {}, dir);
  const old = { url: t.url, key: FIXTURE.key };
  try {
    assert.equal(await result(old, FIXTURE.ids.solved), 'OK|FIXTURE.TOKEN');
    assert.equal(await result(old, FIXTURE.ids.failed), 'ERROR_CAPTCHA_UNSOLVABLE');
    // The queued ones were waiting when the old release stopped: this one solves them.
    assert.match(await waitForResult(old, FIXTURE.ids.queued), /^OK\|/);
    assert.match(await waitForResult(old, FIXTURE.ids.image), /^OK\|/);
    assert.equal((await getQuery(t.url, '/res.php', { key: FIXTURE.key, action: 'reportgood', id: FIXTURE.ids.solved })).body, 'OK_REPORT_RECORDED');
    assert.equal(await result(t, FIXTURE.ids.solved), 'ERROR_WRONG_CAPTCHA_ID', 'still only its own account’s');

    // New tasks get sequence-backed ids beside them.
    const fresh = await submitOk(old, turnstile());
    assert.ok(!Object.values(FIXTURE.ids).includes(fresh));
    assert.match(await waitForResult(old, fresh), /^OK\|/);
    const row = new Database(t.dbFile, { readonly: true });
    try {
      const keys = (row.prepare('SELECT id FROM tasks ORDER BY id').pluck().all() as number[]).map(String);
      assert.equal(keys.filter((k) => Number(k) < ID_FLOOR).length, 1, 'the new task is stored under a sequence number');
      assert.deepEqual(keys.filter((k) => Number(k) >= ID_FLOOR).sort(), Object.values(FIXTURE.ids).sort(), 'the old ones under their ids');
    } finally {
      row.close();
    }
  } finally {
    await t.close();
  }
});
