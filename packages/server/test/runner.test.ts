/**
 * The runner's decisions, on the memory storage with a clock and timers the test moves by hand
 * (node:test's mock timers) and solvers written for each case: the decline chain, the circuit
 * breaker, a lost lease, the deadline, and shutdown. Nothing here waits on a wall clock.
 */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { SolverDeclined, type Solution, type SolveContext, type Solver, type Task, type TaskSpec, type TaskType } from '@solvebox/protocol';
import { TaskRunner, type RunnerOptions } from '../src/solving/runner.js';
import { MemoryStorage } from '../src/storage/memory.js';
import type { TaskView } from '../src/storage/types.js';

const OPTIONS: RunnerOptions = {
  maxAttempts: 2,
  retryDelayMs: 100,
  circuitFailures: 3,
  circuitCooldownMs: 10_000,
  resultTtlMs: 60_000,
  badProxyTtlMs: 60_000,
  badPairTtlMs: 60_000,
  leaseMs: 3_000,
  idlePollMs: 50,
};
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
const TURNSTILE: TaskSpec = { type: 'turnstile', sitekey: '0x4AAA', pageurl: 'https://example.com/' } as TaskSpec;
const TOKEN: Solution = { kind: 'text', text: 'TOKEN' };

/** A solver whose every call is decided by `behave`, which sees the task and the abort signal. */
function solver(
  name: string,
  behave: (task: Task, ctx: SolveContext) => Promise<Solution>,
  types: readonly TaskType[] = ['turnstile'],
): Solver & { calls: number } {
  const s = {
    name,
    types,
    concurrency: 1,
    calls: 0,
    solve(task: Task, ctx: SolveContext) {
      s.calls += 1;
      return behave(task, ctx);
    },
  };
  return s;
}

/** Never answers; rejects when the runner aborts it, as a solver must. */
const hang = (_task: Task, ctx: SolveContext): Promise<Solution> =>
  new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));

interface Harness {
  readonly storage: MemoryStorage;
  readonly runner: TaskRunner;
  now: number;
  submit(deadlineMs?: number): Promise<string>;
  task(id: string): Promise<TaskView | undefined>;
  /** Moves the clock and the timers together, letting promises settle in between. */
  advance(ms: number): Promise<void>;
}

let nextId = 1_000_000_000_000_000;

async function harness(chain: readonly Solver[], options: Partial<RunnerOptions> = {}, storage = new MemoryStorage()): Promise<Harness> {
  const account = await storage.createAccount({ keyHash: 'h', keyHint: 'h', threads: 100, balanceMicros: 0, proxiesAllowed: true, createdAt: 0 });
  const h: Harness = {
    storage,
    now: 1_000_000,
    runner: undefined as unknown as TaskRunner,
    async submit(deadlineMs = 60_000) {
      const id = String(nextId++);
      await storage.admitTask({ id, accountId: account.id, spec: TURNSTILE, createdAt: h.now, deadlineAt: h.now + deadlineMs }, 100, h.now);
      h.runner.notify('turnstile');
      await settle();
      return id;
    },
    async task(id) {
      return (await storage.getTasks(account.id, [id], h.now)).get(id);
    },
    async advance(ms) {
      for (let step = 0; step < ms; step += 10) {
        h.now += Math.min(10, ms - step);
        mock.timers.tick(Math.min(10, ms - step));
        await settle();
      }
    },
  };
  (h as { runner: TaskRunner }).runner = new TaskRunner(
    { storage, clock: () => h.now, log: SILENT, chains: new Map([['turnstile', chain]]), priceMicros: () => 0 },
    { ...OPTIONS, ...options },
  );
  h.runner.start();
  return h;
}

