/**
 * The console over HTTP, as a browser uses it: logins and their limits, sessions, CSRF, roles, the
 * human desk (answers, hints, skips, leases, fallbacks, credit for reports), the admin actions and
 * their audit log, and /metrics parsed as Prometheus reads it. Real server, real SQLite file.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { SolverDeclined, type Solver } from '@solvebox/protocol';
import { createOperator } from '../src/index.js';
import { LOGIN_FAILURES } from '../src/console/login-guard.js';
import { prng } from '../src/testing/raw-fuzz.js';
import { OperatorSession } from './console-helpers.js';
import { SANDBOX_ONLY, b64, eventually, getQuery, png, result, startTestServer, submitOk, waitForResult, type TestServer } from './helpers.js';

const HUMAN_ROUTES = { ...SANDBOX_ONLY, image: 'human', grid: 'human', textcaptcha: 'human' } as const;
const METRICS_TOKEN = 'scrape-token-for-tests';

/** An OCR stand-in that doubts every reading, so that image tasks go to their fallback. */
const DOUBTFUL_OCR: Solver = {
  name: 'ocr',
  types: ['image'],
  async solve() {
    throw new SolverDeclined('doubtful');
  },
};

async function consoleServer(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer & { consoleUrl: string }> {
  const t = await startTestServer({ console: true, consolePort: 0, metricsToken: METRICS_TOKEN, solvers: HUMAN_ROUTES, ...overrides });
  return { ...t, consoleUrl: t.server.consoleUrl as string };
}

describe('console security', () => {
  let t: TestServer & { consoleUrl: string };
  let admin: OperatorSession;
  let solver: OperatorSession;
  before(async () => {
    t = await consoleServer();
    admin = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'root', 'admin');
    solver = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'sam', 'solver');
  });
  after(() => t.close());

  const API_GETS = [
    '/api/me',
    '/api/desk/stream',
    '/api/desk/1/image/0',
    '/api/desk/1/audio',
    '/api/admin/overview',
    '/api/admin/accounts',
    '/api/admin/bans',
    '/api/admin/operators',
    '/api/admin/audit',
    '/metrics',
  ];
  const API_POSTS = [
    '/api/logout',
    '/api/desk/1/answer',
    '/api/desk/1/skip',
    '/api/desk/1/unreadable',
    '/api/admin/accounts',
    '/api/admin/accounts/1',
    '/api/admin/bans/1.2.3.4/lift',
    '/api/admin/operators/sam',
  ];

  it('refuses every API route without a session', async () => {
    for (const path of API_GETS) {
      const res = await fetch(`${t.consoleUrl}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
    }
    for (const path of API_POSTS) {
      const res = await fetch(`${t.consoleUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401, path);
    }
    // A made-up or expired cookie is no session either.
    const forged = await fetch(`${t.consoleUrl}/api/me`, { headers: { cookie: 'solvebox_session=forged' } });
    assert.equal(forged.status, 401);
  });

  it('refuses admin routes to the solver role', async () => {
    for (const path of API_GETS.filter((p) => p.startsWith('/api/admin') || p === '/metrics')) assert.equal((await solver.get(path)).status, 403, path);
    for (const path of API_POSTS.filter((p) => p.startsWith('/api/admin'))) assert.equal((await solver.post(path, {})).status, 403, path);
    assert.equal((await admin.get('/api/admin/overview')).status, 200);
  });

  it('refuses state changes without the CSRF token', async () => {
    const res = await admin.post('/api/admin/accounts', { threads: 1 }, { csrf: false });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /CSRF/);
    assert.equal((await t.server.services.storage.listAccounts()).length, 1, 'no account was created');
    const wrong = await fetch(`${t.consoleUrl}/api/admin/accounts`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': 'x'.repeat(43) },
      body: '{}',
    });
    assert.equal(wrong.status, 403);
  });

  it('sets the session cookie httpOnly, SameSite=Strict, expiring', async () => {
    const created = await createOperator(t.server.services.storage, 'cookie-check', 'solver');
    const res = await fetch(`${t.consoleUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cookie-check', password: created?.password }),
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Max-Age=\d+/);
  });

  it('rate-limits logins: after five failures even the right password is refused', async () => {
    const created = await createOperator(t.server.services.storage, 'guessed', 'solver');
    const login = (password: string) =>
      fetch(`${t.consoleUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'guessed', password }),
      });
    for (let i = 0; i < LOGIN_FAILURES; i++) assert.equal((await login(`wrong-${i}`)).status, 401);
    const refused = await login(created?.password as string);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });

  it('shows captcha images only to the operator who holds the task', async () => {
    const desk = await solver.openDesk();
    const id = await submitOk(t, { method: 'base64', body: b64(png()) });
    try {
      const task = await desk.nextTask();
      assert.equal(task.id, id);
      const image = await solver.get(`/api/desk/${id}/image/0`);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('content-type'), 'image/png');
      assert.equal((await fetch(`${t.consoleUrl}/api/desk/${id}/image/0`)).status, 401, 'no session');
      assert.equal((await admin.get(`/api/desk/${id}/image/0`)).status, 409, 'another operator');
      assert.equal((await solver.post(`/api/desk/${id}/answer`, { text: 'abc' })).status, 200);
    } finally {
      desk.close();
    }
  });
});

