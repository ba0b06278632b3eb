/** Every res.php outcome and error code, each of its causes, through real HTTP. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { getQuery, PAGE, result, startTestServer, submit, submitOk, turnstile, TURNSTILE_PASS, waitForResult, type TestServer } from './helpers.js';

const perType = <T>(value: T) => Object.fromEntries(TASK_TYPES.map((t) => [t, value])) as Record<TaskType, T>;

describe('res.php', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      tokenDeadlineMs: 1000,
      solvers: { ...perType('sandbox'), geetest: 'none' },
      pricesMicros: { ...perType(0), userrecaptcha: 2_000, turnstile: 1_200 },
      banFailures: 1000,
    });
  });
  after(() => t.close());

  const res = (params: Record<string, string | number>, key = t.key) => getQuery(t.url, '/res.php', { key, ...params });

  test('CAPCHA_NOT_READY while the task is being solved, then the answer', async () => {
    const id = await submitOk(t, turnstile('delay:0.3'));
    assert.equal(await result(t, id), 'CAPCHA_NOT_READY');
    assert.deepEqual(JSON.parse(await result(t, id, { json: 1 })), { status: 0, request: 'CAPCHA_NOT_READY' });
    assert.match(await waitForResult(t, id), /^OK\|0\.SANDBOX_/);
  });

  test('ERROR_CAPTCHA_UNSOLVABLE: the solver gives up, the deadline passes, attempts run out, or no solver is configured', async () => {
    const client = { url: t.url, key: await t.newKey({ threads: 10 }) };
    const gaveUp = await submitOk(client, turnstile('unsolvable'));
    const testKey = await submitOk(client, { method: 'turnstile', sitekey: '2x00000000000000000000AB', pageurl: PAGE });
    const hung = await submitOk(client, turnstile('hang'));
    const crashed = await submitOk(client, turnstile('crash'));
    const unrouted = await submitOk(client, {
      method: 'geetest',
      gt: 'f1ab2cdefa3456789012345678901234',
      challenge: '12345678abc90123def45678901234567',
      pageurl: PAGE,
    });
    for (const id of [gaveUp, testKey, hung, crashed, unrouted]) assert.equal(await waitForResult(client, id), 'ERROR_CAPTCHA_UNSOLVABLE', id);
    assert.deepEqual(JSON.parse(await result(client, hung, { json: 1 })), {
      status: 0,
      request: 'ERROR_CAPTCHA_UNSOLVABLE',
      error_text: 'The captcha could not be solved.',
    });
  });

  test('a failed attempt is retried: the second attempt answers', async () => {
    const id = await submitOk(t, turnstile('flaky'));
    assert.match(await waitForResult(t, id), /^OK\|0\.SANDBOX_/);
  });

  test('ERROR_PROXY_CONNECTION_FAILED when the solver cannot use the proxy', async () => {
    const id = await submitOk(t, turnstile('proxy-fail', { proxy: '192.0.2.10:8080', proxytype: 'HTTP' }));
    assert.equal(await waitForResult(t, id), 'ERROR_PROXY_CONNECTION_FAILED');
  });

  test('ERROR_WRONG_ID_FORMAT: id missing, empty, or not digits', async () => {
    for (const id of [undefined, '', 'abc', '12a4', '-5', '1.5', '0x10']) {
      const params: Record<string, string> = { action: 'get' };
      if (id !== undefined) params.id = id;
      assert.equal((await res(params)).body, 'ERROR_WRONG_ID_FORMAT', String(id));
    }
    assert.equal((await res({ action: 'get', ids: '1234567890123456,x' })).body, 'ERROR_WRONG_ID_FORMAT');
    assert.equal((await res({ action: 'reportbad', id: 'x' })).body, 'ERROR_WRONG_ID_FORMAT');
  });

  test("ERROR_WRONG_CAPTCHA_ID: unknown id, another account's id", async () => {
    for (const id of ['1', '1234567890123456', '99999999999999999999999', '0001234567890123']) {
      assert.equal((await res({ action: 'get', id })).body, 'ERROR_WRONG_CAPTCHA_ID', id);
    }
    const other = { url: t.url, key: await t.newKey() };
    const id = await submitOk(other, turnstile());
    assert.match(await waitForResult(other, id), /^OK\|/);
    assert.equal(await result(t, id), 'ERROR_WRONG_CAPTCHA_ID');
    assert.equal((await res({ action: 'reportgood', id })).body, 'ERROR_WRONG_CAPTCHA_ID');
  });

  test('ERROR_EMPTY_ACTION: action missing or empty; an unknown action is ERROR_BAD_PARAMETERS', async () => {
    assert.equal((await res({})).body, 'ERROR_EMPTY_ACTION');
    assert.equal((await res({ action: '' })).body, 'ERROR_EMPTY_ACTION');
    assert.equal((await res({ action: '  ' })).body, 'ERROR_EMPTY_ACTION');
    assert.equal((await res({ action: 'add_pingback' })).body, 'ERROR_BAD_PARAMETERS');
  });

  test('key errors come before action errors', async () => {
    assert.equal((await res({}, 'short')).body, 'ERROR_WRONG_USER_KEY');
    assert.equal((await res({ action: 'get', id: 'x' }, 'y'.repeat(32))).body, 'ERROR_KEY_DOES_NOT_EXIST');
  });

  test('getbalance: a bare number, or JSON status 1', async () => {
    const client = { url: t.url, key: await t.newKey({ balance: 17.87942 }) };
    assert.equal((await getQuery(t.url, '/res.php', { key: client.key, action: 'getbalance' })).body, '17.87942');
    assert.deepEqual(JSON.parse((await getQuery(t.url, '/res.php', { key: client.key, action: 'getbalance', json: 1 })).body), {
      status: 1,
      request: '17.87942',
    });
  });

  test('get2 adds the price, and a solved task is debited from the balance', async () => {
    const client = { url: t.url, key: await t.newKey({ balance: 1 }) };
    const id = await submitOk(client, { method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE });
    assert.equal(await waitForResult(client, id), 'OK|XXXX.DUMMY.TOKEN.XXXX');
    assert.equal((await getQuery(t.url, '/res.php', { key: client.key, action: 'get2', id })).body, 'OK|XXXX.DUMMY.TOKEN.XXXX|0.0012');
    assert.deepEqual(JSON.parse((await getQuery(t.url, '/res.php', { key: client.key, action: 'get2', id, json: 1 })).body), {
      status: 1,
      request: 'XXXX.DUMMY.TOKEN.XXXX',
      price: '0.0012',
    });
    assert.equal((await getQuery(t.url, '/res.php', { key: client.key, action: 'getbalance' })).body, '0.9988');
    // Failed tasks are not charged.
    const failed = await submitOk(client, turnstile('unsolvable'));
    assert.equal(await waitForResult(client, failed), 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.equal((await getQuery(t.url, '/res.php', { key: client.key, action: 'get2', id: failed })).body, 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.equal((await getQuery(t.url, '/res.php', { key: client.key, action: 'getbalance' })).body, '0.9988');
  });

  test('get with ids: answers joined by | in the order asked', async () => {
    const key = await t.newKey({ threads: 10 });
    const client = { url: t.url, key };
    const res = (params: Record<string, string | number>) => getQuery(t.url, '/res.php', { key, ...params });
    const solved = await submitOk(client, { method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE });
    const failed = await submitOk(client, turnstile('unsolvable'));
    await waitForResult(client, solved);
    await waitForResult(client, failed);
    const pending = await submitOk(client, turnstile('delay:2'));
    const ids = [failed, '1234567890123456', solved, pending].join(',');
    assert.equal((await res({ action: 'get', ids })).body, 'ERROR_CAPTCHA_UNSOLVABLE|ERROR_WRONG_CAPTCHA_ID|XXXX.DUMMY.TOKEN.XXXX|CAPCHA_NOT_READY');
    assert.deepEqual(JSON.parse((await res({ action: 'get', ids: `${solved}, ${solved}`, json: 1 })).body), {
      status: 1,
      request: 'XXXX.DUMMY.TOKEN.XXXX|XXXX.DUMMY.TOKEN.XXXX',
    });
    assert.equal((await res({ action: 'get', ids: Array(101).fill(solved).join(',') })).body, 'ERROR_BAD_PARAMETERS');
  });

  test('reportgood and reportbad: OK_REPORT_RECORDED once, then ERROR_DUPLICATE_REPORT; only solved tasks', async () => {
    const key = await t.newKey({ threads: 10 });
    const client = { url: t.url, key };
    const res = (params: Record<string, string | number>) => getQuery(t.url, '/res.php', { key, ...params });
    const good = await submitOk(client, turnstile());
    const bad = await submitOk(client, turnstile());
    await waitForResult(client, good);
    await waitForResult(client, bad);
    assert.equal((await res({ action: 'reportgood', id: good })).body, 'OK_REPORT_RECORDED');
    assert.deepEqual(JSON.parse((await res({ action: 'reportbad', id: bad, json: 1 })).body), { status: 1, request: 'OK_REPORT_RECORDED' });
    assert.equal((await res({ action: 'reportbad', id: good })).body, 'ERROR_DUPLICATE_REPORT');
    assert.equal((await res({ action: 'reportbad', id: bad })).body, 'ERROR_DUPLICATE_REPORT');
    const pending = await submitOk(client, turnstile('delay:2'));
    assert.equal((await res({ action: 'reportbad', id: pending })).body, 'ERROR_REPORT_NOT_RECORDED');
    const failed = await submitOk(client, turnstile('unsolvable'));
    await waitForResult(client, failed);
    assert.equal((await res({ action: 'reportgood', id: failed })).body, 'ERROR_REPORT_NOT_RECORDED');
    assert.equal((await res({ action: 'reportgood', id: '1234567890123456' })).body, 'ERROR_WRONG_CAPTCHA_ID');
  });
});

describe('res.php expiry', () => {
  test('ERROR_WRONG_CAPTCHA_ID once a result has expired', async () => {
    const t = await startTestServer({ resultTtlMs: 300 });
    try {
      const id = await submitOk(t, turnstile());
      assert.match(await waitForResult(t, id), /^OK\|/);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await result(t, id), 'ERROR_WRONG_CAPTCHA_ID');
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportgood', id })).body, 'ERROR_WRONG_CAPTCHA_ID');
      assert.equal((await submit(t, turnstile())).slice(0, 3), 'OK|');
    } finally {
      await t.close();
    }
  });
});
