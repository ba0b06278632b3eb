/**
 * Fuzz: thousands of random and malformed requests, first as an HTTP library forms them, then as raw
 * bytes on a socket (src/testing/raw-fuzz.ts: truncated multipart, broken chunking, lying lengths,
 * connections closed mid-body, pipelining). Every answer to /in.php and /res.php must be HTTP 200
 * with a well-formed protocol answer (an OK, a value, or a code the server documents), and the server
 * must still be healthy afterwards. The PRNGs are seeded: a failure names its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ERROR_CATALOG, isKnownCode, METHODS, V2_TASK_TYPES } from '@solvebox/protocol';
import { FUZZ_BODY_LIMIT, fuzzRaw, prng, type FuzzCounts } from '../src/testing/raw-fuzz.js';
import { redisServerMissing, startRedisServer } from '../src/testing/redis-server.js';
import { b64, bmp, gif, jpeg, PAGE, png, RECAPTCHA_KEY, startTestServer } from './helpers.js';

const REQUESTS = 3000;
const CONCURRENCY = 16;
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

// The flags that select a method without `method=`, and FunCaptcha's data fields.
const FLAGS = ['recaptcha', 'coordinatescaptcha', 'textcaptcha', 'data[blob]', 'data[', 'data[x]'.repeat(20)];

const NAMES = [
  'key',
  'method',
  'action',
  'id',
  'ids',
  'json',
  'header_acao',
  'googlekey',
  'sitekey',
  'pageurl',
  'body',
  'file',
  'proxy',
  'proxytype',
  'numeric',
  'min_len',
  'max_len',
  'phrase',
  'regsense',
  'calc',
  'language',
  'lang',
  'textinstructions',
  'instructions',
  'version',
  'min_score',
  'enterprise',
  'cookies',
  'gt',
  'challenge',
  'pingback',
  'soft_id',
  'image_base64_1',
  ...METHODS.flatMap((m) => m.params.map((p) => p.name)),
  ...FLAGS,
  '__proto__',
  'constructor',
  'toString',
  '',
];
// Every method in.php knows, with its parameters' names (from the table that validates them), and junk.
const METHOD_NAMES = [...METHODS.map((m) => m.method), 'POST', 'nope', ''];
const ACTIONS = ['get', 'get2', 'getbalance', 'reportgood', 'reportbad', 'GET', 'add_pingback', ''];
const V2_PATHS = ['/createTask', '/getTaskResult', '/getBalance', '/reportCorrect', '/reportIncorrectImageCaptcha', '/getQueueStats'];

function valuePool(key: string): readonly (() => string)[] {
  return [
    () => key,
    () => key,
    () => 'k'.repeat(32),
    () => '',
    () => ' ',
    () => '0',
    () => '1',
    () => '-1',
    () => '1e309',
    () => 'NaN',
    () => '9'.repeat(40),
    () => '1234567890123456',
    () => '1234567890123456,abc',
    () => 'x'.repeat(5000),
    () => '\u0000\u0001\uffff',
    () => '𝕊𝕠𝕝𝕧𝕖',
    () => '%zz%E0%A4%A',
    () => '<script>alert(1)</script>',
    () => "' OR 1=1 --",
    () => '../../etc/passwd',
    () => PAGE,
    () => `${PAGE}?sandbox=hang`,
    () => `${PAGE}?sandbox=delay:0.05`,
    () => 'javascript:alert(1)',
    () => RECAPTCHA_KEY,
    () => '1x00000000000000000000AA',
    () => '1.2.3.4:8080',
    () => 'u:p@[::1]:99999',
    () => 'SOCKS5',
    () => b64(png(300)),
    () => `data:image/gif;base64,${b64(gif(200))}`,
    () => b64(bmp(300)),
    () => b64(png(50)),
    () => '@@@notbase64@@@',
    () => '{"nested": [1, 2, {"a": null}]}',
  ];
}

type Body = { body?: RequestInit['body']; headers?: Record<string, string> };

test(`fuzz: ${REQUESTS} random and malformed requests all get a documented answer (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const t = await startTestServer({ banFailures: 1_000_000, imageMaxBytes: 4000, bodyLimitBytes: 32 * 1024, tokenDeadlineMs: 500, imageDeadlineMs: 500 });
  const random = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const values = valuePool(t.key);
  // Fault codes are excluded: here they could only mean a bug caught by the error handler.
  const FAULTS = ['ERROR_INTERNAL_SERVER_ERROR', 'ERROR_SERVER_ERROR'];
  const served = new Set(
    Object.entries(ERROR_CATALOG)
      .filter(([code, e]) => e.served && !FAULTS.includes(code))
      .map(([code]) => code),
  );

  const ids: string[] = [];
  const cells = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`image_base64_${i + 1}`, b64(gif(200 + i))]));
  /** Valid requests, so that mutations reach the deep paths (admission, results, reports). */
  const templates: readonly (() => Record<string, unknown>)[] = [
    () => ({ key: t.key, method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: PAGE }),
    () => ({
      key: t.key,
      method: 'userrecaptcha',
      googlekey: RECAPTCHA_KEY,
      pageurl: `${PAGE}?sandbox=${pick(['delay:0.05', 'unsolvable', 'flaky', 'bad-pair', 'hang'])}`,
    }),
    () => ({ key: t.key, method: 'base64', body: b64(png(300)), numeric: pick(['0', '1', '4']) }),
    () => ({ key: t.key, method: 'geetest', gt: 'abc123', challenge: 'def456', pageurl: PAGE }),
    () => ({ key: t.key, method: 'bls', instructions: '664', ...cells }),
    () => ({ key: t.key, method: 'cloudflare_challenge', pageurl: PAGE, proxy: '1.2.3.4:80', proxytype: 'HTTP' }),
    () => ({ key: t.key, action: pick(ACTIONS), id: ids.length > 0 ? pick(ids) : '1234567890123456' }),
    () => ({ key: t.key, action: 'get', ids: ids.slice(-5).join(',') }),
  ];

  /** A JSON API body: a real task type with its fields shuffled among the pool's values, or junk. */
  function randomV2Body(): Record<string, unknown> {
    const type = pick(V2_TASK_TYPES);
    const task: Record<string, unknown> = { type: random() < 0.9 ? type.type.split(':')[0] : pick(values)() };
    if (type.type.includes(':')) task.class = type.type.split(':')[1];
    for (const field of Object.keys(type.fields))
      if (random() < 0.7) task[field] = random() < 0.6 ? pick(values)() : pick([0, -1, true, null, [], {}, 2 ** 64]);
    if (random() < 0.3) Object.assign(task, { proxyType: pick(['http', 'SOCKS5', '']), proxyAddress: pick(values)(), proxyPort: pick([80, '99999', 'x']) });
    return {
      ...(random() < 0.9 ? { clientKey: random() < 0.85 ? t.key : pick(values)() } : {}),
      ...(random() < 0.9 ? { task: random() < 0.9 ? task : pick(values)() } : {}),
      ...(random() < 0.4 ? { taskId: ids.length > 0 && random() < 0.7 ? Number(pick(ids)) : pick(values)() } : {}),
      ...(random() < 0.1 ? { callbackUrl: pick(values)(), wait: pick(['0.01', '-1', 'x']) } : {}),
      ...(random() < 0.1 ? { queueId: pick([1, 5, 999, 'x']) } : {}),
    };
  }

  function randomParams(): Record<string, unknown> {
    if (random() < 0.4) {
      const params = pick(templates)();
      for (let i = Math.floor(random() * 3); i > 0; i--) params[pick(NAMES)] = pick(values)();
      return params;
    }
    const params: Record<string, unknown> = {};
    const count = Math.floor(random() * 8);
    if (random() < 0.85) params.key = random() < 0.8 ? t.key : pick(values)();
    if (random() < 0.7) params.method = pick(METHOD_NAMES);
    if (random() < 0.5) params.action = pick(ACTIONS);
    for (let i = 0; i < count; i++) params[pick(NAMES)] = pick(values)();
    if (random() < 0.1) params.json = random() < 0.5 ? 1 : true;
    if (random() < 0.1) params.nested = { deep: [[[{ x: 1 }]]] };
    return params;
  }

  function randomBody(params: Record<string, unknown>): Body {
    const asStrings = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    switch (random() < 0.6 ? Math.floor(random() * 3) : Math.floor(random() * 9)) {
      case 0:
        return { body: new URLSearchParams(asStrings) };
      case 1:
        return { body: JSON.stringify(params), headers: { 'content-type': 'application/json' } };
      case 2: {
        const form = new FormData();
        for (const [k, v] of Object.entries(asStrings)) form.append(k, v);
        if (random() < 0.6)
          form.append(
            pick(['file', 'file', 'imginstructions', '']),
            new Blob([pick([png(), jpeg(), gif(), bmp(), png(5000), new Uint8Array(0)])]),
            pick(['c.png', 'c.jpg', 'c.exe', '', 'a'.repeat(300)]),
          );
        return { body: form };
      }
      case 3:
        return { body: pick(['{', '[]', 'null', '"str"', '{"key": {"$gt": ""}}', '1e999']), headers: { 'content-type': 'application/json' } };
      case 4:
        return {
          body: `--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n${'x'.repeat(Math.floor(random() * 100))}`,
          headers: { 'content-type': pick(['multipart/form-data; boundary=b', 'multipart/form-data', 'multipart/form-data; boundary=']) },
        };
      case 5:
        return {
          body: new Uint8Array(Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256))),
          headers: { 'content-type': pick(['application/octet-stream', 'image/png', 'application/x-www-form-urlencoded', 'text/plain']) },
        };
      case 6:
        return { body: 'x'.repeat(40 * 1024), headers: { 'content-type': pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain']) } };
      case 7:
        return {
          body: `key=${t.key}&method=base64&body=${'%'.repeat(Math.floor(random() * 5))}zz&json=${pick(['1', '0', '%'])}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        };
      default:
        return {};
    }
  }

  function randomQuery(params: Record<string, unknown>): string {
    if (random() < 0.15) return pick(['%', '%%%', '&&&==', '=x', 'key', '?key=%E0%A4%A', 'json=1&json=0&json=1', 'a'.repeat(6000), '%00']);
    return new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))).toString();
  }

  /**
   * A plain answer: OK|..., a balance, OK_REPORT_RECORDED or a code. An `ids` answer joins the
   * tasks' own answers, which can be any text, so it only has to be free of HTML and stack traces.
   */
  function isProtocolPlain(body: string, multi: boolean): boolean {
    if (body.startsWith('OK|') || body === 'OK_REPORT_RECORDED' || /^-?[0-9]+(\.[0-9]+)?$/.test(body) || served.has(body)) return true;
    return multi && !body.startsWith('<') && !/\bat .*\.js:\d+/.test(body);
  }

  function check(path: string, status: number, body: string, label: string, multi: boolean): void {
    assert.equal(status, 200, `${label}: HTTP ${status} ${body.slice(0, 200)}`);
    if (V2_PATHS.includes(path)) {
      const answer = JSON.parse(body) as { errorId: unknown; errorCode?: unknown; errorDescription?: unknown };
      assert.equal(typeof answer.errorId, 'number', `${label}: ${body.slice(0, 200)}`);
      if (answer.errorId !== 0) {
        assert.ok(typeof answer.errorCode === 'string' && typeof answer.errorDescription === 'string', `${label}: ${body.slice(0, 200)}`);
        assert.ok(!['ERROR_INTERNAL_SERVER_ERROR', 'ERROR_SERVER_ERROR'].includes(answer.errorCode as string), `${label}: a fault: ${body}`);
      }
      assert.ok(!/\bat .*\.js:\d+/.test(body), `${label}: stack trace leaked`);
      assert.ok(!body.includes(t.key), `${label}: the key was echoed`);
      return;
    }
    let parsed: { status: number; request: unknown } | undefined;
    try {
      parsed = body.startsWith('{') ? (JSON.parse(body) as { status: number; request: unknown }) : undefined;
    } catch {
      parsed = undefined; // an `ids` answer may start with a GeeTest object: plain text
    }
    if (parsed) {
      assert.ok(parsed.status === 0 || parsed.status === 1, `${label}: status ${parsed.status}`);
      if (parsed.status === 0) {
        assert.ok(typeof parsed.request === 'string' && isKnownCode(parsed.request) && served.has(parsed.request), `${label}: ${body.slice(0, 200)}`);
      }
      assert.ok(!/\bat .*\.js:\d+/.test(body), `${label}: stack trace leaked`);
    } else {
      assert.ok(isProtocolPlain(body, multi), `${label}: ${path} answered ${JSON.stringify(body.slice(0, 200))}`);
    }
    assert.ok(!body.includes(t.key) || body.startsWith('OK|'), `${label}: the key was echoed`);
  }

  let next = 0;
  const failures: string[] = [];
  async function worker(): Promise<void> {
    while (next < REQUESTS) {
      const n = next++;
      const path = random() < 0.03 ? pick(['/in.php/', '/IN.PHP']) : random() < 0.3 ? pick(V2_PATHS) : pick(['/in.php', '/res.php', '/res.php?']);
      const params = V2_PATHS.includes(path) ? randomV2Body() : randomParams();
      const label = `request ${n} (seed ${SEED})`;
      const usePost = random() < 0.6;
      const { body, headers } = usePost ? randomBody(params) : {};
      const url = `${t.url}${path}${path.includes('?') ? '' : '?'}${randomQuery(usePost && random() < 0.8 ? {} : params)}`;
      try {
        const res = await fetch(url, { method: usePost ? 'POST' : 'GET', ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
        const text = await res.text();
        const id = /^OK\|([0-9]{16})$/.exec(text)?.[1] ?? /"taskId":([0-9]{16})/.exec(text)?.[1];
        if (id !== undefined) ids.push(id);
        if (path === '/in.php/' || path === '/IN.PHP') assert.equal(res.status, 404, `${label}: ${path}`);
        else check(path, res.status, text, label, 'ids' in params);
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual(failures.slice(0, 10), []);
    assert.equal(await (await fetch(`${t.url}/healthz`)).text(), 'ok');
    const balance = await fetch(`${t.url}/res.php?key=${t.key}&action=getbalance`);
    assert.equal(await balance.text(), '0');
  } finally {
    await t.close();
  }
});

const RAW_CASES = Number(process.env.FUZZ_RAW_CASES ?? 3000);

function assertClean(counts: FuzzCounts): void {
  assert.deepEqual(counts.failures, []);
  assert.ok(counts.cases > 0);
  const { nonProtocol, unanswered, hangs, crashes } = counts;
  assert.deepEqual({ nonProtocol, unanswered, hangs, crashes }, { nonProtocol: 0, unanswered: 0, hangs: 0, crashes: 0 });
}

test(`raw fuzz: ${RAW_CASES} byte-level requests, every one answered by the protocol or closed by its client (seed ${SEED})`, {
  timeout: 120_000,
}, async () => {
  const t = await startTestServer({ banFailures: 1_000_000, imageMaxBytes: 4000, bodyLimitBytes: FUZZ_BODY_LIMIT, tokenDeadlineMs: 500, imageDeadlineMs: 500 });
  try {
    const counts = await fuzzRaw({ url: t.url, key: t.key, seed: SEED, total: RAW_CASES });
    assertClean(counts);
    assert.ok(Object.keys(counts.byKind).length >= 15, `every kind of fault was tried: ${Object.keys(counts.byKind).join(', ')}`);
  } finally {
    await t.close();
  }
});

test(`raw fuzz on a Redis node: 1000 byte-level requests (seed ${SEED + 1})`, { timeout: 60_000, skip: redisServerMissing() }, async () => {
  const redis = await startRedisServer();
  const t = await startTestServer({
    storage: 'redis',
    redisUrl: redis.url,
    redisPrefix: `fuzz-${randomUUID()}:`,
    banFailures: 1_000_000,
    bodyLimitBytes: FUZZ_BODY_LIMIT,
    tokenDeadlineMs: 500,
  });
  try {
    assertClean(await fuzzRaw({ url: t.url, key: t.key, seed: SEED + 1, total: 1000 }));
  } finally {
    await t.close();
    await redis.dispose();
  }
});
