/** The typed helpers against a real Solvebox with the sandbox: one per captcha type. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Solvebox } from '@solvebox/client';
import { FAST, PAGE, RECAPTCHA_TEST_KEY, pngBytes, sandbox, startTestServer, type TestServer } from './helpers.js';

describe('typed helpers', () => {
  let t: TestServer;
  let client: Solvebox;
  before(async () => {
    t = await startTestServer();
    client = new Solvebox({ apiKey: await t.newKey(10), baseUrl: t.url, ...FAST });
  });
  after(() => t.close());

  test('image: bytes, Blob or file path; hints reach the solver', async () => {
    const bytes = pngBytes();
    assert.match(await client.image(bytes, { numeric: 1, minLength: 4, maxLength: 4 }), /^[0-9]{4}$/);
    assert.match(await client.image(new Blob([bytes]), { numeric: 2 }), /^[a-z]{6}$/);
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-img-'));
    try {
      const file = join(dir, 'captcha.png');
      writeFileSync(file, bytes);
      assert.equal(await client.image(file, { instructions: 'sandbox=answer:W68HP' }), 'W68HP');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('recaptchaV2 and recaptchaV3: a token string', async () => {
    assert.match(await client.recaptchaV2({ sitekey: RECAPTCHA_TEST_KEY, pageurl: PAGE, invisible: true }), /^03SANDBOX_/);
    assert.match(await client.recaptchaV3({ sitekey: RECAPTCHA_TEST_KEY, pageurl: PAGE, action: 'login', minScore: 0.7 }), /^03SANDBOX_/);
  });

  test("turnstile: the providers' test key gives the dummy token", async () => {
    assert.equal(await client.turnstile({ sitekey: '1x00000000000000000000AA', pageurl: PAGE }), 'XXXX.DUMMY.TOKEN.XXXX');
  });

  test('cloudflareChallenge: the clearance and its user agent', async () => {
    const answer = await client.cloudflareChallenge({
      pageurl: PAGE,
      proxy: { type: 'HTTP', host: '203.0.113.7', port: 3128, login: 'u', password: 'p' },
      userAgent: 'UA/9',
    });
    assert.match(answer.token, /^SANDBOX_/);
    assert.equal(answer.userAgent, 'UA/9');
  });

  test('geetest: an object of challenge, validate, seccode', async () => {
    const answer = await client.geetest({ gt: 'f1ab2cdefa3456789012345678901234', challenge: 'abc123', pageurl: PAGE });
    assert.equal(answer.challenge, 'abc123');
    assert.match(answer.validate, /^[0-9a-z]{32}$/);
    assert.match(answer.seccode, /\|jordan$/);
  });

  test('bls: the list of cells', async () => {
    const cells = Array.from({ length: 9 }, (_, i) => pngBytes(200, i));
    const answer = await client.bls('664', cells);
    assert.ok(answer.length > 0 && answer.every((c) => Number.isInteger(c) && c >= 1 && c <= 9), String(answer));
  });

  test('lower-level calls: submit, getResult, waitForResult, getResults, balance, report', async () => {
    const ready = await client.submit({ type: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: PAGE });
    const pending = await client.submit({ type: 'turnstile', sitekey: '0x4AAAAAAAslow', pageurl: sandbox('delay:2') });
    const failed = await client.submit({ type: 'turnstile', sitekey: '0x4AAAAAAAfail', pageurl: sandbox('unsolvable') });
    assert.match(ready, /^[0-9]{16}$/);
    assert.deepEqual(await client.waitForResult(ready, { kind: 'turnstile', firstPollDelayMs: 0 }), { value: 'XXXX.DUMMY.TOKEN.XXXX', extra: {} });
    assert.deepEqual(await client.getResult(pending), { status: 'pending' });
    await assert.rejects(client.waitForResult(failed), { name: 'TaskFailedError', code: 'ERROR_CAPTCHA_UNSOLVABLE', taskId: failed });
    const states = await client.getResults([ready, pending, failed, '1234567890123456']);
    assert.deepEqual(states.get(ready), { status: 'ready', value: 'XXXX.DUMMY.TOKEN.XXXX', extra: {} });
    assert.deepEqual(states.get(pending), { status: 'pending' });
    assert.equal(states.get(failed)?.status === 'failed' && states.get(failed)?.status, 'failed');
    const unknown = states.get('1234567890123456');
    assert.ok(unknown?.status === 'failed' && unknown.error.code === 'ERROR_WRONG_CAPTCHA_ID');
    assert.equal(await client.balance(), 2.5);
    await client.report(ready, 'good');
    await assert.rejects(client.report(ready, 'bad'), { name: 'FixRequestError', code: 'ERROR_DUPLICATE_REPORT' });
  });

  test('solve() tells the task id, the time and how many tasks it took', async () => {
    const result = await client.solve({ type: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: PAGE });
    assert.match(result.taskId, /^[0-9]{16}$/);
    assert.equal(result.answer, 'XXXX.DUMMY.TOKEN.XXXX');
    assert.equal(result.tasks, 1);
    assert.ok(result.elapsedMs >= 0);
  });

  test('options are checked', () => {
    assert.throws(() => new Solvebox({ apiKey: '' }), /apiKey is required/);
    assert.throws(() => new Solvebox({ apiKey: 'k', pollInterval: 5 } as never), /unknown Solvebox options: pollInterval/);
  });
});

/** The helpers of the whole v1 method list, over both protocols: the same answers either way. */
for (const protocol of ['v1', 'v2'] as const) {
  describe(`typed helpers of the other methods (protocol ${protocol})`, () => {
    let t: TestServer;
    let client: Solvebox;
    before(async () => {
      t = await startTestServer();
      client = new Solvebox({ apiKey: await t.newKey(10), baseUrl: t.url, protocol, ...FAST });
    });
    after(() => t.close());

    test("hcaptcha (its test key's token), funcaptcha with data fields, geetestV4", async () => {
      assert.equal(await client.hcaptcha({ sitekey: '10000000-ffff-ffff-ffff-000000000001', pageurl: PAGE }), '10000000-aaaa-bbbb-cccc-000000000001');
      assert.match(await client.funcaptcha({ publickey: '69A21A01-CC7B-B9C6-0F9A-E7FA06677FFC', pageurl: PAGE, data: { blob: 'abc' } }), /\|r=eu-west-1\|/);
      const v4 = await client.geetestV4({ captchaId: 'e392e1d7fd421dc63325744d5a2b9c73', pageurl: PAGE });
      assert.equal(v4.captcha_id, 'e392e1d7fd421dc63325744d5a2b9c73');
      assert.ok(v4.pass_token && v4.lot_number && v4.gen_time && v4.captcha_output);
    });

    test('widget: a token, or the vendor object', async () => {
      assert.match(String(await client.widget({ method: 'mt_captcha', pageurl: PAGE, params: { sitekey: 'MTPublic-KzqLY1cKH' } })), /^SANDBOX_/);
      const tencent = await client.widget({ method: 'tencent', pageurl: PAGE, params: { app_id: '190014885' } });
      assert.equal(typeof tencent === 'object' && tencent.appid, '190014885');
    });

    test('grid, coordinates, rotate, a text question and audio', async () => {
      const cells = await client.grid(pngBytes(), { instructions: 'cars', rows: 4, columns: 4 });
      assert.ok(cells.length > 0 && cells.every((c) => Number.isInteger(c) && c >= 1 && c <= 16));
      const points = await client.coordinates(pngBytes(), 'the ghost');
      assert.ok(points.length > 0 && points.every((p) => Number.isInteger(p.x) && Number.isInteger(p.y)));
      assert.equal((await client.rotate(pngBytes(), 30)) % 30, 0);
      assert.equal(await client.textQuestion('What colour is the sky? sandbox=answer:blue'), 'blue');
      assert.match(await client.audio(new Uint8Array([0x49, 0x44, 0x33, 4, ...new Array<number>(400).fill(0)]), 'en'), /^[0-9]{6}$/);
    });
  });
}
