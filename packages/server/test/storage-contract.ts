/**
 * The Storage contract, run against every adapter: the same calls with the same `now` must give
 * the same outcomes. Time is passed in, so these tests control it exactly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Solution, TaskSpec } from '@solvebox/protocol';
import type { NewTask, Storage } from '../src/storage/types.js';
import { canonicalTaskId } from '../src/identity.js';

const T0 = 1_800_000_000_000;
const POLICY = { maxFailures: 3, windowMs: 60_000, banMs: 300_000 };
const SWEEP = { resultTtlMs: 900_000, banWindowMs: 60_000 };
const LEASE = 30_000;
const TOKEN: Solution = { kind: 'text', text: 'token' };
const ADMITTED = { kind: 'admitted' };
const NO_THREAD = { kind: 'no-free-thread' };
const SPEC: TaskSpec = { type: 'turnstile', sitekey: '0x4AAA', pageurl: 'https://example.com/' };
const IMAGE: TaskSpec = {
  type: 'image',
  image: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 255]),
  format: 'png',
  hints: { phrase: false, caseSensitive: true, numeric: 1, calc: false, minLength: 4, maxLength: 6, language: 0, instructions: 'hint' },
};

/** The storage under test: task ids are the storage's to make (newTaskId). */
let current: Storage;
const task = (accountId: number, overrides: Partial<NewTask> = {}): NewTask => ({
  id: current.newTaskId(),
  accountId,
  spec: SPEC,
  createdAt: T0,
  deadlineAt: T0 + 90_000,
  ...overrides,
});