describe('the human desk', () => {
  let t: TestServer & { consoleUrl: string };
  let alice: OperatorSession;
  let bob: OperatorSession;
  before(async () => {
    t = await consoleServer({ operatorLeaseMs: 400 });
    alice = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'alice', 'admin');
    bob = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'bob', 'solver');
  });
  after(() => t.close());

  it('ends an image task unsolvable at once when no operator is online', async () => {
    const started = Date.now();
    const id = await submitOk(t, { method: 'base64', body: b64(png()) });
    assert.equal(await waitForResult(t, id), 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.ok(Date.now() - started < 3000, 'it did not wait for the deadline');
  });

  it('delivers an operator answer to res.php, enforcing the hints', async () => {
    const desk = await alice.openDesk();
    try {
      const id = await submitOk(t, { method: 'base64', body: b64(png()), numeric: 1, min_len: 4, textinstructions: 'type the digits' });
      const task = await desk.nextTask();
      assert.equal(task.id, id);
      assert.equal(task.instructions, 'type the digits');
      assert.equal(task.hints?.numeric, 1);
      const refused = await alice.post(`/api/desk/${id}/answer`, { text: 'ab12' });
      assert.equal(refused.status, 422);
      assert.match(((await refused.json()) as { error: string }).error, /digits only/);
      assert.equal((await alice.post(`/api/desk/${id}/answer`, { text: '123' })).status, 422, 'too short');
      assert.equal(await result(t, id), 'CAPCHA_NOT_READY');
      assert.equal((await alice.post(`/api/desk/${id}/answer`, { text: '4821' })).status, 200);
      assert.equal(await waitForResult(t, id), 'OK|4821');
    } finally {
      desk.close();
    }
  });

  it('credits reports to the operator who answered', async () => {
    const desk = await bob.openDesk();
    try {
      const id = await submitOk(t, { method: 'base64', body: b64(png(500, 3)) });
      const task = await desk.nextTask();
      await bob.post(`/api/desk/${task.id}/answer`, { text: 'wxyz' });
      assert.equal(await waitForResult(t, id), 'OK|wxyz');
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportbad', id })).body, 'OK_REPORT_RECORDED');
      const stats = await t.server.services.storage.solverStats();
      assert.deepEqual(
        stats.filter((s) => s.solver === 'human:bob').map((s) => [s.solved, s.reportedBad]),
        [[1, 1]],
      );
    } finally {
      desk.close();
    }
  });

  it('hands a skipped task to a second operator, never back to the first', async () => {
    const aliceDesk = await alice.openDesk();
    const bobDesk = await bob.openDesk();
    try {
      const id = await submitOk(t, { method: 'textcaptcha', textcaptcha: 'What colour is the sky?' });
      // Whoever gets it first skips it; the other must get it.
      const first = await Promise.race([aliceDesk.nextTask().then((task) => ({ who: alice, task })), bobDesk.nextTask().then((task) => ({ who: bob, task }))]);
      assert.equal(first.task.id, id);
      const [second, secondDesk] = first.who === alice ? [bob, bobDesk] : [alice, aliceDesk];
      assert.equal((await first.who.post(`/api/desk/${id}/skip`)).status, 200);
      const handed = await secondDesk.nextTask();
      assert.equal(handed.id, id);
      assert.equal(handed.instructions, 'What colour is the sky?');
      assert.equal((await second.post(`/api/desk/${id}/answer`, { text: 'blue' })).status, 200);
      assert.equal(await waitForResult(t, id), 'OK|blue');
    } finally {
      aliceDesk.close();
      bobDesk.close();
    }
  });

  it('returns a task whose lease ran out to the queue', async () => {
    const desk = await bob.openDesk();
    let aliceDesk: Awaited<ReturnType<OperatorSession['openDesk']>> | undefined;
    try {
      const id = await submitOk(t, { method: 'base64', body: b64(png(450, 9)) });
      assert.equal((await desk.nextTask()).id, id);
      // Bob goes away without answering; when his 400 ms lease runs out, the task goes to Alice.
      desk.close();
      aliceDesk = await alice.openDesk();
      assert.equal((await aliceDesk.nextTask(4000)).id, id);
      assert.equal((await bob.post(`/api/desk/${id}/answer`, { text: 'late' })).status, 409, 'the lapsed lease no longer counts');
      await alice.post(`/api/desk/${id}/answer`, { text: 'ontime' });
      assert.equal(await waitForResult(t, id), 'OK|ontime');
    } finally {
      desk.close();
      aliceDesk?.close();
    }
  });

  it('answers grids with cells, and unreadable tasks end unsolvable', async () => {
    const desk = await alice.openDesk();
    try {
      const grid = await submitOk(t, { method: 'base64', recaptcha: 1, body: b64(png(420, 5)), textinstructions: 'buses', recaptcharows: 4, recaptchacols: 4 });
      const task = await desk.nextTask();
      assert.equal(task.id, grid);
      assert.equal((await alice.post(`/api/desk/${grid}/answer`, { cells: [17] })).status, 422, 'no cell 17 on a 4 × 4 grid');
      await alice.post(`/api/desk/${grid}/answer`, { cells: [16, 2, 2] });
      assert.equal(await waitForResult(t, grid), 'OK|click:2/16');
      const unreadable = await submitOk(t, { method: 'base64', body: b64(png(430, 11)) });
      assert.equal((await desk.nextTask()).id, unreadable);
      await alice.post(`/api/desk/${unreadable}/unreadable`);
      assert.equal(await waitForResult(t, unreadable), 'ERROR_CAPTCHA_UNSOLVABLE');
    } finally {
      desk.close();
    }
  });
});

