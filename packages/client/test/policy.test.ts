/**
 * The retry policy, class by class, against a real Solvebox (sandbox magic values, real faults)
 * behind a fault-injecting proxy that counts every request the client makes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { startServer, configWith } from '@solvebox/server';
import { Solvebox, type SolveboxOptions } from '@solvebox/client';
import { FAST, PAGE, SANDBOX_ONLY, rejection, sandbox, startFaultProxy, startTestServer, type FaultProxy, type TestServer } from './helpers.js';

const turnstileTask = (pageurl = PAGE, sitekey = '0x4AAAAAAApolicy') => ({ type: 'turnstile' as const, sitekey, pageurl });
const submits = (s: { endpoint: string }) => s.endpoint === 'in.php';
const polls = (id: string) => (s: { endpoint: string; params: URLSearchParams }) => s.endpoint === 'res.php' && s.params.get('id') === id;

/** A server behind a fault proxy for the tests of one describe block: started before them, closed after. */
function serverBehindProxy(): { t: TestServer; proxy: FaultProxy } {
  const env = {} as { t: TestServer; proxy: FaultProxy };
  before(async () => {
    env.t = await startTestServer();
    env.proxy = await startFaultProxy(env.t.url);
  });
  after(async () => {
    await env.proxy.close();
    await env.t.close();
  });
  return env;
}