export function storageContract(name: string, open: () => Promise<{ storage: Storage; reopen?: () => Promise<Storage> }>): void {
  describe(`storage contract: ${name}`, () => {
    const withStorage = (fn: (s: Storage, reopen?: () => Promise<Storage>) => Promise<void>) => async () => {
      const { storage, reopen } = await open();
      current = storage;
      try {
        await fn(storage, reopen);
      } finally {
        await storage.close();
      }
    };
    const account = async (s: Storage, threads = 2, keyHash = `hash-${Math.random()}`) =>
      s.createAccount({ keyHash, keyHint: 'abc…', threads, balanceMicros: 5_000_000, proxiesAllowed: true, createdAt: T0 });

    test(
      'accounts: create, find by key hash or id, list, disable',
      withStorage(async (s) => {
        const a = await account(s, 3, 'h1');
        assert.equal(a.threads, 3);
        assert.equal(a.balanceMicros, 5_000_000);
        assert.equal(a.disabled, false);
        assert.deepEqual(await s.findAccount({ keyHash: 'h1' }), a);
        assert.deepEqual(await s.findAccount({ id: a.id }), a);
        assert.equal(await s.findAccount({ keyHash: 'nope' }), undefined);
        assert.equal(a.keyHash, 'h1', 'the hash is handed out: pingbacks are signed with it');
        await assert.rejects(account(s, 1, 'h1'), 'a key hash is unique');
        assert.equal(await s.setAccountDisabled(a.id, true), true);
        assert.equal((await s.findAccount({ keyHash: 'h1' }))?.disabled, true);
        assert.equal(await s.setAccountDisabled(999_999, true), false);
        assert.equal((await s.listAccounts()).length, 1);
      }),
    );

    test(
      'bans: the Nth failure within the window bans the IP until the ban ends',
      withStorage(async (s) => {
        assert.equal(await s.recordAuthFailure('1.1.1.1', T0, POLICY), undefined);
        assert.equal(await s.recordAuthFailure('1.1.1.1', T0 + 1, POLICY), undefined);
        assert.equal(await s.recordAuthFailure('2.2.2.2', T0 + 1, POLICY), undefined);
        assert.equal(await s.banExpiry('1.1.1.1', T0 + 2), undefined);
        assert.equal(await s.recordAuthFailure('1.1.1.1', T0 + 2, POLICY), T0 + 2 + POLICY.banMs);
        assert.equal(await s.banExpiry('1.1.1.1', T0 + 3), T0 + 2 + POLICY.banMs);
        assert.equal(await s.banExpiry('2.2.2.2', T0 + 3), undefined);
        assert.equal(await s.banExpiry('1.1.1.1', T0 + 2 + POLICY.banMs), undefined);
      }),
    );

    test(
      'bans: failures older than the window do not count',
      withStorage(async (s) => {
        await s.recordAuthFailure('1.1.1.1', T0, POLICY);
        await s.recordAuthFailure('1.1.1.1', T0 + 1, POLICY);
        assert.equal(await s.recordAuthFailure('1.1.1.1', T0 + POLICY.windowMs + 1, POLICY), undefined);
        await s.sweep(T0 + POLICY.windowMs + 2, SWEEP);
        assert.equal(await s.recordAuthFailure('1.1.1.1', T0 + POLICY.windowMs + 3, POLICY), undefined);
        assert.notEqual(await s.recordAuthFailure('1.1.1.1', T0 + POLICY.windowMs + 4, POLICY), undefined);
      }),
    );

    test(
      'task ids: canonical 16-digit ids, never the same twice, each finding its task',
      withStorage(async (s) => {
        const a = await account(s, 100);
        const ids = Array.from({ length: 1000 }, () => s.newTaskId());
        assert.equal(new Set(ids).size, ids.length);
        for (const id of ids) assert.equal(canonicalTaskId(id), id);
        const tasks = ids.slice(0, 20).map((id) => task(a.id, { id }));
        for (const t of tasks) assert.deepEqual(await s.admitTask(t, 100, T0), ADMITTED);
        const found = await s.getTasks(a.id, ids.slice(0, 25), T0);
        assert.deepEqual([...found.keys()].sort(), ids.slice(0, 20).sort());
      }),
    );

    test(
      'admission holds a thread per unfinished task; finishing or failing releases it',
      withStorage(async (s) => {
        const a = await account(s, 2);
        const first = task(a.id);
        assert.deepEqual(await s.admitTask(first, 2, T0), ADMITTED);
        // Leases go oldest first; tasks of one moment go in any order.
        assert.deepEqual(await s.admitTask(task(a.id, { createdAt: T0 + 1 }), 2, T0), ADMITTED);
        assert.deepEqual(await s.admitTask(task(a.id), 2, T0), NO_THREAD);
        assert.deepEqual(await s.admitTask(first, 5, T0), { kind: 'duplicate-id' });
        // Other accounts have their own threads.
        const b = await account(s, 1);
        assert.deepEqual(await s.admitTask(task(b.id, { createdAt: T0 + 1 }), 1, T0), ADMITTED);

        const lease = await s.leaseTask(['turnstile'], T0 + 1, LEASE);
        assert.ok(lease);
        assert.equal(lease.id, first.id, 'oldest first');
        assert.equal(lease.attempt, 1);
        assert.equal(await s.completeTask(lease, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 1_000, solver: 'sandbox' }, T0 + 2), true);
        assert.deepEqual(await s.admitTask(task(a.id), 2, T0 + 3), ADMITTED);
        assert.deepEqual(await s.admitTask(task(a.id), 2, T0 + 3), NO_THREAD);

        const second = await s.leaseTask(['turnstile'], T0 + 4, LEASE);
        assert.ok(second);
        assert.equal(await s.failTask(second, { code: 'ERROR_CAPTCHA_UNSOLVABLE', expiresAt: T0 + 1_000 }, T0 + 5), 'failed');
        assert.deepEqual(await s.admitTask(task(a.id), 2, T0 + 6), ADMITTED);
      }),
    );

    test(
      'admissions sent at once (one batch) are judged in order, as one after another would be',
      withStorage(async (s) => {
        const a = await account(s, 4);
        const b = await account(s, 1);
        const first = task(a.id);
        const image = task(a.id, { spec: IMAGE, createdAt: T0 + 1 });
        const keyed = task(b.id, { idempotencyKey: 'k' });
        const outcomes = await Promise.all([
          s.admitTask(first, 4, T0),
          s.admitTask(image, 4, T0),
          s.admitTask(first, 4, T0),
          s.admitTask(image, 4, T0),
          s.admitTask(keyed, 1, T0),
          s.admitTask(task(b.id, { idempotencyKey: 'k' }), 1, T0),
          s.admitTask(task(a.id), 4, T0),
          s.admitTask(task(a.id), 4, T0),
          s.admitTask(task(a.id), 4, T0),
          s.admitTask(task(b.id), 1, T0),
        ]);
        assert.deepEqual(outcomes, [
          ADMITTED,
          ADMITTED,
          { kind: 'duplicate-id' },
          { kind: 'duplicate-id' },
          ADMITTED,
          { kind: 'replayed', id: keyed.id },
          ADMITTED,
          ADMITTED,
          NO_THREAD,
          NO_THREAD,
        ]);
        const lease = await s.leaseTask(['image'], T0 + 2, LEASE);
        assert.equal(lease?.id, image.id);
        assert.deepEqual(lease?.spec, IMAGE, 'the image stored once, whole, although its id came twice');
      }),
    );

    test(
      'idempotency keys: a repeated key replays the first task, even with every thread busy, until it expires',
      withStorage(async (s) => {
        const a = await account(s, 1);
        const b = await account(s, 1);
        const first = task(a.id, { idempotencyKey: 'k1' });
        assert.deepEqual(await s.admitTask(first, 1, T0), ADMITTED);
        assert.deepEqual(await s.admitTask(task(a.id, { idempotencyKey: 'k1' }), 1, T0 + 1), { kind: 'replayed', id: first.id });
        assert.deepEqual(await s.admitTask(task(a.id, { idempotencyKey: 'k2' }), 1, T0 + 1), NO_THREAD);
        assert.deepEqual(await s.admitTask(task(b.id, { idempotencyKey: 'k1', createdAt: T0 + 1 }), 1, T0 + 1), ADMITTED, 'keys are per account');
        const lease = await s.leaseTask(['turnstile'], T0 + 2, LEASE);
        assert.ok(lease);
        await s.completeTask(lease, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 100, solver: 'sandbox' }, T0 + 3);
        assert.deepEqual(await s.admitTask(task(a.id, { idempotencyKey: 'k1' }), 1, T0 + 99), { kind: 'replayed', id: first.id });
        const later = task(a.id, { idempotencyKey: 'k1', createdAt: T0 + 100 });
        assert.deepEqual(await s.admitTask(later, 1, T0 + 100), ADMITTED, 'the key is free once the first task expired');
      }),
    );

    test(
      'an overdue task stops holding its thread and reads as ERROR_CAPTCHA_UNSOLVABLE, before and after the sweep',
      withStorage(async (s) => {
        const a = await account(s, 1);
        const t = task(a.id, { deadlineAt: T0 + 1_000 });
        assert.deepEqual(await s.admitTask(t, 1, T0), ADMITTED);
        assert.deepEqual(await s.admitTask(task(a.id), 1, T0 + 999), NO_THREAD);
        assert.equal((await s.getTasks(a.id, [t.id], T0 + 999)).get(t.id)?.state, 'queued');
        const late = (await s.getTasks(a.id, [t.id], T0 + 1_000)).get(t.id);
        assert.deepEqual(late, { id: t.id, type: 'turnstile', state: 'failed', errorCode: 'ERROR_CAPTCHA_UNSOLVABLE', createdAt: T0, attempts: 0 });
        assert.equal(await s.leaseTask(['turnstile'], T0 + 1_000, LEASE), undefined, 'overdue tasks are not leased');
        assert.deepEqual(await s.admitTask(task(a.id), 1, T0 + 1_000), ADMITTED);
        const swept = await s.sweep(T0 + 1_001, SWEEP);
        assert.equal(swept.overdue, 2 - 1, 'only the first task is overdue');
        assert.equal((await s.getTasks(a.id, [t.id], T0 + 1_002)).get(t.id)?.errorCode, 'ERROR_CAPTCHA_UNSOLVABLE');
      }),
    );

    test(
      "getTasks: only the account's own tasks, and nothing after the result expired",
      withStorage(async (s) => {
        const a = await account(s);
        const b = await account(s);
        const t = task(a.id);
        await s.admitTask(t, 2, T0);
        assert.equal((await s.getTasks(b.id, [t.id], T0)).size, 0);
        const lease = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.ok(lease);
        assert.equal((await s.getTasks(a.id, [t.id], T0)).get(t.id)?.state, 'active');
        await s.completeTask(lease, { solution: TOKEN, priceMicros: 1_500, expiresAt: T0 + 500, solver: 'sandbox' }, T0 + 10);
        assert.deepEqual((await s.getTasks(a.id, [t.id, '1234567890123456'], T0 + 499)).get(t.id), {
          id: t.id,
          type: 'turnstile',
          state: 'solved',
          solution: TOKEN,
          priceMicros: 1_500,
          createdAt: T0,
          attempts: 1,
          expiresAt: T0 + 500,
        });
        assert.equal((await s.getTasks(a.id, [t.id], T0 + 500)).size, 0);
        assert.equal((await s.sweep(T0 + 501, SWEEP)).expired, 1);
      }),
    );

    test(
      'completing debits the price from the balance',
      withStorage(async (s) => {
        const a = await account(s);
        await s.admitTask(task(a.id), 2, T0);
        const lease = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.ok(lease);
        await s.completeTask(lease, { solution: TOKEN, priceMicros: 1_250_000, expiresAt: T0 + 1_000, solver: 'sandbox' }, T0);
        assert.equal((await s.findAccount({ id: a.id }))?.balanceMicros, 3_750_000);
      }),
    );

    test(
      'leases: by type, due time and deadline; a stale lease cannot write an outcome',
      withStorage(async (s) => {
        const a = await account(s, 10);
        const image = task(a.id, {
          spec: IMAGE,
          proxy: { type: 'SOCKS5', host: 'p.example', port: 1080, login: 'u', password: 'p:w' },
          pingback: 'https://cb.example/x',
        });
        await s.admitTask(image, 10, T0);
        assert.equal(await s.leaseTask(['turnstile', 'userrecaptcha'], T0, LEASE), undefined);
        const lease = await s.leaseTask(['image'], T0, LEASE);
        assert.ok(lease);
        assert.deepEqual(lease.spec, IMAGE, 'image bytes and hints survive storage');
        assert.deepEqual(lease.proxy, image.proxy);
        assert.equal(lease.pingback, 'https://cb.example/x');
        assert.equal(await s.leaseTask(['image'], T0, LEASE), undefined, 'an active task is not leased twice');

        assert.equal(await s.failTask(lease, { retryAt: T0 + 100 }, T0), 'requeued');
        assert.equal(
          await s.completeTask(lease, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 1, solver: 'sandbox' }, T0),
          false,
          'the old lease is gone',
        );
        assert.equal(await s.leaseTask(['image'], T0 + 99, LEASE), undefined, 'not due yet');
        const again = await s.leaseTask(['image'], T0 + 100, LEASE);
        assert.ok(again);
        assert.equal(again.attempt, 2);
        assert.notEqual(again.leaseId, lease.leaseId);
        assert.equal(await s.failTask(lease, { code: 'ERROR_CAPTCHA_UNSOLVABLE', expiresAt: T0 + 1 }, T0), 'lease-lost');
        assert.equal(
          await s.completeTask(again, { solution: { kind: 'text', text: '1234' }, priceMicros: 0, expiresAt: T0 + 10_000, solver: 'sandbox' }, T0 + 101),
          true,
        );
        assert.equal(
          await s.completeTask(again, { solution: { kind: 'text', text: '5678' }, priceMicros: 0, expiresAt: T0 + 10_000, solver: 'sandbox' }, T0 + 102),
          false,
          'only once',
        );
        assert.deepEqual((await s.getTasks(a.id, [image.id], T0 + 103)).get(image.id)?.solution, { kind: 'text', text: '1234' });
      }),
    );

    test(
      'leases run out unless renewed: the sweep requeues the task, the attempt counts, and the old lease can write nothing',
      withStorage(async (s) => {
        await s.ping();
        const a = await account(s, 10);
        const t = task(a.id);
        await s.admitTask(t, 10, T0);
        const first = await s.leaseTask(['turnstile'], T0, 1_000);
        assert.ok(first);
        assert.equal(await s.renewLease(first, T0 + 900, 1_000), true);
        assert.equal((await s.sweep(T0 + 1_500, SWEEP)).stalled, 0, 'renewed until T0 + 1900');
        assert.equal((await s.sweep(T0 + 1_900, SWEEP)).stalled, 1);
        assert.equal(await s.renewLease(first, T0 + 1_901, 1_000), false, 'a lease that ran out is lost');
        assert.equal(await s.completeTask(first, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 10_000, solver: 'sandbox' }, T0 + 1_901), false);
        assert.equal((await s.getTasks(a.id, [t.id], T0 + 1_901)).get(t.id)?.state, 'queued');
        const second = await s.leaseTask(['turnstile'], T0 + 1_902, 1_000);
        assert.ok(second);
        assert.equal(second.id, t.id);
        assert.equal(second.attempt, 2, 'the lost attempt counts');
        assert.equal(await s.completeTask(second, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 10_000, solver: 'sandbox' }, T0 + 1_903), true);

        // Past its deadline, a task whose lease ran out is not requeued: it ends overdue.
        const late = task(a.id, { deadlineAt: T0 + 5_000 });
        await s.admitTask(late, 10, T0 + 2_000);
        assert.ok(await s.leaseTask(['turnstile'], T0 + 2_000, 1_000));
        assert.deepEqual(await s.sweep(T0 + 5_000, SWEEP), { overdue: 1, expired: 0, stalled: 0 });
        assert.equal((await s.getTasks(a.id, [late.id], T0 + 5_001)).get(late.id)?.errorCode, 'ERROR_CAPTCHA_UNSOLVABLE');
      }),
    );

    test(
      'release puts a task back without counting the attempt; recovery requeues every active task',
      withStorage(async (s, reopen) => {
        const a = await account(s, 10);
        const first = task(a.id, { createdAt: T0 - 1 });
        const second = task(a.id);
        await s.admitTask(first, 10, T0);
        await s.admitTask(second, 10, T0);
        const l1 = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.ok(l1);
        await s.releaseTask(l1);
        const again = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.equal(again?.id, first.id);
        assert.equal(again?.attempt, 1);
        const l2 = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.ok(l2);
        // A crash: nothing was released. After a restart (same data), recovery requeues both.
        const s2 = reopen ? await reopen() : s;
        try {
          assert.equal(await s2.recoverInFlight(), 2);
          const ids = [(await s2.leaseTask(['turnstile'], T0, LEASE))?.id, (await s2.leaseTask(['turnstile'], T0, LEASE))?.id].sort();
          assert.deepEqual(ids, [first.id, second.id].sort());
        } finally {
          if (s2 !== s) await s2.close();
        }
      }),
    );

    test(
      'reports: once per solved task',
      withStorage(async (s) => {
        const a = await account(s, 10);
        const b = await account(s, 10);
        const solved = task(a.id, { createdAt: T0 - 1 });
        const pending = task(a.id);
        await s.admitTask(solved, 10, T0);
        await s.admitTask(pending, 10, T0);
        const lease = await s.leaseTask(['turnstile'], T0, LEASE);
        assert.ok(lease);
        await s.completeTask(lease, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 1_000, solver: 'sandbox' }, T0);
        assert.equal(await s.recordReport(b.id, solved.id, 'bad', T0), 'not-found');
        assert.equal(await s.recordReport(a.id, pending.id, 'bad', T0), 'not-solved');
        assert.equal(await s.recordReport(a.id, solved.id, 'bad', T0), 'recorded');
        assert.equal(await s.recordReport(a.id, solved.id, 'good', T0), 'duplicate');
        assert.equal(await s.recordReport(a.id, solved.id, 'good', T0 + 1_000), 'not-found', 'expired');
      }),
    );

    test(
      'solver statistics: answers, failures, declines and reports count for the solver that had the task, and outlive it',
      withStorage(async (s) => {
        const a = await account(s, 10);
        const tasks = [task(a.id), task(a.id), task(a.id)];
        for (const t of tasks) await s.admitTask(t, 10, T0);
        const leases = [];
        for (let i = 0; i < 3; i++) leases.push(await s.leaseTask(['turnstile'], T0, LEASE));
        const [first, second, third] = leases;
        assert.ok(first && second && third);
        await s.completeTask(first, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 1_000, solver: 'ocr' }, T0);
        await s.completeTask(second, { solution: TOKEN, priceMicros: 2_500, expiresAt: T0 + 1_000, solver: 'sandbox' }, T0);
        await s.recordDecline('ocr');
        await s.failTask(third, { code: 'ERROR_CAPTCHA_UNSOLVABLE', expiresAt: T0 + 1_000, solver: 'ocr' }, T0);
        await s.recordDecline('ocr'); // a decline the fallback answered: not a failure of ocr
        assert.equal(await s.recordReport(a.id, first.id, 'bad', T0), 'recorded');
        assert.equal(await s.recordReport(a.id, second.id, 'good', T0), 'recorded');
        assert.equal(await s.recordReport(a.id, second.id, 'bad', T0), 'duplicate', 'a duplicate report is not counted');
        await s.sweep(T0 + 2_000, { resultTtlMs: 1_000, banWindowMs: 1_000 });
        assert.deepEqual(await s.solverStats(), [
          { solver: 'ocr', solved: 1, failed: 1, declined: 2, reportedGood: 0, reportedBad: 1, chargedMicros: 0 },
          { solver: 'sandbox', solved: 1, failed: 0, declined: 0, reportedGood: 1, reportedBad: 0, chargedMicros: 2_500 },
        ]);
      }),
    );

    test(
      'marks: a bad proxy or pair is remembered until its time ends',
      withStorage(async (s) => {
        const proxy = { kind: 'proxy', proxy: { type: 'HTTP', host: '1.2.3.4', port: 80 } } as const;
        const pair = { kind: 'pair', type: 'turnstile', sitekey: '0x4AAA', pageurl: 'https://example.com/' } as const;
        await s.markBad(proxy, T0 + 100, T0);
        assert.equal(await s.isMarkedBad(proxy, T0), true);
        assert.equal(await s.isMarkedBad({ ...proxy, proxy: { ...proxy.proxy, port: 81 } }, T0), false);
        assert.equal(await s.isMarkedBad(pair, T0), false);
        assert.equal(await s.isMarkedBad(proxy, T0 + 100), false);
        await s.markBad(proxy, T0 + 200, T0 + 100);
        await s.markBad(pair, T0 + 200, T0 + 100);
        assert.equal(await s.isMarkedBad(proxy, T0 + 150), true);
        assert.equal(await s.isMarkedBad(pair, T0 + 150), true);
        assert.equal(await s.isMarkedBad({ ...pair, type: 'userrecaptcha' }, T0 + 150), false, 'a pair is marked per task type');
        await s.sweep(T0 + 300, SWEEP);
        assert.equal(await s.isMarkedBad(proxy, T0 + 150), false, 'swept');
      }),
    );

    test(
      'the console: operators, the audit log, bans, account changes and queue depth',
      withStorage(async (s) => {
        const op = { name: 'ana', role: 'admin', passwordHash: 'scrypt$1$1$1$a$b', disabled: false, createdAt: T0 } as const;
        assert.equal(await s.createOperator(op), true);
        assert.equal(await s.createOperator({ ...op, role: 'solver' }), false, 'a name is unique');
        await s.createOperator({ ...op, name: 'ben', role: 'solver', createdAt: T0 + 1 });
        assert.deepEqual(await s.findOperator('ana'), op);
        assert.equal(await s.findOperator('nobody'), undefined);
        assert.equal(await s.setOperatorDisabled('ben', true), true);
        assert.equal(await s.setOperatorDisabled('nobody', true), false);
        assert.deepEqual(
          (await s.listOperators()).map((o) => [o.name, o.role, o.disabled]),
          [
            ['ana', 'admin', false],
            ['ben', 'solver', true],
          ],
        );

        await s.appendAudit({ at: T0, actor: 'ana', action: 'account.create', target: '1' });
        await s.appendAudit({ at: T0 + 1, actor: 'ana', action: 'ban.lift', target: '1.2.3.4', detail: 'why' });
        assert.deepEqual(await s.readAudit(10), [
          { at: T0 + 1, actor: 'ana', action: 'ban.lift', target: '1.2.3.4', detail: 'why' },
          { at: T0, actor: 'ana', action: 'account.create', target: '1' },
        ]);
        assert.equal((await s.readAudit(1)).length, 1);

        for (let i = 0; i < POLICY.maxFailures; i++) await s.recordAuthFailure('10.0.0.9', T0, POLICY);
        assert.deepEqual(await s.listBans(T0), [{ ip: '10.0.0.9', until: T0 + POLICY.banMs }]);
        assert.deepEqual(await s.listBans(T0 + POLICY.banMs), [], 'an ended ban is not listed');
        assert.equal(await s.liftBan('10.0.0.9'), true);
        assert.equal(await s.banExpiry('10.0.0.9', T0), undefined);
        assert.equal(await s.liftBan('10.0.0.9'), false);
        assert.equal(await s.recordAuthFailure('10.0.0.9', T0, POLICY), undefined, 'lifting also forgets the failures');

        const a = await account(s, 2);
        assert.equal(await s.updateAccount(a.id, { threads: 7, creditMicros: -1_500_000 }), true);
        assert.deepEqual([(await s.findAccount({ id: a.id }))?.threads, (await s.findAccount({ id: a.id }))?.balanceMicros], [7, 3_500_000]);
        assert.equal(await s.updateAccount(999_999, { threads: 1 }), false);

        await s.admitTask(task(a.id), 7, T0);
        await s.admitTask(task(a.id), 7, T0);
        await s.admitTask(task(a.id, { spec: IMAGE }), 7, T0);
        await s.leaseTask(['turnstile'], T0, LEASE);
        assert.deepEqual(await s.queueDepth(T0), { turnstile: { queued: 1, active: 1 }, image: { queued: 1, active: 0 } });
        await s.sweep(T0 + 90_000, SWEEP);
        assert.deepEqual(await s.queueDepth(T0 + 90_000), {}, 'tasks the sweep ended are no queue');
      }),
    );

    test(
      'the human desk: posting, one task per operator, each offered once, verdicts, leases, presence',
      withStorage(async (s) => {
        // The desk's leases are real time (Redis expires them itself).
        const desk = s.openDesk();
        const heard: [string, string][] = [];
        const stop = desk.onVerdict((id, verdict) => heard.push([id, verdict.kind]));
        try {
          const now = Date.now();
          const item = (taskId: string, spec: TaskSpec = IMAGE, postedAt = now) => ({ taskId, spec, postedAt, deadlineAt: now + 60_000 });
          await desk.post(item('t1'));
          await desk.post(item('t2', { type: 'textcaptcha', question: 'why?' }, now + 1));
          assert.equal(await desk.take('ana', ['grid'], now, 5_000), undefined, 'only the types asked for');
          const first = await desk.take('ana', ['image', 'textcaptcha'], now, 5_000);
          assert.equal(first?.taskId, 't1', 'the oldest first');
          assert.deepEqual(first?.spec, IMAGE, 'the image travels with the task');
          assert.equal((await desk.take('ana', ['image', 'textcaptcha'], now, 5_000))?.taskId, 't1', 'one task at a time');
          assert.equal((await desk.held('ana', now))?.taskId, 't1');
          assert.equal((await desk.take('ben', ['image', 'textcaptcha'], now, 5_000))?.taskId, 't2');
          assert.deepEqual(await desk.counts(now), { waiting: {}, leased: 2 });

          assert.equal(await desk.settle('t1', { kind: 'answer', operator: 'ben', solution: TOKEN }, now), false, 'only the holder answers');
          assert.equal(await desk.settle('t1', { kind: 'answer', operator: 'ana', solution: TOKEN }, now), true);
          assert.equal(await desk.release('t2', 'ben'), true);
          assert.equal(await desk.take('ben', ['textcaptcha'], now, 5_000), undefined, 'each task goes to each operator once');
          assert.equal((await desk.take('ana', ['textcaptcha'], now, 200))?.taskId, 't2');
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.equal(await desk.held('ana', Date.now()), undefined, 'the lease ran out');
          assert.equal(await desk.take('cy', ['textcaptcha'], Date.now(), 5_000).then((i) => i?.taskId), 't2', 'and the task is back for others');
          await desk.withdraw('t2');
          assert.deepEqual(await desk.counts(Date.now()), { waiting: {}, leased: 0 });
          const until = Date.now();
          for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
          assert.deepEqual(heard, [['t1', 'answer']]);

          await desk.present('ana', until + 10_000);
          await desk.present('ben', until + 10);
          assert.deepEqual((await desk.online(until)).sort(), ['ana', 'ben']);
          await desk.absent('ana');
          assert.deepEqual(await desk.online(until), ['ben']);
          assert.deepEqual(await desk.online(until + 10), [], "ben's presence ran out");
        } finally {
          stop();
          await desk.close();
        }
      }),
    );

    test(
      'samples: kept newest first up to a cap, replaced by id, dropped, purged; solved tasks read back',
      withStorage(async (s) => {
        const image = IMAGE.type === 'image' ? IMAGE.image : new Uint8Array();
        const sample = (id: string, at: number) =>
          ({
            id,
            image,
            hints: IMAGE.type === 'image' ? IMAGE.hints : ({} as never),
            answer: `a${id}`,
            source: 'operator',
            answeredBy: 'human:ana',
            at,
          }) as const;
        await s.keepSample(sample('1', T0), 3);
        await s.keepSample(sample('2', T0 + 1), 3);
        await s.keepSample(sample('3', T0 + 2), 3);
        await s.keepSample({ ...sample('1', T0 + 3), answer: 'again' }, 3);
        assert.deepEqual(
          (await s.listSamples(0, 10)).map((x) => [x.id, x.answer]),
          [
            ['2', 'a2'],
            ['3', 'a3'],
            ['1', 'again'],
          ],
          'oldest first; a sample kept again is the newest',
        );
        await s.keepSample(sample('4', T0 + 4), 3);
        assert.deepEqual(
          (await s.listSamples(0, 10)).map((x) => x.id),
          ['3', '1', '4'],
          'beyond the cap the oldest goes',
        );
        const [first] = await s.listSamples(0, 1);
        assert.deepEqual(first, { ...sample('3', T0 + 2) }, 'image bytes and hints come back as kept');
        assert.deepEqual(
          (await s.listSamples(1, 1)).map((x) => x.id),
          ['1'],
        );
        await s.dropSample('1');
        assert.equal(await s.countSamples(), 2);
        assert.equal(await s.purgeSamples(), 2);
        assert.equal(await s.countSamples(), 0);

        const a = await account(s);
        const t = task(a.id, { spec: IMAGE });
        await s.admitTask(t, 2, T0);
        const leased = await s.leaseTask(['image'], T0, LEASE);
        assert.equal(await s.solvedTask(a.id, t.id, T0), undefined, 'not solved yet');
        await s.completeTask(leased!, { solution: { kind: 'text', text: '1234' }, priceMicros: 0, expiresAt: T0 + 1000, solver: 'ocr' }, T0);
        assert.deepEqual(await s.solvedTask(a.id, t.id, T0), { spec: IMAGE, solution: { kind: 'text', text: '1234' }, solver: 'ocr' });
        assert.equal(await s.solvedTask(a.id + 1, t.id, T0), undefined, "another account's task");
        assert.equal(await s.solvedTask(a.id, t.id, T0 + 1000), undefined, 'expired');
      }),
    );

    test(
      'relay tickets live as long as their task; upstream spend adds up per upstream and day',
      withStorage(async (s) => {
        const a = await account(s);
        const t = task(a.id);
        await s.admitTask(t, 2, T0);
        assert.equal(await s.relayTicket(t.id), undefined);
        const leased = await s.leaseTask(['turnstile'], T0, LEASE);
        const ticket = { upstream: 'a', round: 1, key: 'key-1', submittedAt: T0, tried: [] };
        await s.saveRelayTicket(t.id, ticket);
        assert.deepEqual(await s.relayTicket(t.id), ticket);
        const withId = { ...ticket, round: 2, upstreamId: '4242', tried: ['b'] };
        await s.saveRelayTicket(t.id, withId);
        assert.deepEqual(await s.relayTicket(t.id), withId, 'replaced');
        await s.completeTask(leased!, { solution: TOKEN, priceMicros: 0, expiresAt: T0 + 500, solver: 'relay:a' }, T0);
        assert.deepEqual(await s.relayTicket(t.id), withId, 'kept while the task is readable: reports are forwarded with it');
        await s.sweep(T0 + 501, SWEEP);
        assert.equal(await s.relayTicket(t.id), undefined, 'gone with its task');

        assert.equal(await s.upstreamSpend('a', '2027-01-15'), 0);
        assert.equal(await s.addUpstreamSpend('a', '2027-01-15', 2_000), 2_000);
        assert.equal(await s.addUpstreamSpend('a', '2027-01-15', 1_500), 3_500);
        await s.addUpstreamSpend('b', '2027-01-15', 7);
        await s.addUpstreamSpend('a', '2027-01-16', 9);
        assert.deepEqual(
          [await s.upstreamSpend('a', '2027-01-15'), await s.upstreamSpend('b', '2027-01-15'), await s.upstreamSpend('a', '2027-01-16')],
          [3_500, 7, 9],
        );
      }),
    );
  });
}