describe('the human fallback of a declined OCR reading', () => {
  it('hands the declined task to an operator (the default fallback of image tasks)', async () => {
    const u = await startTestServer({ console: true, consolePort: 0, solvers: { ...SANDBOX_ONLY, image: 'ocr' } }, { backends: { ocr: DOUBTFUL_OCR } });
    try {
      const operator = await OperatorSession.create(u.server.consoleUrl as string, u.server.services.storage, 'fallback', 'solver');
      const desk = await operator.openDesk();
      try {
        const id = await submitOk(u, { method: 'base64', body: b64(png()) });
        assert.equal((await desk.nextTask()).id, id);
        await operator.post(`/api/desk/${id}/answer`, { text: 'human' });
        assert.equal(await waitForResult(u, id), 'OK|human');
        const stats = await u.server.services.storage.solverStats();
        assert.equal(stats.find((s) => s.solver === 'ocr')?.declined, 1);
        assert.equal(stats.find((s) => s.solver === 'human:fallback')?.solved, 1);
      } finally {
        desk.close();
      }
    } finally {
      await u.close();
    }
  });
});

describe('admin actions and metrics', () => {
  let t: TestServer & { consoleUrl: string };
  let admin: OperatorSession;
  before(async () => {
    t = await consoleServer({ banFailures: 2 });
    admin = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'boss', 'admin');
  });
  after(() => t.close());

  let lastScrape = '';
  const scrape = async () => {
    const res = await fetch(`${t.consoleUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    lastScrape = await res.text();
    return parsePrometheus(lastScrape);
  };
  const value = (families: ReturnType<typeof parsePrometheus>, name: string, labels: Record<string, string> = {}): number => {
    const family = families.find((f) => f.name === name);
    if (!family) return 0;
    const matching = family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    return matching.reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
  };

  it('refuses /metrics with a wrong token', async () => {
    const res = await fetch(`${t.consoleUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
  });

  it('counts tasks, solves, latency, bans and operators online as they happen', async () => {
    const before = await scrape();
    const operator = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'counted', 'solver');
    const desk = await operator.openDesk();
    try {
      const id = await submitOk(t, { method: 'base64', body: b64(png()) });
      await submitOk(t, { method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: 'https://example.com/' });
      const task = await desk.nextTask();
      const during = await scrape();
      assert.equal(value(during, 'solvebox_operators_online'), 1);
      assert.equal(value(during, 'solvebox_desk_leased'), 1);
      await operator.post(`/api/desk/${task.id}/answer`, { text: 'abcd' });
      assert.equal(await waitForResult(t, id), 'OK|abcd');
    } finally {
      desk.close();
    }
    await getQuery(t.url, '/in.php', { key: 'x'.repeat(32), method: 'post' });
    await getQuery(t.url, '/in.php', { key: 'y'.repeat(32), method: 'post' });
    // An outcome is counted once it is stored, which res.php may show a moment before.
    await eventually(async () => {
      const families = await scrape();
      return (
        value(families, 'solvebox_tasks_settled_total', { outcome: 'solved', type: 'turnstile' }) >= 1 &&
        value(families, 'solvebox_tasks_settled_total', { type: 'image', backend: 'human:counted', outcome: 'solved' }) === 1
      );
    });
    const now = await scrape();
    assert.equal(value(now, 'solvebox_tasks_submitted_total', { type: 'image' }) - value(before, 'solvebox_tasks_submitted_total', { type: 'image' }), 1);
    assert.equal(value(now, 'solvebox_tasks_settled_total', { type: 'image', backend: 'human:counted', outcome: 'solved' }), 1);
    // The parser folds a histogram's labelled series into one, so their counts are read off the text.
    assert.equal(now.find((f) => f.name === 'solvebox_solve_duration_seconds')?.type, 'HISTOGRAM');
    const count = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(lastScrape)?.[1] ?? 0);
    assert.equal(count('solvebox_solve_duration_seconds_count\\{type="image",backend="human"\\}'), 1);
    assert.ok(count('solvebox_http_request_duration_seconds_count\\{endpoint="/in.php"\\}') >= 4);
    assert.ok(value(now, 'solvebox_http_fast_polls_total') >= 1, 'res.php polls answered from memory are counted');
    assert.ok(count('solvebox_storage_operation_duration_seconds_count\\{operation="admitTask"\\}') >= 2);
    assert.equal(value(now, 'solvebox_bans_total'), 1);
    assert.equal(value(now, 'solvebox_bans_active'), 1);
    assert.equal(value(now, 'solvebox_scrape_storage_ok'), 1);
    // The dashboard's overview counts the same tasks.
    const overview = await admin.json<{ perMinute: { solved: number }[]; latency: { count: number } }>('/api/admin/overview');
    assert.ok(overview.perMinute.reduce((n, m) => n + m.solved, 0) >= 2);
    assert.ok(overview.latency.count >= 2);
  });

  it('lifts a ban, disables an account, and writes both to the audit log', async () => {
    // The previous test's unknown keys banned this address (two failures ban here).
    const bans = await admin.json<{ ip: string }[]>('/api/admin/bans');
    assert.deepEqual(
      bans.map((b) => b.ip),
      ['127.0.0.1'],
    );
    assert.equal((await getQuery(t.url, '/in.php', { key: t.key, method: 'post' })).body, 'IP_BANNED');
    assert.equal((await admin.post('/api/admin/bans/127.0.0.1/lift')).status, 200);
    assert.deepEqual(await admin.json('/api/admin/bans'), []);
    assert.notEqual((await getQuery(t.url, '/in.php', { key: t.key, method: 'post' })).body, 'IP_BANNED');

    const key = await t.newKey();
    const account = (await t.server.services.storage.listAccounts()).at(-1);
    assert.equal((await admin.post(`/api/admin/accounts/${account?.id}`, { disabled: true })).status, 200);
    assert.equal((await getQuery(t.url, '/in.php', { key, method: 'post' })).body, 'ERROR_KEY_DOES_NOT_EXIST');
    assert.equal((await admin.post(`/api/admin/accounts/${account?.id}`, { threads: 9, credit: '2.5' })).status, 200);
    const updated = await t.server.services.storage.findAccount({ id: account?.id as number });
    assert.deepEqual([updated?.threads, updated?.balanceMicros], [9, 2_500_000]);

    const audit = await admin.json<{ actor: string; action: string; target: string }[]>('/api/admin/audit');
    assert.deepEqual(
      audit.map((e) => [e.actor, e.action, e.target]),
      [
        ['boss', 'account.update', String(account?.id)],
        ['boss', 'account.disable', String(account?.id)],
        ['boss', 'ban.lift', '127.0.0.1'],
      ],
    );
  });
});