/** Lets every pending promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('the task runner', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  test('a declined task goes to the next solver of its chain, and the decline is counted', async () => {
    const ocr = solver('ocr', async () => {
      throw new SolverDeclined('not sure');
    });
    const human = solver('human', async () => TOKEN);
    const h = await harness([ocr, human]);
    const id = await h.submit();
    const { createdAt, attempts, expiresAt, ...view } = (await h.task(id)) ?? {};
    assert.deepEqual(view, { id, type: 'turnstile', state: 'solved', solution: TOKEN, priceMicros: 0 });
    assert.equal(attempts, 1, 'one lease: the declining solver and the next ran in the same attempt');
    assert.ok(createdAt !== undefined && expiresAt !== undefined && expiresAt > createdAt);
    assert.equal(ocr.calls, 1);
    assert.equal(human.calls, 1);
    const stats = await h.storage.solverStats();
    assert.deepEqual(
      stats.map((s) => [s.solver, s.solved, s.declined]),
      [
        ['human', 1, 0],
        ['ocr', 0, 1],
      ],
    );
    await h.runner.stop();
  });

  test('a decline at the end of the chain is ERROR_CAPTCHA_UNSOLVABLE, without a retry', async () => {
    const ocr = solver('ocr', async () => {
      throw new SolverDeclined('not sure');
    });
    const h = await harness([ocr]);
    const id = await h.submit();
    assert.equal((await h.task(id))?.errorCode, 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.equal(ocr.calls, 1);
    await h.runner.stop();
  });

  test('consecutive crashes open the circuit for the cool-down; a success closes it', async () => {
    let crash = true;
    const flaky = solver('flaky', async () => {
      if (crash) throw new Error('backend down');
      return TOKEN;
    });
    const h = await harness([flaky], { maxAttempts: 1 });
    for (let i = 0; i < 2; i++) await h.submit();
    assert.equal(h.runner.isAvailable('turnstile', h.now), true, 'two crashes: below the threshold of three');
    await h.submit();
    assert.equal(h.runner.isAvailable('turnstile', h.now), false, 'three crashes in a row open it');
    assert.equal(h.runner.isAvailable('turnstile', h.now + 10_000), true, 'closed again after the cool-down');
    crash = false;
    h.now += 10_000;
    const id = await h.submit();
    assert.equal((await h.task(id))?.state, 'solved');
    assert.equal(h.runner.isAvailable('turnstile', h.now), true);
    await h.runner.stop();
  });

  test('a crash is retried after the retry delay, and the last attempt fails the task', async () => {
    const broken = solver('broken', async () => {
      throw new Error('boom');
    });
    const h = await harness([broken]);
    const id = await h.submit();
    assert.equal((await h.task(id))?.state, 'queued', 'waiting for its retry');
    assert.equal(broken.calls, 1);
    await h.advance(OPTIONS.retryDelayMs + OPTIONS.idlePollMs!);
    assert.equal(broken.calls, 2);
    assert.equal((await h.task(id))?.errorCode, 'ERROR_CAPTCHA_UNSOLVABLE', 'attempt 2 of 2 failed');
    await h.runner.stop();
  });

  test('a lost lease aborts the solve and leaves the task to the worker that holds it now', async () => {
    const storage = new MemoryStorage();
    let aborted: unknown;
    const slow = solver('slow', async (task, ctx) => {
      try {
        return await hang(task, ctx);
      } catch (err) {
        aborted = err;
        throw err;
      }
    });
    // Another worker takes over: from now on this runner's renewals are refused.
    storage.renewLease = async () => false;
    const h = await harness([slow], {}, storage);
    const id = await h.submit();
    assert.equal((await h.task(id))?.state, 'active');
    await h.advance(OPTIONS.leaseMs! / 3 + 10);
    assert.match(String(aborted), /lease of the task was lost/);
    assert.equal((await h.task(id))?.state, 'active', 'not failed, not released: it is the other worker’s now');
    await h.runner.stop();
  });

  test('the deadline aborts a solver that does not answer: ERROR_CAPTCHA_UNSOLVABLE', async () => {
    const slow = solver('slow', hang);
    const h = await harness([slow]);
    const id = await h.submit(500);
    await h.advance(490);
    assert.equal((await h.task(id))?.state, 'active');
    await h.advance(20);
    assert.equal((await h.task(id))?.errorCode, 'ERROR_CAPTCHA_UNSOLVABLE');
    await h.runner.stop();
  });

  test('shutdown aborts the solves in progress and puts their tasks back in the queue', async () => {
    let closed = false;
    const slow = Object.assign(solver('slow', hang), {
      close: async () => {
        closed = true;
      },
    });
    const h = await harness([slow]);
    const id = await h.submit();
    assert.equal((await h.task(id))?.state, 'active');
    await h.runner.stop();
    assert.equal((await h.task(id))?.state, 'queued', 'the next start picks it up again');
    assert.equal(closed, true, 'the solver was closed');
  });
});
