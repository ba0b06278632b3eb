/**
 * `protocol: 'v2'`: the same helpers over the JSON createTask API, against a real Solvebox; and a
 * service that speaks only the JSON API (a stub answering as Anti-Captcha does), to show that
 * nothing of in.php / res.php is needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixRequestError, Solvebox, TaskFailedError, UnsupportedCallError } from '@solvebox/client';
import { FAST, PAGE, RECAPTCHA_TEST_KEY, pngBytes, sandbox, startTestServer, type TestServer } from './helpers.js';

describe("protocol 'v2' against Solvebox", () => {
  let t: TestServer;
  let client: Solvebox;
  const paths: string[] = [];
  before(async () => {
    t = await startTestServer();
    const recordingFetch: typeof fetch = (input, init) => {
      paths.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    client = new Solvebox({ apiKey: await t.newKey(10), baseUrl: t.url, protocol: 'v2', fetch: recordingFetch, ...FAST });
  });
  after(() => t.close());

  test('the typed helpers give the same answers as over v1, through /createTask and /getTaskResult only', async () => {
    paths.length = 0;
    assert.match(await client.image(pngBytes(), { numeric: 1, minLength: 4, maxLength: 4 }), /^[0-9]{4}$/);
    assert.equal(await client.image(pngBytes(), { instructions: 'sandbox=answer:W68HP' }), 'W68HP');
    assert.match(await client.recaptchaV2({ sitekey: RECAPTCHA_TEST_KEY, pageurl: PAGE, invisible: true, cookies: 'a:1;b:2' }), /^03SANDBOX_/);
    assert.match(await client.recaptchaV3({ sitekey: RECAPTCHA_TEST_KEY, pageurl: PAGE, action: 'login', minScore: 0.7 }), /^03SANDBOX_/);
    assert.equal(await client.turnstile({ sitekey: '1x00000000000000000000AA', pageurl: PAGE }), 'XXXX.DUMMY.TOKEN.XXXX');
    const proxied = await client.turnstile({
      sitekey: '1x00000000000000000000AA',
      pageurl: PAGE,
      proxy: { type: 'HTTP', host: '203.0.113.7', port: 3128, login: 'u', password: 'p' },
    });
    assert.equal(proxied, 'XXXX.DUMMY.TOKEN.XXXX');
    const geetest = await client.geetest({ gt: 'f1ab2cdefa3456789012345678901234', challenge: 'abc123', pageurl: PAGE });
    assert.equal(geetest.challenge, 'abc123');
    assert.match(geetest.seccode, /\|jordan$/);
    assert.deepEqual([...new Set(paths)].sort(), ['/createTask', '/getTaskResult']);
  });

  test('balance, reports, and several results read one by one', async () => {
    assert.equal(await client.balance(), 2.5, 'the balance the test keys start with');
    const id = await client.submit({ type: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: PAGE });
    await client.waitForResult(id, { kind: 'turnstile' });
    await client.report(id, 'bad');
    await assert.rejects(client.report(id, 'good'), (err: Error) => err instanceof FixRequestError && /ERROR_DUPLICATE_REPORT/.test(err.message));
    const other = await client.submit({ type: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: sandbox('unsolvable') });
    await new Promise((r) => setTimeout(r, 200));
    const results = await client.getResults([id, other]);
    assert.equal(results.get(id)?.status, 'ready');
    assert.equal(results.get(other)?.status, 'failed');
  });

  test('errors keep their classes: a bad key, an unsolvable task; v1-only calls say so', async () => {
    const stranger = new Solvebox({ apiKey: 'f'.repeat(32), baseUrl: t.url, protocol: 'v2', ...FAST });
    await assert.rejects(stranger.balance(), (err: Error) => err instanceof FixRequestError && (err as FixRequestError).code === 'ERROR_KEY_DOES_NOT_EXIST');
    await assert.rejects(
      client.turnstile({ sitekey: '1x00000000000000000000AA', pageurl: sandbox('unsolvable') }),
      (err: Error) => err instanceof TaskFailedError && (err as TaskFailedError).code === 'ERROR_CAPTCHA_UNSOLVABLE',
    );
    await assert.rejects(
      client.bls(
        '664',
        Array.from({ length: 9 }, (_, i) => pngBytes(200, i)),
      ),
      (err: Error) => err instanceof UnsupportedCallError && /protocol 'v1'/.test(err.message),
    );
  });
});

describe("protocol 'v2' against a service that speaks only the JSON API", () => {
  test('createTask, then processing, then ready: the answer, with nothing but baseUrl changed', async () => {
    const bodies: Record<string, unknown>[] = [];
    let polls = 0;
    const service = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push({ path: req.url, ...(JSON.parse(body) as Record<string, unknown>) });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/createTask') return res.end('{"errorId":0,"taskId":7654321}');
        if (req.url === '/getTaskResult') {
          polls++;
          return res.end(
            polls < 2 ? '{"errorId":0,"status":"processing"}' : '{"errorId":0,"status":"ready","solution":{"gRecaptchaResponse":"03AGdBq24"},"cost":"0.002"}',
          );
        }
        res.end('{"errorId":1,"errorCode":"ERROR_KEY_DOES_NOT_EXIST","errorDescription":"Account authorization key not found in the system"}');
      });
    });
    service.listen(0, '127.0.0.1');
    await once(service, 'listening');
    try {
      const client = new Solvebox({ apiKey: 'k'.repeat(32), baseUrl: `http://127.0.0.1:${(service.address() as AddressInfo).port}`, protocol: 'v2', ...FAST });
      assert.equal(await client.recaptchaV2({ sitekey: RECAPTCHA_TEST_KEY, pageurl: PAGE }), '03AGdBq24');
      assert.deepEqual(bodies[0], {
        path: '/createTask',
        clientKey: 'k'.repeat(32),
        task: { type: 'RecaptchaV2TaskProxyless', websiteURL: PAGE, websiteKey: RECAPTCHA_TEST_KEY },
        idempotencyKey: (bodies[0] as { idempotencyKey: string }).idempotencyKey,
      });
      assert.deepEqual(bodies[1], { path: '/getTaskResult', clientKey: 'k'.repeat(32), taskId: 7654321 });
      await assert.rejects(client.balance(), (err: Error) => err instanceof FixRequestError && /Account authorization key not found/.test(err.message));
    } finally {
      service.close();
    }
  });
});
