/**
 * The relay backend over real HTTP: a second Solvebox, started here, is the upstream (its sandbox's
 * magic values drive every upstream outcome), and a fault-injecting fake upstream on loopback sends
 * what a Solvebox never does (HTML 502s, garbled bodies, unknown codes, a task that never ends).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig, startServer } from '../src/index.js';
import type { Health } from '../src/health.js';
import { loadUpstreams } from '../src/solving/relay/upstreams.js';
import { OperatorSession } from './console-helpers.js';
import {
  b64,
  eventually,
  getQuery,
  PAGE,
  png,
  result,
  startTestServer,
  submit,
  submitOk,
  testConfig,
  tempDir,
  turnstile,
  waitForResult,
  type TestServer,
} from './helpers.js';
import {
  capturingLogger,
  json,
  startFakeUpstream,
  startRelay,
  upstreamSpec,
  upstreamTaskCount,
  type FakeUpstream,
  type UpstreamEntry,
} from './relay-helpers.js';

const TYPES = ['turnstile', 'userrecaptcha', 'image'];
const PROXY = { proxy: 'user:secret@203.0.113.7:3128', proxytype: 'HTTP' };

/** A Solvebox upstream entry for `server`, its key under `keyEnv`. */
function solveboxUpstream(name: string, server: TestServer, extra: Partial<UpstreamEntry> = {}): UpstreamEntry {
  return { name, url: server.url, dialect: 'v1', keyEnv: `RELAY_TEST_${name.toUpperCase()}_KEY`, types: TYPES, ...extra };
}

function keysOf(...entries: [UpstreamEntry, TestServer | string][]): Record<string, string> {
  return Object.fromEntries(entries.map(([e, s]) => [e.keyEnv, typeof s === 'string' ? s : s.key]));
}

async function health(t: TestServer): Promise<Health> {
  return (await (await fetch(`${t.url}/health`)).json()) as Health;
}

const circuitOf = async (t: TestServer, name: string): Promise<string | undefined> => (await health(t)).relay?.upstreams.find((u) => u.name === name)?.circuit;

