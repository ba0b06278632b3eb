/** The four request encodings, both answer formats, CORS, and the answer shape of every task type. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  b64,
  getQuery,
  gif,
  PAGE,
  png,
  postForm,
  postJson,
  postMultipart,
  postRaw,
  RECAPTCHA_KEY,
  startTestServer,
  submitOk,
  TURNSTILE_PASS,
  turnstile,
  waitForResult,
  type Answer,
  type TestServer,
} from './helpers.js';

type Encoding = (base: string, path: string, params: Record<string, string | number>) => Promise<Answer>;

const ENCODINGS: ReadonlyArray<readonly [string, Encoding]> = [
  ['GET query string', (base, path, params) => getQuery(base, path, params)],
  ['urlencoded POST', postForm],
  ['multipart POST', (base, path, params) => postMultipart(base, path, params)],
  ['JSON POST', postJson],
];

describe('request encodings and answer formats', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  for (const [name, send] of ENCODINGS) {
    test(`${name}: submit, poll and balance, in plain text and JSON`, async () => {
      const task = { key: t.key, method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE };
      const plain = await send(t.url, '/in.php', task);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(plain.body, /^OK\|[0-9]{16}$/);
      const id = plain.body.slice(3);
      await waitForResult(t, id);
      assert.equal((await send(t.url, '/res.php', { key: t.key, action: 'get', id })).body, 'OK|XXXX.DUMMY.TOKEN.XXXX');

      const json = await send(t.url, '/in.php', { ...task, json: 1 });
      assert.equal(json.status, 200);
      assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
      const submitted = JSON.parse(json.body) as { status: number; request: string };
      assert.equal(submitted.status, 1);
      assert.match(submitted.request, /^[0-9]{16}$/);
      await waitForResult(t, submitted.request);
      const got = await send(t.url, '/res.php', { key: t.key, action: 'get', id: submitted.request, json: 1 });
      assert.deepEqual(JSON.parse(got.body), { status: 1, request: 'XXXX.DUMMY.TOKEN.XXXX' });

      const error = await send(t.url, '/res.php', { key: t.key, action: 'get', id: 'abc', json: 1 });
      assert.equal(error.status, 200);
      assert.equal(JSON.parse(error.body).request, 'ERROR_WRONG_ID_FORMAT');
      assert.equal(JSON.parse(error.body).status, 0);
      assert.equal(typeof JSON.parse(error.body).error_text, 'string');
    });
  }

  test('the default image limit is 100 kB (102400 bytes)', async () => {
    assert.match((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png(102_400)) })).body, /^OK\|/);
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png(102_401)) })).body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
  });

  test('body parameters override query parameters', async () => {
    const res = await postForm(t.url, `/in.php?key=${'z'.repeat(32)}&json=0`, {
      key: t.key,
      json: 1,
      method: 'turnstile',
      sitekey: TURNSTILE_PASS,
      pageurl: PAGE,
    });
    assert.equal(JSON.parse(res.body).status, 1);
  });

  test('unknown content types are ignored: their query string still counts', async () => {
    const res = await postRaw(
      t.url,
      `/in.php?key=${t.key}&method=turnstile&sitekey=${TURNSTILE_PASS}&pageurl=${encodeURIComponent(PAGE)}`,
      'hello',
      'text/plain',
    );
    assert.match(res.body, /^OK\|/);
  });

  /** A body sent with exactly these headers (a Uint8Array body makes fetch add no Content-Type of its own). */
  async function postBytes(path: string, body: string, headers: Record<string, string>): Promise<string> {
    return (await fetch(`${t.url}${path}`, { method: 'POST', body: new TextEncoder().encode(body), headers })).text();
  }

  test('what published clients send: a form with no Content-Type, JSON labelled text/plain, multipart or nothing', async () => {
    const task = { key: t.key, method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE };
    // A urlencoded body with no Content-Type at all (PHP-era clients).
    assert.match(await postBytes('/in.php', new URLSearchParams(task).toString(), {}), /^OK\|\d{16}$/);
    assert.equal(await postBytes('/res.php', `key=${t.key}&action=getbalance`, {}), '0');
    // A JSON object as text/plain (fetch's default for a string body) or with no type.
    assert.match(await postBytes('/in.php', JSON.stringify(task), { 'content-type': 'text/plain;charset=UTF-8' }), /^OK\|\d{16}$/);
    assert.match(await postBytes('/in.php?json=1', ` \n${JSON.stringify({ ...task, json: true })}`, {}), /^\{"status":1,"request":"\d{16}"\}$/);
    // Multipart with no boundary: the body is JSON (2captcha-node) or a urlencoded form (@infosimples/node_two_captcha).
    assert.match(
      await postBytes(`/in.php?key=${t.key}&method=base64`, JSON.stringify({ body: b64(png(300)) }), { 'content-type': 'multipart/form-data' }),
      /^OK\|\d{16}$/,
    );
    assert.match(await postBytes('/in.php', new URLSearchParams(task).toString(), { 'content-type': 'multipart/form-data' }), /^OK\|\d{16}$/);
    // A JSON object labelled as a form (`curl -d '{...}'`), in both dialects.
    assert.match(await postBytes('/in.php', JSON.stringify(task), { 'content-type': 'application/x-www-form-urlencoded' }), /^OK\|\d{16}$/);
    const v2 = await postBytes('/getBalance', JSON.stringify({ clientKey: t.key }), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.deepEqual(JSON.parse(v2), { errorId: 0, balance: 0 });
    // text/plain that is not JSON is still ignored (its query string counts), as before.
    assert.equal(await postBytes('/res.php', `key=${t.key}&action=getbalance`, { 'content-type': 'text/plain' }), 'ERROR_WRONG_USER_KEY');
  });

  test('yes/no flags take 1/0 and true/false in any case; anything else is ERROR_BAD_PARAMETERS', async () => {
    const recaptcha = { key: t.key, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE };
    for (const value of ['0', '1', 'true', 'false', 'TRUE', 'False']) {
      assert.match((await postForm(t.url, '/in.php', { ...recaptcha, invisible: value, enterprise: value })).body, /^OK\|/, value);
    }
    assert.equal((await postForm(t.url, '/in.php', { ...recaptcha, invisible: 'yes' })).body, 'ERROR_BAD_PARAMETERS');
    const json = await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance', json: 'True', header_acao: 'TRUE' });
    assert.equal(json.body, '{"status":1,"request":"0"}');
    assert.equal(json.headers.get('access-control-allow-origin'), '*');
    assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance', json: 'false' })).body, '0');
  });

  test('header_acao=1 adds Access-Control-Allow-Origin: *, on answers and errors alike', async () => {
    const ok = await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance', header_acao: 1 });
    assert.equal(ok.headers.get('access-control-allow-origin'), '*');
    const error = await getQuery(t.url, '/in.php', { header_acao: 1 });
    assert.equal(error.body, 'ERROR_WRONG_USER_KEY');
    assert.equal(error.headers.get('access-control-allow-origin'), '*');
    const none = await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance' });
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${t.url}/in.php`, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  });

  test('JSON task ids: a number for userrecaptcha, a string otherwise (CaptchaAI)', async () => {
    const recaptcha = JSON.parse(
      (await getQuery(t.url, '/in.php', { key: t.key, json: 1, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE })).body,
    );
    assert.equal(typeof recaptcha.request, 'number');
    assert.ok(Number.isSafeInteger(recaptcha.request));
    const answer = await waitForResult(t, String(recaptcha.request));
    assert.match(answer, /^OK\|03SANDBOX_[A-Za-z0-9]{100,}$/);
    const turnstileTask = JSON.parse(
      (await getQuery(t.url, '/in.php', { key: t.key, json: 1, method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE })).body,
    );
    assert.equal(typeof turnstileTask.request, 'string');
  });

  test('image tasks: the hints shape the sandbox answer; a data URI prefix, line breaks and unencoded + are tolerated', async () => {
    const image = png(600, 3);
    let text = `data:image/png;base64,${b64(image)}`;
    text = text.replace(/(.{76})/g, '$1\r\n').replace(/\+/g, ' ');
    const digits = await submitOk(t, { method: 'base64', body: text, numeric: 1, min_len: 5, max_len: 5 });
    assert.match(await waitForResult(t, digits), /^OK\|[0-9]{5}$/);
    const letters = await postMultipart(
      t.url,
      '/in.php',
      { key: t.key, method: 'post', numeric: 2, regsense: 1, phrase: 1, max_len: 8 },
      { file: { filename: 'c.png', data: image } },
    );
    assert.match(await waitForResult(t, letters.body.slice(3)), /^OK\|[A-Z][a-z]* [a-z]+$/);
    const chosen = await submitOk(t, { method: 'base64', body: b64(image), textinstructions: 'sandbox=answer:W68HP' });
    assert.equal(await waitForResult(t, chosen), 'OK|W68HP');
  });

  test('reCAPTCHA v3 and Enterprise options are accepted', async () => {
    const id = await submitOk(t, {
      method: 'userrecaptcha',
      version: 'v3',
      action: 'login',
      min_score: 0.7,
      enterprise: 1,
      googlekey: RECAPTCHA_KEY,
      pageurl: PAGE,
      'data-s': 'abc',
      cookies: 'a:1;b:2;',
      userAgent: 'UA/1.0',
      domain: 'recaptcha.net',
    });
    assert.match(await waitForResult(t, id), /^OK\|03SANDBOX_/);
  });

  test('GeeTest answers are always JSON objects', async () => {
    const challenge = '12345678abc90123def45678901234567';
    const id = await submitOk(t, { method: 'geetest', gt: 'f1ab2cdefa3456789012345678901234', challenge, api_server: 'api-na.geetest.com', pageurl: PAGE });
    await waitForResult(t, id, { json: 1 });
    for (const json of [0, 1]) {
      const res = await getQuery(t.url, '/res.php', { key: t.key, action: 'get', id, json });
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      const answer = JSON.parse(res.body);
      assert.equal(answer.status, 1);
      assert.equal(answer.request.geetest_challenge, challenge);
      assert.match(answer.request.geetest_validate, /^[0-9a-z]{32}$/);
      assert.match(answer.request.geetest_seccode, /\|jordan$/);
    }
  });

  test('Cloudflare challenge: the clearance with its user agent as user_agent and useragent', async () => {
    const id = await submitOk(t, {
      method: 'cloudflare_challenge',
      pageurl: PAGE,
      proxy: 'u:p@203.0.113.5:3128',
      proxytype: 'HTTP',
      userAgent: 'Mozilla/5.0 Test',
    });
    await waitForResult(t, id);
    const answer = JSON.parse((await getQuery(t.url, '/res.php', { key: t.key, action: 'get', id, json: 1 })).body);
    assert.equal(answer.status, 1);
    assert.match(answer.request, /^SANDBOX_/);
    assert.equal(answer.user_agent, 'Mozilla/5.0 Test');
    assert.equal(answer.useragent, 'Mozilla/5.0 Test');
  });

  test('BLS: the official form (instructions + nine cells) and the body/textinstructions alias', async () => {
    const cells: Record<string, string> = {};
    for (let i = 1; i <= 9; i++) cells[`image_base64_${i}`] = `data:image/gif;base64,${b64(gif(300 + i))}`;
    const official = await postMultipart(t.url, '/in.php', { key: t.key, method: 'bls', instructions: '664', json: 1, ...cells });
    const id = JSON.parse(official.body).request as string;
    await waitForResult(t, id);
    const answer = JSON.parse((await getQuery(t.url, '/res.php', { key: t.key, action: 'get', id, json: 1 })).body);
    assert.match(answer.request, /^\[[1-9](, [1-9])*\]$/);
    const cellsList = JSON.parse(answer.request) as number[];
    assert.deepEqual([...cellsList].sort(), [...new Set(cellsList)].sort());

    const alias = await submitOk(t, { method: 'bls', textinstructions: '664', body: b64(gif(500)) });
    assert.match(await waitForResult(t, alias), /^OK\|\[[1-9](, [1-9])*\]$/);
  });

  test('answers are deterministic: the same task gets the same answer', async () => {
    const task = { method: 'turnstile', sitekey: '0x4AAAAAAAdeterministic', pageurl: PAGE };
    const a = await waitForResult(t, await submitOk(t, task));
    const b = await waitForResult(t, await submitOk(t, task));
    assert.equal(a, b);
  });

  test('task ids are 16 digits and not sequential', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(Number(await submitOk(t, { method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE })));
    for (const id of ids) assert.equal(String(id).length, 16);
    const gaps = ids.slice(1).map((id, i) => Math.abs(id - ids[i]!));
    assert.ok(
      gaps.every((gap) => gap > 1000),
      `ids look sequential: ${ids.join(', ')}`,
    );
  });

  test('other paths are 404, and /healthz answers ok', async () => {
    assert.equal((await fetch(`${t.url}/api/v2/createTask`)).status, 404);
    assert.equal(await (await fetch(`${t.url}/healthz`)).text(), 'ok');
  });
});

describe('idempotent submits (a Solvebox extension)', () => {
  test("a repeated idempotency_key answers the first task's id, and the answer says the key was honoured", async () => {
    const t = await startTestServer();
    try {
      const client = { url: t.url, key: await t.newKey({ threads: 1 }) };
      const task = { key: client.key, method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: `${PAGE}?sandbox=delay:0.3`, idempotency_key: 'order-42' };
      const first = await postForm(t.url, '/in.php', task);
      assert.match(first.body, /^OK\|[0-9]{16}$/);
      assert.equal(first.headers.get('solvebox-idempotency'), 'honoured');
      // The one thread is busy with the first task, yet the replay is answered with its id.
      const replay = await postForm(t.url, '/in.php', task);
      assert.equal(replay.body, first.body);
      assert.equal(await submitOk(client, turnstile()).catch((e: Error) => e.message), 'submit refused: ERROR_ZERO_BALANCE');
      const { idempotency_key: _key, ...withoutKey } = task;
      const plain = await postForm(t.url, '/in.php', withoutKey);
      assert.equal(plain.headers.get('solvebox-idempotency'), null);
      assert.equal((await postForm(t.url, '/in.php', { ...task, idempotency_key: 'bad key!' })).body, 'ERROR_BAD_PARAMETERS');
      await waitForResult(client, first.body.slice(3));
      const tasks = await t.server.services.storage.getTasks((await t.server.services.storage.listAccounts()).at(-1)!.id, [first.body.slice(3)], Date.now());
      assert.equal(tasks.size, 1);
    } finally {
      await t.close();
    }
  });
});

describe('configured dialects', () => {
  test('--json-ids string: every JSON id is a string (2Captcha)', async () => {
    const t = await startTestServer({ jsonIds: 'string' });
    try {
      const res = JSON.parse(
        (await getQuery(t.url, '/in.php', { key: t.key, json: 1, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE })).body,
      );
      assert.equal(typeof res.request, 'string');
    } finally {
      await t.close();
    }
  });

  test('--json-default 1: JSON unless the request says json=0', async () => {
    const t = await startTestServer({ jsonByDefault: true });
    try {
      assert.deepEqual(JSON.parse((await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance' })).body), { status: 1, request: '0' });
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance', json: 0 })).body, '0');
    } finally {
      await t.close();
    }
  });
});
