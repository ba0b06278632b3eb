/**
 * The v1 dialects, `--dialect captchaai|2captcha`: where CaptchaAI and 2Captcha give one code two
 * meanings, each profile answers as its vendor does, through real HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { loadConfig } from '../src/config.js';
import { getQuery, PAGE, postJson, RECAPTCHA_KEY, startTestServer, submit, submitOk, turnstile, waitForResult, type TestServer } from './helpers.js';

const perType = <T>(value: T) => Object.fromEntries(TASK_TYPES.map((t) => [t, value])) as Record<TaskType, T>;
const PRICES = { ...perType(0), turnstile: 1_000_000 };
const SLOW = turnstile('delay:5');

test('the dialect sets the JSON id format, unless --json-ids says otherwise', () => {
  assert.equal(loadConfig().dialect, 'captchaai');
  assert.equal(loadConfig().jsonIds, 'captchaai');
  assert.equal(loadConfig({ dialect: '2captcha' }).jsonIds, 'string');
  assert.equal(loadConfig({ dialect: '2captcha', 'json-ids': 'captchaai' }).jsonIds, 'captchaai');
  assert.equal(loadConfig({}, { SOLVEBOX_DIALECT: '2captcha' }).jsonIds, 'string');
  assert.throws(() => loadConfig({ dialect: 'anticaptcha' }), /--dialect/);
});

describe('dialect captchaai (the default)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ pricesMicros: PRICES, banFailures: 1000 });
  });
  after(() => t.close());

  test('all threads busy answers ERROR_ZERO_BALANCE; the balance does not gate submits', async () => {
    const key = await t.newKey({ threads: 1, balance: 0 });
    assert.match(await submit({ url: t.url, key }, SLOW), /^OK\|/, 'a zero balance still submits');
    assert.equal(await submit({ url: t.url, key }, SLOW), 'ERROR_ZERO_BALANCE');
  });

  test('JSON ids: a number for userrecaptcha, a string otherwise', async () => {
    const recaptcha = JSON.parse(
      (await getQuery(t.url, '/in.php', { key: t.key, json: 1, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE })).body,
    );
    assert.equal(typeof recaptcha.request, 'number');
    const other = JSON.parse((await getQuery(t.url, '/in.php', { key: t.key, json: 1, ...turnstile() })).body);
    assert.equal(typeof other.request, 'string');
  });

  test('no request limits: 70 submits within a second are all taken', async () => {
    const key = await t.newKey({ threads: 100 });
    const answers = await Promise.all(Array.from({ length: 70 }, () => submit({ url: t.url, key }, turnstile())));
    assert.ok(answers.every((a) => a.startsWith('OK|')));
  });
});

describe('dialect 2captcha', () => {
  let t: TestServer;
  before(async () => {
    const { dialect, jsonIds } = loadConfig({ dialect: '2captcha' });
    t = await startTestServer({ dialect, jsonIds, pricesMicros: PRICES, banFailures: 1000 });
  });
  after(() => t.close());

  test("a balance below the task's price answers ERROR_ZERO_BALANCE; a free type still submits; the price is charged", async () => {
    const broke = { url: t.url, key: await t.newKey({ balance: 0.5 }) };
    assert.equal(await submit(broke, turnstile()), 'ERROR_ZERO_BALANCE');
    const json = JSON.parse((await getQuery(t.url, '/in.php', { key: broke.key, json: 1, ...turnstile() })).body);
    assert.match(json.error_text, /below this task's price, 1/);
    assert.match(await submit(broke, { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE }), /^OK\|/, 'a type without a price');
    const rich = { url: t.url, key: await t.newKey({ balance: 1.5 }) };
    await waitForResult(rich, await submitOk(rich, turnstile()));
    assert.equal((await getQuery(t.url, '/res.php', { key: rich.key, action: 'getbalance' })).body, '0.5', 'the price was debited');
    assert.equal(await submit(rich, turnstile()), 'ERROR_ZERO_BALANCE', 'and the rest is below the next price');
  });

  test('all threads busy answers ERROR_NO_SLOT_AVAILABLE', async () => {
    const busy = { url: t.url, key: await t.newKey({ threads: 1, balance: 100 }) };
    assert.match(await submit(busy, SLOW), /^OK\|/);
    assert.equal(await submit(busy, SLOW), 'ERROR_NO_SLOT_AVAILABLE');
  });

  test('JSON ids are strings for every method', async () => {
    const key = await t.newKey({ balance: 100 });
    const recaptcha = JSON.parse((await getQuery(t.url, '/in.php', { key, json: 1, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE })).body);
    assert.equal(typeof recaptcha.request, 'string');
  });

  test('MAX_USER_TURN: more than 60 submits within 3 s pause the key; other keys go on', async () => {
    const key = await t.newKey({ threads: 200, balance: 1000 });
    const answers: string[] = [];
    for (let i = 0; i < 62; i++) answers.push(await submit({ url: t.url, key }, turnstile()));
    assert.ok(
      answers.slice(0, 60).every((a) => a.startsWith('OK|')),
      'the first 60 are taken',
    );
    assert.deepEqual(answers.slice(60), ['MAX_USER_TURN', 'MAX_USER_TURN']);
    assert.match(await submit({ url: t.url, key: await t.newKey({ balance: 10 }) }, turnstile()), /^OK\|/);
  });

  test('ERROR: 1001: more than 120 ERROR_NO_SLOT_AVAILABLE within a minute block the key', async () => {
    const key = await t.newKey({ threads: 1, balance: 1000 });
    // Its one thread stays busy for the whole test (about 7 s).
    assert.match(await submit({ url: t.url, key }, turnstile('delay:60')), /^OK\|/);
    const answers: string[] = [];
    // 60 at a time, with a pause, so that MAX_USER_TURN does not come first.
    for (let i = 0; i < 121; i++) {
      if (i > 0 && i % 55 === 0) await new Promise((r) => setTimeout(r, 3_100));
      answers.push(await submit({ url: t.url, key }, SLOW));
    }
    assert.ok(answers.slice(0, 120).every((a) => a === 'ERROR_NO_SLOT_AVAILABLE'));
    assert.equal(answers[120], 'ERROR: 1001');
    assert.equal(await submit({ url: t.url, key }, SLOW), 'ERROR: 1001', 'and the key stays blocked');
  });

  test('the JSON API follows: ERROR_ZERO_BALANCE is errorId 10, busy threads 2', async () => {
    const broke = await t.newKey({ threads: 1, balance: 0 });
    const task = { type: 'TurnstileTaskProxyless', websiteURL: PAGE, websiteKey: '1x00000000000000000000AA' };
    const money = JSON.parse((await postJson(t.url, '/createTask', { clientKey: broke, task })).body);
    assert.deepEqual([money.errorId, money.errorCode], [10, 'ERROR_ZERO_BALANCE']);
    const busy = await t.newKey({ threads: 1, balance: 100 });
    const slow = { ...task, websiteURL: `${PAGE}?sandbox=delay:5` };
    assert.equal(JSON.parse((await postJson(t.url, '/createTask', { clientKey: busy, task: slow })).body).errorId, 0);
    const full = JSON.parse((await postJson(t.url, '/createTask', { clientKey: busy, task: slow })).body);
    assert.deepEqual([full.errorId, full.errorCode], [2, 'ERROR_NO_SLOT_AVAILABLE']);
  });
});