describe('relaying to a Solvebox upstream', () => {
  let upstream: TestServer;
  let relay: TestServer;
  before(async () => {
    upstream = await startTestServer({ pricesMicros: loadConfig({ prices: 'turnstile=0.002,image=0.0005' }).pricesMicros });
    const a = solveboxUpstream('a', upstream);
    relay = await startRelay([a], keysOf([a, upstream]));
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  test("answers with the upstream's answer under our own id, charges its price, and credits relay:NAME", async () => {
    const before = upstreamTaskCount(upstream);
    const id = await submitOk(relay, turnstile(undefined, { sitekey: '1x00000000000000000000AA' }));
    assert.equal(await waitForResult(relay, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
    assert.equal(await result(relay, id, { action: 'get2' }), 'OK|XXXX.DUMMY.TOKEN.XXXX|0.002');
    const stats = await relay.server.services.storage.solverStats();
    assert.ok((stats.find((s) => s.solver === 'relay:a')?.solved ?? 0) >= 1);
    assert.ok((stats.find((s) => s.solver === 'relay:a')?.chargedMicros ?? 0) >= 2_000, 'the stats count what the upstream charged');
    assert.equal(upstreamTaskCount(upstream) - before, 1, 'one upstream task per task');
    const spent = (await health(relay)).relay?.upstreams.find((u) => u.name === 'a')?.spentToday ?? 0;
    assert.ok(spent >= 0.002, `spend recorded: ${spent}`);
  });

  test('image tasks go with their hints, and come back read', async () => {
    const id = await submitOk(relay, { method: 'base64', body: b64(png(600)), textinstructions: 'sandbox=answer:Relay7', numeric: 4, min_len: 6 });
    assert.equal(await waitForResult(relay, id), 'OK|Relay7');
    const ticket = await relay.server.services.storage.relayTicket(id);
    const sent = await upstreamSpec(upstream, ticket?.upstreamId ?? '');
    assert.equal(sent.type, 'image');
    assert.deepEqual(sent.type === 'image' && [sent.hints.numeric, sent.hints.minLength, sent.hints.instructions], [4, 6, 'sandbox=answer:Relay7']);
  });

  test("the sandbox's magic outcomes reach the client exactly, and set our own marks", async () => {
    const unsolvable = await submitOk(relay, turnstile('unsolvable'));
    assert.equal(await waitForResult(relay, unsolvable), 'ERROR_CAPTCHA_UNSOLVABLE');

    const proxyFail = await submitOk(relay, turnstile('proxy-fail', PROXY));
    assert.equal(await waitForResult(relay, proxyFail), 'ERROR_PROXY_CONNECTION_FAILED');
    assert.equal(await submit(relay, turnstile(undefined, PROXY)), 'ERROR_BAD_PROXY', 'the proxy is marked bad here too');

    const badPair = await submitOk(relay, turnstile('bad-pair', { sitekey: '0x4AAAAAAAbadPairKey' }));
    assert.equal(await waitForResult(relay, badPair), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(
      await submit(relay, turnstile('bad-pair', { sitekey: '0x4AAAAAAAbadPairKey' })),
      'ERROR_BAD_TOKEN_OR_PAGEURL',
      'the pair is marked bad here too',
    );

    const flaky = await submitOk(relay, turnstile('flaky'));
    assert.match(await waitForResult(relay, flaky), /^OK\|/, 'the upstream retried its own flaky attempt');

    const crash = await submitOk(relay, turnstile('crash'));
    assert.equal(await waitForResult(relay, crash, {}, 10_000), 'ERROR_CAPTCHA_UNSOLVABLE');

    const started = Date.now();
    const delayed = await submitOk(relay, turnstile('delay:1'));
    assert.match(await waitForResult(relay, delayed), /^OK\|/);
    assert.ok(Date.now() - started >= 1000, 'answered after the delay');
  });

  test('the same through the JSON API (dialect v2): answers, its cost as our price, and reports', async () => {
    const v2 = solveboxUpstream('json', upstream, { dialect: 'v2' });
    const viaJson = await startRelay([v2], keysOf([v2, upstream]));
    try {
      const id = await submitOk(viaJson, turnstile(undefined, { sitekey: '1x00000000000000000000AA' }));
      assert.equal(await waitForResult(viaJson, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
      assert.equal(await result(viaJson, id, { action: 'get2' }), 'OK|XXXX.DUMMY.TOKEN.XXXX|0.002');
      const image = await submitOk(viaJson, { method: 'base64', body: b64(png(600)), textinstructions: 'sandbox=answer:Json42' });
      assert.equal(await waitForResult(viaJson, image), 'OK|Json42');
      assert.equal(await waitForResult(viaJson, await submitOk(viaJson, turnstile('unsolvable'))), 'ERROR_CAPTCHA_UNSOLVABLE');
      assert.equal(await result(viaJson, id, { action: 'reportgood' }), 'OK_REPORT_RECORDED');
    } finally {
      await viaJson.close();
    }
  });

  test("a client's reports reach the upstream that answered, with the upstream's own id", async () => {
    const id = await submitOk(relay, turnstile());
    assert.match(await waitForResult(relay, id), /^OK\|/);
    const reported = async (): Promise<number> => (await upstream.server.services.storage.solverStats()).find((s) => s.solver === 'sandbox')?.reportedBad ?? 0;
    const before = await reported();
    assert.equal(await result(relay, id, { action: 'reportbad' }), 'OK_REPORT_RECORDED');
    await eventually(async () => (await reported()) === before + 1, 5000, 'the upstream recorded the report');
    assert.equal((await relay.server.services.storage.solverStats()).find((s) => s.solver === 'relay:a')?.reportedBad, 1);
  });
});

describe('failover, circuits and faults', () => {
  let good: TestServer;
  const fakes: FakeUpstream[] = [];
  const relays: TestServer[] = [];
  before(async () => {
    good = await startTestServer();
  });
  after(async () => {
    for (const r of relays) await r.close();
    for (const f of fakes) await f.close();
    await good?.close();
  });

  async function relayTo(fake: FakeUpstream, entry: Partial<UpstreamEntry> = {}, withGood = true, log = capturingLogger()) {
    const bad: UpstreamEntry = { name: 'bad', url: fake.url, dialect: 'v1', keyEnv: 'RELAY_TEST_BAD_KEY', types: TYPES, priority: 1, ...entry };
    const ok = solveboxUpstream('good', good, { priority: 2 });
    const relay = await startRelay(withGood ? [bad, ok] : [bad], { RELAY_TEST_BAD_KEY: 'f'.repeat(32), ...keysOf([ok, good]) }, {}, { log });
    relays.push(relay);
    return { relay, log };
  }

  async function fake(handlers: Parameters<typeof startFakeUpstream>[0]): Promise<FakeUpstream> {
    const f = await startFakeUpstream(handlers);
    fakes.push(f);
    return f;
  }

  test('HTML 502s move tasks to the next upstream; repeated faults open the circuit, and a half-open probe tries again', async () => {
    const html = await fake({ in: (_req, res) => void res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>') });
    const { relay } = await relayTo(html, { breakerFailures: 2, breakerCooldown: 1 });
    for (let i = 0; i < 2; i++) assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.equal(await circuitOf(relay, 'bad'), 'open');
    const seen = html.requests.length;
    assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.equal(html.requests.length, seen, 'no task goes to an open circuit');
    await sleep(1100);
    assert.equal(await circuitOf(relay, 'bad'), 'half-open');
    assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.ok(html.requests.length > seen, 'the half-open circuit let one probe through');
    assert.equal(await circuitOf(relay, 'bad'), 'open', 'the failed probe opened it again');
  });

  test('a garbled body is a fault like any transport failure', async () => {
    const garbled = await fake({ in: (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.from([0, 0xff, 0xfe, 0x13, 0x37])) });
    const { relay } = await relayTo(garbled);
    assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.ok(garbled.requests.some((r) => r.path === '/in.php'));
  });

  test('an upstream that accepts and never answers gives way to the next after its timeout', async () => {
    const silent = await fake({ in: (_req, res) => json(res, 1, '90001'), res: (_req, res) => json(res, 0, 'CAPCHA_NOT_READY') });
    const { relay } = await relayTo(silent, { timeout: 1 });
    const started = Date.now();
    assert.match(await waitForResult(relay, await submitOk(relay, turnstile()), {}, 8000), /^OK\|/);
    assert.ok(Date.now() - started >= 1000, 'waited out the timeout');
    assert.ok(silent.requests.filter((r) => r.path === '/res.php').length >= 1, 'the silent upstream was polled');
  });

  test("a Solvebox upstream's hang gives way after the upstream's timeout; with no upstream left the task ends unsolvable", async () => {
    const entry = solveboxUpstream('hangs', good, { timeout: 1 });
    const relay = await startRelay([entry], keysOf([entry, good]));
    relays.push(relay);
    const started = Date.now();
    assert.equal(await waitForResult(relay, await submitOk(relay, turnstile('hang')), {}, 8000), 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.ok(Date.now() - started >= 1000, 'after the timeout, not at once');
  });

  test('slow answers are waited for: slowness within the deadline is not a fault', async () => {
    const slow = await fake({
      in: async (_req, res) => {
        await sleep(600);
        json(res, 1, '90002');
      },
      res: async (_req, res) => {
        await sleep(600);
        json(res, 1, 'slow-but-right');
      },
    });
    const { relay } = await relayTo(slow, {}, false);
    assert.equal(await waitForResult(relay, await submitOk(relay, turnstile()), {}, 8000), 'OK|slow-but-right');
  });

  test('an unknown upstream code is logged verbatim and ends the task unsolvable, never a hang', async () => {
    const odd = await fake({ in: (_req, res) => json(res, 1, '90003'), res: (_req, res) => json(res, 0, 'ERROR_NEVER_SEEN_BEFORE_42') });
    const { relay, log } = await relayTo(odd);
    assert.equal(await waitForResult(relay, await submitOk(relay, turnstile())), 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.ok(
      log.lines.some((l) => l.includes('ERROR_NEVER_SEEN_BEFORE_42')),
      'the code is in the log',
    );
  });

  test('no money upstream moves on without opening its circuit; a refused key moves on and never reaches the client', async () => {
    const broke = await fake({ in: (_req, res) => json(res, 0, 'ERROR_ZERO_BALANCE') });
    const { relay } = await relayTo(broke, { breakerFailures: 1 });
    assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.equal(await circuitOf(relay, 'bad'), 'closed');

    const refused = await fake({ in: (_req, res) => json(res, 0, 'ERROR_WRONG_USER_KEY') });
    const second = await relayTo(refused, { breakerFailures: 1 });
    assert.match(await waitForResult(second.relay, await submitOk(second.relay, turnstile())), /^OK\|/);
    assert.equal(await circuitOf(second.relay, 'bad'), 'open');
    // With no other upstream the task ends unsolvable: the client's own key is fine.
    const alone = await relayTo(refused, {}, false);
    assert.equal(await waitForResult(alone.relay, await submitOk(alone.relay, turnstile())), 'ERROR_CAPTCHA_UNSOLVABLE');
  });

  test('an unsolvable answer ends the task, or with "unsolvable": "next" goes to the next upstream', async () => {
    const unsolvable = await fake({ in: (_req, res) => json(res, 1, '90004'), res: (_req, res) => json(res, 0, 'ERROR_CAPTCHA_UNSOLVABLE') });
    const ends = await relayTo(unsolvable);
    assert.equal(await waitForResult(ends.relay, await submitOk(ends.relay, turnstile())), 'ERROR_CAPTCHA_UNSOLVABLE');
    const next = await relayTo(unsolvable, { unsolvable: 'next' });
    assert.match(await waitForResult(next.relay, await submitOk(next.relay, turnstile())), /^OK\|/);
  });

  test('an upstream fix-request error becomes our code for the client, without trying others', async () => {
    const picky = await fake({ in: (_req, res) => json(res, 0, 'ERROR_WRONG_GOOGLEKEY') });
    const goodTasks = upstreamTaskCount(good);
    const { relay } = await relayTo(picky);
    const id = await submitOk(relay, { method: 'userrecaptcha', googlekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiPICK', pageurl: PAGE });
    assert.equal(await waitForResult(relay, id), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(picky.requests.filter((r) => r.path === '/in.php').length, 1);
    assert.equal(upstreamTaskCount(good), goodTasks, 'the next upstream was not asked');
  });
});

describe('daily budgets', () => {
  let a: TestServer;
  let b: TestServer;
  let relay: TestServer;
  before(async () => {
    const prices = loadConfig({ prices: 'turnstile=0.002' }).pricesMicros;
    a = await startTestServer({ pricesMicros: prices });
    b = await startTestServer({ pricesMicros: prices });
    const ea = solveboxUpstream('a', a, { priority: 1, dailyBudget: 0.003 });
    const eb = solveboxUpstream('b', b, { priority: 2 });
    relay = await startRelay([ea, eb], keysOf([ea, a], [eb, b]));
  });
  after(async () => {
    await relay?.close();
    await a?.close();
    await b?.close();
  });

  test('a spent budget stops routing to that upstream for the day', async () => {
    for (let i = 0; i < 3; i++) assert.match(await waitForResult(relay, await submitOk(relay, turnstile())), /^OK\|/);
    assert.equal(upstreamTaskCount(a), 2, 'a took tasks until its spend reached its budget');
    assert.equal(upstreamTaskCount(b), 1);
    const status = (await health(relay)).relay?.upstreams.find((u) => u.name === 'a');
    assert.deepEqual([status?.spentToday, status?.dailyBudget], [0.004, 0.003]);
  });
});

describe('concurrency limits', () => {
  test('an upstream at its concurrency limit passes tasks to the next one', async () => {
    const a = await startTestServer();
    const b = await startTestServer();
    const ea = solveboxUpstream('a', a, { priority: 1, concurrency: 1 });
    const eb = solveboxUpstream('b', b, { priority: 2 });
    const relay = await startRelay([ea, eb], keysOf([ea, a], [eb, b]));
    try {
      const ids = await Promise.all([1, 2, 3].map(() => submitOk(relay, turnstile('delay:1'))));
      for (const id of ids) assert.match(await waitForResult(relay, id, {}, 8000), /^OK\|/);
      assert.deepEqual([upstreamTaskCount(a), upstreamTaskCount(b)], [1, 2]);
    } finally {
      await relay.close();
      await a.close();
      await b.close();
    }
  });
});

describe('upstream keys stay secret', () => {
  test('no key appears in logs, errors, /health, metrics or the dashboard', async () => {
    const upstream = await startTestServer();
    const refused = await startFakeUpstream({
      in: (_req, res) => json(res, 0, 'ERROR_KEY_DOES_NOT_EXIST'),
      res: (_req, res) => json(res, 0, 'ERROR_KEY_DOES_NOT_EXIST'),
    });
    const deadUrl = refused.url.replace(/:\d+$/, ':9'); // nothing listens on the discard port
    const log = capturingLogger();
    const secretRefused = 'SECRETrefused00000000000000000001';
    const secretDead = 'SECRETdead000000000000000000000002';
    const entries: UpstreamEntry[] = [
      { name: 'refused', url: refused.url, dialect: 'v1', keyEnv: 'RELAY_TEST_SECRET_1', types: TYPES, priority: 1 },
      { name: 'dead', url: deadUrl, dialect: 'v2', keyEnv: 'RELAY_TEST_SECRET_2', types: TYPES, priority: 2 },
      solveboxUpstream('ok', upstream, { priority: 3 }),
    ];
    const relay = await startRelay(
      entries,
      { RELAY_TEST_SECRET_1: secretRefused, RELAY_TEST_SECRET_2: secretDead, RELAY_TEST_OK_KEY: upstream.key },
      { console: true, consolePort: 0, metricsToken: 'metrics-token-for-the-test', logLevel: 'debug' },
      { log },
    );
    try {
      const outputs: string[] = [];
      const id = await submitOk(relay, turnstile());
      outputs.push(await waitForResult(relay, id));
      outputs.push(await result(relay, id, { action: 'reportgood' }));
      outputs.push(await waitForResult(relay, await submitOk(relay, turnstile('unsolvable'))));
      outputs.push(JSON.stringify(await health(relay)));
      const consoleUrl = relay.server.consoleUrl as string;
      outputs.push(await (await fetch(`${consoleUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-the-test' } })).text());
      const admin = await OperatorSession.create(consoleUrl, relay.server.services.storage, 'keys-admin', 'admin');
      outputs.push(JSON.stringify(await admin.json('/api/admin/overview')));
      await sleep(100); // the forwarded report's log lines
      outputs.push(...log.lines);
      const all = outputs.join('\n');
      assert.match(all, /"name":"refused"/, 'the upstreams are shown');
      assert.match(all, /solvebox_relay_upstream_circuit\{upstream="dead"\}/);
      assert.ok(
        log.lines.some((l) => l.includes('ERROR_KEY_DOES_NOT_EXIST')),
        'the refusal was logged',
      );
      for (const secret of [secretRefused, secretDead, upstream.key]) assert.ok(!all.includes(secret), `a key leaked: ${secret.slice(0, 10)}...`);
    } finally {
      await relay.close();
      await refused.close();
      await upstream.close();
    }
  });
});

describe('three hops: client → A (relay) → B (relay) → C (sandbox)', () => {
  let c: TestServer;
  let b: TestServer;
  let a: TestServer;
  before(async () => {
    c = await startTestServer();
    const toC = solveboxUpstream('c', c);
    b = await startRelay([toC], keysOf([toC, c]));
    const toB = solveboxUpstream('b', b);
    a = await startRelay([toB], keysOf([toB, b]));
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await c?.close();
  });

  test('ids, errors, marks and long-polls stay exact end to end', async () => {
    // The answer of C's sandbox, under A's id; each hop has a task of its own.
    const id = await submitOk(a, turnstile(undefined, { sitekey: '1x00000000000000000000AA' }));
    assert.equal(await waitForResult(a, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
    assert.deepEqual([upstreamTaskCount(b), upstreamTaskCount(c)], [1, 1]);
    assert.equal(await result(a, '12345678901234'), 'ERROR_WRONG_CAPTCHA_ID', "B's and C's ids mean nothing at A");

    // A long-poll at A answers when C's delayed answer comes back through B, not at its wait.
    const delayed = await submitOk(a, turnstile('delay:1'));
    const started = Date.now();
    const polled = await getQuery(a.url, '/res.php', { key: a.key, action: 'get', id: delayed, wait: 20 });
    assert.match(polled.body, /^OK\|/);
    assert.ok(Date.now() - started < 8000, `answered in ${Date.now() - started} ms`);

    // Errors pass both hops as they are, and the marks they set hold at each.
    assert.equal(await waitForResult(a, await submitOk(a, turnstile('unsolvable'))), 'ERROR_CAPTCHA_UNSOLVABLE');
    const pair = { sitekey: '0x4AAAAAAAchainPair' };
    assert.equal(await waitForResult(a, await submitOk(a, turnstile('bad-pair', pair))), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(await submit(a, turnstile('bad-pair', pair)), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(await submit(b, turnstile('bad-pair', pair)), 'ERROR_BAD_TOKEN_OR_PAGEURL');
  });
});

describe('configuration', () => {
  test('--fallbacks takes a list per type, and `none` means none', () => {
    const config = loadConfig({ fallbacks: 'image=human,relay,turnstile=relay:paid,grid=none' });
    assert.deepEqual(config.fallbacks.image, ['human', 'relay']);
    assert.deepEqual(config.fallbacks.turnstile, ['relay:paid']);
    assert.deepEqual(config.fallbacks.grid, []);
    assert.throws(() => loadConfig({ solvers: 'turnstile=relay:Bad Name' }), ConfigError);
  });

  test("the issue's example file works as it is", async () => {
    const dir = tempDir();
    const path = `${dir}/upstreams.json`;
    (await import('node:fs')).writeFileSync(
      path,
      `{ "upstreams": [
  { "name": "a", "url": "http://127.0.0.1:8080", "dialect": "v1", "keyEnv": "UPSTREAM_A_KEY",
    "types": ["turnstile", "userrecaptcha", "image"], "priority": 1 } ] }`,
    );
    const upstreams = loadUpstreams(path, { UPSTREAM_A_KEY: 'k'.repeat(32) });
    assert.deepEqual(
      upstreams.map((u) => [u.name, u.url, u.dialect, u.types, u.priority]),
      [['a', 'http://127.0.0.1:8080', 'v1', ['turnstile', 'userrecaptcha', 'image'], 1]],
    );
  });

  test('a bad upstreams file, a key in it, a missing key variable or an unknown upstream refuse to start, saying why', async () => {
    const cases: [unknown, RegExp, Record<string, string>?][] = [
      [{ upstreams: [] }, /at least one entry/],
      [{ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1', keyEnv: 'RELAY_TEST_UNSET_VAR', types: ['turnstile'] }] }, /RELAY_TEST_UNSET_VAR .*not set/],
      [{ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1', keyEnv: 'K', key: 'abc', types: ['turnstile'] }] }, /keys do not go in the file/],
      [{ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1', keyEnv: 'RELAY_TEST_K', types: ['no-such-type'] }] }, /unknown task type/, { RELAY_TEST_K: 'k' }],
      [{ upstreams: [{ name: 'a', url: 'ftp://x', keyEnv: 'RELAY_TEST_K', types: ['turnstile'] }] }, /http\(s\) URL/, { RELAY_TEST_K: 'k' }],
    ];
    for (const [file, message, env] of cases) {
      const dir = tempDir();
      const path = `${dir}/upstreams.json`;
      (await import('node:fs')).writeFileSync(path, JSON.stringify(file));
      Object.assign(process.env, env ?? {});
      await assert.rejects(startServer(testConfig(dir, { upstreams: path, solvers: loadConfig({ solvers: '*=sandbox,turnstile=relay' }).solvers })), message);
    }
    const dir = tempDir();
    const path = `${dir}/upstreams.json`;
    (await import('node:fs')).writeFileSync(
      path,
      JSON.stringify({ upstreams: [{ name: 'a', url: 'http://127.0.0.1:1', keyEnv: 'RELAY_TEST_K', types: ['turnstile'] }] }),
    );
    process.env.RELAY_TEST_K = 'k';
    await assert.rejects(
      startServer(testConfig(dir, { upstreams: path, solvers: loadConfig({ solvers: '*=sandbox,turnstile=relay:b' }).solvers })),
      /no upstream named "b"/,
    );
    await assert.rejects(startServer(testConfig(dir, { solvers: loadConfig({ solvers: '*=sandbox,turnstile=relay' }).solvers })), /needs --upstreams/);
  });
});