describe('retry classes', () => {
  let t: TestServer;
  let proxy: FaultProxy;
  const client = async (options: Partial<SolveboxOptions> = {}, threads = 5): Promise<Solvebox> =>
    new Solvebox({ apiKey: await t.newKey(threads), baseUrl: proxy.url, ...FAST, ...options });

  before(async () => {
    t = await startTestServer({ tokenDeadlineMs: 2_000 });
    proxy = await startFaultProxy(t.url);
  });
  after(async () => {
    await proxy.close();
    await t.close();
  });

  test('fix-request: thrown at once, with code, endpoint, fix and elapsed time; no retry', async () => {
    proxy.seen.length = 0;
    const bad = new Solvebox({ apiKey: 'f'.repeat(32), baseUrl: proxy.url, ...FAST });
    const err = await rejection(bad.turnstile({ sitekey: 'x', pageurl: PAGE }));
    assert.equal(err.name, 'FixRequestError');
    assert.equal(err.code, 'ERROR_KEY_DOES_NOT_EXIST');
    assert.equal(err.endpoint, 'in.php');
    assert.match(err.fix, /keys list/);
    assert.equal(typeof err.elapsedMs, 'number');
    assert.equal(proxy.count(submits), 1);
    assert.equal((await rejection((await client()).turnstile({ sitekey: 'x', pageurl: 'not-a-url' }))).code, 'ERROR_PAGEURL');
  });

  test('not-ready: polls until the answer, first after the first-poll delay, then every interval', async () => {
    proxy.seen.length = 0;
    const c = await client({ firstPollDelayMs: 150, pollIntervalMs: 50 });
    const started = performance.now();
    const events: string[] = [];
    const result = await c.solve(turnstileTask(sandbox('delay:0.4')), { onProgress: (e) => events.push(e.phase) });
    const elapsed = performance.now() - started;
    assert.match(result.answer, /^0\.SANDBOX_/);
    const pollCount = proxy.count(polls(result.taskId));
    assert.ok(pollCount >= 3 && pollCount <= 8, `polls: ${pollCount}`);
    assert.ok(elapsed >= 400, `answered after ${elapsed} ms`);
    assert.deepEqual([...new Set(events)], ['submitting', 'submitted', 'polling']);
  });

  test('retry-later: server errors are retried with backoff until the service recovers', async () => {
    const slow = await startTestServer({ sqliteBusyTimeoutMs: 20 });
    const slowProxy = await startFaultProxy(slow.url);
    const lock = new Database(slow.dbFile);
    try {
      const c = new Solvebox({ apiKey: await slow.newKey(), baseUrl: slowProxy.url, ...FAST, retryBaseDelayMs: 60 });
      lock.exec('BEGIN EXCLUSIVE');
      setTimeout(() => lock.exec('COMMIT'), 250);
      const retries: number[] = [];
      const answer = await c.solve(turnstileTask(), { onProgress: (e) => e.phase === 'retrying' && retries.push(e.delayMs) });
      assert.match(answer.answer, /^0\.SANDBOX_/);
      assert.ok(slowProxy.count((s) => s.answer.includes('ERROR_SERVER_ERROR')) >= 1);
      assert.ok(retries.length >= 1 && retries.length <= 4, `retries: ${retries}`);
      // Doubling backoff with jitter: 60, 120, 240 ms ±20 %.
      for (const [i, delay] of retries.entries()) assert.ok(delay >= 60 * 2 ** i * 0.8 && delay <= 60 * 2 ** i * 1.2, `retry ${i}: ${delay} ms`);

      const stuck = new Solvebox({ apiKey: await slow.newKey(), baseUrl: slowProxy.url, ...FAST, retries: 2 });
      lock.exec('BEGIN EXCLUSIVE');
      const before = slowProxy.count(submits);
      await assert.rejects(stuck.turnstile({ sitekey: 'x', pageurl: PAGE }), { name: 'RetryLaterError', code: 'ERROR_SERVER_ERROR' });
      assert.equal(slowProxy.count(submits) - before, 3, 'one try and two retries');
      lock.exec('COMMIT');
    } finally {
      if (lock.inTransaction) lock.exec('COMMIT');
      lock.close();
      await slowProxy.close();
      await slow.close();
    }
  });

  test('retry-later: the solver backend is down (circuit open); the submit waits and succeeds', async () => {
    const broken = await startTestServer({ circuitFailures: 1, solverAttempts: 1, circuitCooldownMs: 300 });
    try {
      const c = new Solvebox({ apiKey: await broken.newKey(), baseUrl: broken.url, ...FAST, retryBaseDelayMs: 100 });
      await assert.rejects(c.turnstile({ sitekey: 'x', pageurl: sandbox('crash') }), { name: 'TaskFailedError', code: 'ERROR_CAPTCHA_UNSOLVABLE' });
      const codes: string[] = [];
      const token = await c.turnstile({ sitekey: 'x', pageurl: PAGE }, { onProgress: (e) => e.phase === 'retrying' && codes.push(e.code) });
      assert.match(token, /^0\.SANDBOX_/);
      assert.ok(codes.includes('ERROR_INTERNAL_SERVER_ERROR'), codes.join());
    } finally {
      await broken.close();
    }
  });

  test('retry-later bans: fail fast by default, or wait the ban out when configured', async () => {
    const strict = await startTestServer({ banFailures: 2, banMs: 400 });
    try {
      const wrong = new Solvebox({ apiKey: 'a'.repeat(32), baseUrl: strict.url, ...FAST });
      for (let i = 0; i < 2; i++) await assert.rejects(wrong.balance(), { code: 'ERROR_KEY_DOES_NOT_EXIST' });
      const key = await strict.newKey();
      const failFast = new Solvebox({ apiKey: key, baseUrl: strict.url, ...FAST });
      const started = performance.now();
      await assert.rejects(failFast.balance(), { name: 'RetryLaterError', code: 'IP_BANNED' });
      assert.ok(performance.now() - started < 200, 'no hammering, no waiting');
      const patient = new Solvebox({ apiKey: key, baseUrl: strict.url, ...FAST, onBan: 'wait', banWaitMs: 500 });
      assert.equal(await patient.balance(), 2.5);
    } finally {
      await strict.close();
    }
  });

  test('wait-for-thread: ERROR_ZERO_BALANCE waits for a thread; its own wait is bounded', async () => {
    proxy.seen.length = 0;
    // A fixed concurrency above the plan lets the second solve meet ERROR_ZERO_BALANCE.
    const c = await client({ concurrency: 5 }, 1);
    const events: string[] = [];
    const [a, b] = await Promise.all([
      c.turnstile({ sitekey: 'x', pageurl: sandbox('delay:0.3') }),
      c.turnstile({ sitekey: 'y', pageurl: sandbox('delay:0.3') }, { onProgress: (e) => events.push(e.phase) }),
    ]);
    assert.match(a, /^0\.SANDBOX_/);
    assert.match(b, /^0\.SANDBOX_/);
    assert.ok(proxy.count((s) => s.answer === 'ERROR_ZERO_BALANCE' || s.answer.includes('"ERROR_ZERO_BALANCE"')) >= 1);

    const impatient = await client({ concurrency: 5, threadWaitMs: 150 }, 1);
    const long = impatient.turnstile({ sitekey: 'x', pageurl: sandbox('delay:1') });
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(impatient.turnstile({ sitekey: 'y', pageurl: PAGE }), { name: 'WaitForThreadError', code: 'ERROR_ZERO_BALANCE' });
    await long;
  });

  test('task-failed: thrown with the task id; unsolvable tasks are resubmitted if asked, never polled again', async () => {
    const c = await client();
    await assert.rejects(
      c.turnstile({ sitekey: 'x', pageurl: sandbox('proxy-fail'), proxy: { type: 'HTTP', address: '192.0.2.1:80' } }),
      (err: Error & { code: string; taskId: string }) => {
        assert.equal(err.name, 'TaskFailedError');
        assert.equal(err.code, 'ERROR_PROXY_CONNECTION_FAILED');
        assert.match(err.taskId, /^[0-9]{16}$/);
        return true;
      },
    );

    proxy.seen.length = 0;
    const resubmitting = await client({ resubmitUnsolvable: 2 });
    await assert.rejects(resubmitting.turnstile({ sitekey: 'x', pageurl: sandbox('unsolvable') }), {
      name: 'TaskFailedError',
      code: 'ERROR_CAPTCHA_UNSOLVABLE',
    });
    const ids = proxy.seen.filter(submits).map((s) => /"request":"([0-9]+)"/.exec(s.answer)?.[1]);
    assert.equal(ids.length, 3, 'the first task and two fresh ones');
    for (const id of ids) {
      const answers = proxy.seen.filter(polls(id!)).map((s) => s.answer);
      assert.ok(answers.at(-1)?.includes('ERROR_CAPTCHA_UNSOLVABLE'), `task ${id} is not polled after it failed: ${answers.join(' ')}`);
    }
  });

  test('transport: HTML error pages, garbled and empty answers are retried', async () => {
    const c = await client();
    let faults = 0;
    proxy.fault = (endpoint) => {
      if (endpoint !== 'res.php' || faults >= 3) return undefined;
      faults++;
      return (['html-502', 'garbled', 'forward-then-empty'] as const)[faults - 1];
    };
    try {
      const codes: string[] = [];
      assert.equal(
        await c.turnstile({ sitekey: '1x00000000000000000000AA', pageurl: PAGE }, { onProgress: (e) => e.phase === 'retrying' && codes.push(e.code) }),
        'XXXX.DUMMY.TOKEN.XXXX',
      );
      assert.deepEqual(codes, ['TRANSPORT', 'TRANSPORT', 'TRANSPORT']);
    } finally {
      proxy.fault = () => undefined;
    }
  });
});