describe('console fuzz', () => {
  it('answers malformed requests with a 4xx, never a 5xx, and keeps serving', async () => {
    const t = await consoleServer();
    try {
      const admin = await OperatorSession.create(t.consoleUrl, t.server.services.storage, 'fuzz', 'admin');
      const desk = await admin.openDesk();
      const id = await submitOk(t, { method: 'base64', body: b64(png()) });
      await desk.nextTask();
      const random = prng(Number(process.env.FUZZ_SEED ?? 20261130));
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
      const paths = [
        '/api/login',
        `/api/desk/${id}/answer`,
        `/api/desk/${id}/skip`,
        '/api/admin/accounts',
        '/api/admin/accounts/1',
        '/api/admin/bans/%00/lift',
        '/api/admin/operators/fuzz',
        `/api/desk/${id}/image/9`,
        '/api/desk/%ff/answer',
        '/metrics',
      ];
      const bodies = [
        '',
        '{',
        '[]',
        'null',
        '"x"',
        '{"text":1}',
        '{"cells":"1"}',
        '{"cells":[1e309]}',
        '{"points":[{"x":-1}]}',
        '{"threads":-1}',
        '{"credit":"1e9999"}',
        '{"disabled":"yes"}',
        '{"name":{},"password":[]}',
        '{"__proto__":{"admin":true}}',
        'a=b&c',
        '\u0000'.repeat(100),
        'x'.repeat(70_000),
      ];
      const types = [
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '',
        'application/json; charset=utf-16',
      ];
      for (let i = 0; i < 400; i++) {
        const headers: Record<string, string> = { cookie: admin.cookie, 'x-csrf-token': admin.csrf };
        const type = pick(types);
        if (type) headers['content-type'] = type;
        const res = await fetch(`${t.consoleUrl}${pick(paths)}`, {
          method: pick(['GET', 'POST', 'PUT', 'DELETE']),
          headers,
          body: undefined as never,
          ...(random() < 0.9 ? { method: 'POST', body: pick(bodies) } : {}),
        });
        assert.ok(res.status < 500, `${res.status} for request ${i}: ${await res.text()}`);
        await res.arrayBuffer().catch(() => {});
      }
      // Raw bytes: a lying length, a truncated body, garbage.
      for (const raw of [
        'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
        'POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: solvebox_session=\u00ff\u00fe\r\n\r\n',
        '\u0016\u0003\u0001\u0000garbage\r\n\r\n',
      ]) {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(new URL(t.consoleUrl).port), '127.0.0.1', () => {
            socket.write(Buffer.from(raw, 'latin1'));
            setTimeout(() => socket.end(), 50);
          });
          let reply = '';
          socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
          socket.on('error', () => resolve());
          socket.on('close', () => {
            assert.doesNotMatch(reply, /^HTTP\/1\.1 5/, raw);
            resolve();
          });
        });
      }
      assert.equal((await admin.get('/api/me')).status, 200, 'still serving');
      // The fuzzed task was answered or skipped on the way; a fresh one goes through.
      const fresh = await submitOk(t, { method: 'base64', body: b64(png(500, 2)) });
      await eventually(async () => (await admin.post(`/api/desk/${fresh}/answer`, { text: 'alive' })).status === 200);
      assert.equal(await waitForResult(t, fresh), 'OK|alive');
      desk.close();
    } finally {
      await t.close();
    }
  });
});

