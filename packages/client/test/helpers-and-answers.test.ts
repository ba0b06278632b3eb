/** The typed helpers against a real Solvebox with the sandbox: one per captcha type. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Solvebox } from '../src/index.js';
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