describe('submits are never repeated blindly', () => {
  test('an ambiguous submit failure creates no duplicate: not retried by default, replayed with its idempotency key once the server is known to honour it', async () => {
    const t = await startTestServer();
    const proxy = await startFaultProxy(t.url);
    try {
      const key = await t.newKey();
      let dropNext = true;
      proxy.fault = (endpoint) => (endpoint === 'in.php' && dropNext ? ((dropNext = false), 'forward-then-drop') : undefined);

      const fresh = new Solvebox({ apiKey: key, baseUrl: proxy.url, ...FAST });
      await assert.rejects(fresh.turnstile({ sitekey: 'x', pageurl: PAGE }), (err: Error & { ambiguous: boolean }) => {
        assert.equal(err.name, 'TransportError');
        assert.equal(err.ambiguous, true);
        return true;
      });
      assert.equal(await t.taskCount(key), 1, 'the server got the submit once, and it was not sent again');

      // This client learns from its first answer that the server honours idempotency keys.
      const learned = new Solvebox({ apiKey: key, baseUrl: proxy.url, ...FAST });
      await learned.turnstile({ sitekey: 'x', pageurl: PAGE });
      assert.equal(await t.taskCount(key), 2);
      dropNext = true;
      const result = await learned.solve(turnstileTask());
      assert.equal(await t.taskCount(key), 3, 'the replayed submit did not create a second task');
      const keys = proxy.seen
        .filter(submits)
        .slice(-2)
        .map((s) => s.params.get('idempotency_key'));
      assert.equal(keys[0], keys[1], 'the retry carried the same idempotency key');
      assert.match(result.answer, /^0\.SANDBOX_/);
    } finally {
      await proxy.close();
      await t.close();
    }
  });

  test('a submit that provably never left (connection refused) is retried', async () => {
    const probe: Server = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/solvebox-late-`);
    const c = new Solvebox({ apiKey: 'placeholder-key-placeholder-key!', baseUrl: `http://127.0.0.1:${port}`, ...FAST, retryBaseDelayMs: 150 });
    const late = new Promise<Awaited<ReturnType<typeof startServer>>>((resolve) =>
      setTimeout(() => resolve(startServer(configWith({ host: '127.0.0.1', port, db: `${dir}/db.sqlite`, logLevel: 'silent', solvers: SANDBOX_ONLY }))), 100),
    );
    try {
      const err = await rejection(c.balance());
      assert.equal(err.code, 'ERROR_KEY_DOES_NOT_EXIST', 'retried after the refusals, until the server answered');
    } finally {
      await (await late).close();
      (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cancellation and deadlines', () => {
  const env = serverBehindProxy();

  test('abort stops polling at once', async () => {
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url, ...FAST, pollIntervalMs: 30 });
    const controller = new AbortController();
    const solving = c.solve(turnstileTask(sandbox('delay:30')), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 150));
    const abortedAt = performance.now();
    controller.abort(new Error('user cancelled'));
    const err = await rejection(solving);
    assert.ok(performance.now() - abortedAt < 50, `rejected ${performance.now() - abortedAt} ms after abort`);
    assert.equal(err.name, 'AbortError');
    assert.equal((err.cause as Error).message, 'user cancelled');
    // A poll already on the wire when the abort came may still land; give it a moment. Polling
    // that went on would add one every 30 ms.
    await new Promise((r) => setTimeout(r, 50));
    const pollsAtAbort = env.proxy.count(polls(err.taskId));
    assert.ok(pollsAtAbort > 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(env.proxy.count(polls(err.taskId)), pollsAtAbort, 'no poll after the abort');
  });

  test('an already aborted signal sends nothing', async () => {
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url, ...FAST });
    const before = env.proxy.seen.length;
    await assert.rejects(c.balance({ signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(env.proxy.seen.length, before);
  });

  test('the deadline stops polling at once, with the last answer seen', async () => {
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url, ...FAST, pollIntervalMs: 40 });
    const started = performance.now();
    const err = await rejection(c.solve(turnstileTask(sandbox('delay:30')), { timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    assert.equal(err.name, 'TimeoutError');
    assert.equal(err.lastCode, 'CAPCHA_NOT_READY');
    assert.match(err.taskId, /^[0-9]{16}$/);
    assert.ok(elapsed >= 290 && elapsed < 400, `gave up after ${elapsed} ms`);
    const count = env.proxy.count(polls(err.taskId));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(env.proxy.count(polls(err.taskId)), count, 'no poll after the deadline');
  });

  test('a long backoff or first-poll delay never overruns the deadline', async () => {
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url, ...FAST, firstPollDelayMs: 60_000 });
    const started = performance.now();
    await assert.rejects(c.turnstile({ sitekey: 'x', pageurl: PAGE }, { timeoutMs: 200 }), { name: 'TimeoutError' });
    assert.ok(performance.now() - started < 300);
  });

  test('the API key never appears in errors', async () => {
    const secret = 'abcdef0123456789abcdef0123456789';
    const c = new Solvebox({ apiKey: secret, baseUrl: 'http://127.0.0.1:1', ...FAST, retries: 0 });
    const err = await rejection(c.getResult('1234567890123456'));
    assert.equal(err.name, 'TransportError');
    const everything = `${err.message} ${err.stack} ${JSON.stringify(err)} ${JSON.stringify(err.cause)}`;
    assert.ok(!everything.includes(secret), everything);
    const refused = await rejection(new Solvebox({ apiKey: secret, baseUrl: env.t.url, ...FAST }).balance());
    assert.ok(!`${refused.message} ${refused.stack}`.includes(secret));
  });
});

describe('the concurrency limiter', () => {
  test('Promise.all over many solves: no ZERO_BALANCE storm with the plan size, at most a few while learning it', async () => {
    const t = await startTestServer();
    const proxy = await startFaultProxy(t.url);
    const zeroBalance = (s: { answer: string }) => s.answer.includes('ERROR_ZERO_BALANCE');
    const run = async (concurrency: number | 'auto'): Promise<number> => {
      proxy.seen.length = 0;
      const c = new Solvebox({ apiKey: await t.newKey(3), baseUrl: proxy.url, ...FAST, concurrency, threadWaitIntervalMs: 20 });
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => c.turnstile({ sitekey: `k${i}`, pageurl: sandbox('delay:0.05') })));
      assert.equal(answers.length, 30);
      return proxy.count(zeroBalance);
    };
    try {
      assert.equal(await run(3), 0, 'sized to the plan: not one ERROR_ZERO_BALANCE');
      const learning = await run('auto');
      assert.ok(learning <= 3, `auto: ${learning} ERROR_ZERO_BALANCE while learning the plan`);
      const unlimited = await run(1000);
      assert.ok(unlimited >= 20, `without a limiter there is a storm (${unlimited}), so the two runs above are meaningful`);
    } finally {
      await proxy.close();
      await t.close();
    }
  });
});