describe('confirmed answers become training samples', () => {
  it('keeps operator answers and answers reported good, drops reported bad ones, and keeps none at --samples-keep 0', async () => {
    const t = await consoleServer({ solvers: { ...HUMAN_ROUTES, grid: 'sandbox' }, samplesKeep: 2 });
    try {
      const storage = t.server.services.storage;
      const operator = await OperatorSession.create(t.consoleUrl, storage, 'labeller', 'solver');
      const desk = await operator.openDesk();
      const answered: string[] = [];
      try {
        for (const [i, text] of ['abcd', 'efgh', 'ijkl'].entries()) {
          const id = await submitOk(t, { method: 'base64', body: b64(png(400 + i, i)), numeric: 2 });
          assert.equal((await desk.nextTask()).id, id);
          await operator.post(`/api/desk/${id}/answer`, { text });
          assert.equal(await waitForResult(t, id), `OK|${text}`);
          answered.push(id);
        }
      } finally {
        desk.close();
      }
      // Kept just after the answer is stored.
      await eventually(async () => (await storage.listSamples(0, 10)).at(-1)?.id === answered[2]);
      const kept = await storage.listSamples(0, 10);
      assert.deepEqual(
        kept.map((s) => [s.id, s.answer, s.source, s.answeredBy, s.hints.numeric]),
        [
          [answered[1], 'efgh', 'operator', 'human:labeller', 2],
          [answered[2], 'ijkl', 'operator', 'human:labeller', 2],
        ],
        'the newest two, with the hints they carried',
      );
      assert.deepEqual(kept[1]?.image, png(402, 2), 'the image as the client sent it');

      // A client says the answer was wrong: the sample goes.
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportbad', id: answered[2] as string })).body, 'OK_REPORT_RECORDED');
      assert.deepEqual(
        (await storage.listSamples(0, 10)).map((s) => s.id),
        [answered[1]],
      );
      // A grid is no OCR sample, reported good or not.
      const grid = await submitOk(t, { method: 'base64', recaptcha: 1, body: b64(png(490, 9)), textinstructions: 'buses' });
      await waitForResult(t, grid);
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportgood', id: grid })).body, 'OK_REPORT_RECORDED');
      assert.equal(await storage.countSamples(), 1);
    } finally {
      await t.close();
    }
    // Another solver's answer counts once its client reports it good (here the sandbox's).
    const sandbox = await consoleServer({ solvers: SANDBOX_ONLY });
    try {
      const id = await submitOk(sandbox, { method: 'base64', body: b64(png(480, 8)) });
      const answer = await waitForResult(sandbox, id);
      assert.equal(await sandbox.server.services.storage.countSamples(), 0, 'not before the report');
      assert.equal((await getQuery(sandbox.url, '/res.php', { key: sandbox.key, action: 'reportgood', id })).body, 'OK_REPORT_RECORDED');
      assert.deepEqual(
        (await sandbox.server.services.storage.listSamples(0, 10)).map((x) => [x.id, `OK|${x.answer}`, x.source, x.answeredBy]),
        [[id, answer, 'reported', 'sandbox']],
      );
    } finally {
      await sandbox.close();
    }
    const off = await consoleServer({ samplesKeep: 0 });
    try {
      const operator = await OperatorSession.create(off.consoleUrl, off.server.services.storage, 'nobody-keeps', 'solver');
      const desk = await operator.openDesk();
      const id = await submitOk(off, { method: 'base64', body: b64(png()) });
      await desk.nextTask();
      await operator.post(`/api/desk/${id}/answer`, { text: 'mnop' });
      assert.equal(await waitForResult(off, id), 'OK|mnop');
      desk.close();
      assert.equal(await off.server.services.storage.countSamples(), 0);
    } finally {
      await off.close();
    }
  });
});