describe('long-poll (a Solvebox extension, used once the server advertises it)', () => {
  const env = serverBehindProxy();

  test('one waiting poll answers as soon as the task ends: no first-poll delay, no interval', async () => {
    env.proxy.seen.length = 0;
    // The vendors' timing: a token's first poll after 15 s, then every 5 s. Long-polling skips both.
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url });
    const started = performance.now();
    const result = await c.solve(turnstileTask(sandbox('delay:0.5')));
    const elapsed = performance.now() - started;
    assert.match(result.answer, /^0\.SANDBOX_/);
    assert.ok(elapsed < 3000, `answered ${Math.round(elapsed)} ms after the submit`);
    const sent = env.proxy.seen.filter(polls(result.taskId));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.params.get('wait'), '25', 'the wait ends 5 s before the 30 s request timeout');
  });

  test('longPoll: false polls as the vendors do', async () => {
    env.proxy.seen.length = 0;
    const c = new Solvebox({ apiKey: await env.t.newKey(), baseUrl: env.proxy.url, longPoll: false, firstPollDelayMs: 100, pollIntervalMs: 100 });
    const result = await c.solve(turnstileTask(sandbox('delay:0.5')));
    const sent = env.proxy.seen.filter(polls(result.taskId));
    assert.ok(sent.length >= 3, `polls: ${sent.length}`);
    assert.ok(sent.every((s) => !s.params.has('wait')));
  });
});
