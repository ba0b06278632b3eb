/** Every in.php error code, each of its causes, through real HTTP against a real SQLite file. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import {
  b64,
  bmp,
  eventually,
  getQuery,
  gif,
  jpeg,
  PAGE,
  png,
  postForm,
  postJson,
  postMultipart,
  postRaw,
  RECAPTCHA_KEY,
  startTestServer,
  submit,
  submitOk,
  turnstile,
  waitForResult,
  type TestServer,
} from './helpers.js';

describe('in.php errors', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ imageMaxBytes: 2000, bodyLimitBytes: 64 * 1024, banFailures: 1000 });
  });
  after(() => t.close());

  const inPhp = (params: Record<string, string | number>) => getQuery(t.url, '/in.php', params);

  test('ERROR_WRONG_USER_KEY: missing key, or not 32 characters', async () => {
    assert.equal((await inPhp({ method: 'turnstile' })).body, 'ERROR_WRONG_USER_KEY');
    assert.equal((await inPhp({ key: 'a'.repeat(31), ...turnstile() })).body, 'ERROR_WRONG_USER_KEY');
    assert.equal((await inPhp({ key: 'a'.repeat(33), ...turnstile() })).body, 'ERROR_WRONG_USER_KEY');
    assert.equal((await inPhp({ key: '', ...turnstile() })).body, 'ERROR_WRONG_USER_KEY');
  });

  test('ERROR_KEY_DOES_NOT_EXIST: unknown key, disabled account, account without threads', async () => {
    assert.equal((await inPhp({ key: 'f'.repeat(32), ...turnstile() })).body, 'ERROR_KEY_DOES_NOT_EXIST');
    const disabled = await t.newKey();
    const account = (await t.server.services.storage.listAccounts()).at(-1)!;
    await t.server.services.storage.setAccountDisabled(account.id, true);
    assert.equal(await submit({ url: t.url, key: disabled }, turnstile()), 'ERROR_KEY_DOES_NOT_EXIST');
    const threadless = await t.newKey({ threads: 0 });
    assert.equal(await submit({ url: t.url, key: threadless }, turnstile()), 'ERROR_KEY_DOES_NOT_EXIST');
  });

  test('ERROR_ZERO_BALANCE: every thread busy; a thread frees when its task ends', async () => {
    const key = await t.newKey({ threads: 2 });
    const client = { url: t.url, key };
    const first = await submitOk(client, turnstile('delay:0.4'));
    await submitOk(client, turnstile('delay:0.4'));
    assert.equal(await submit(client, turnstile()), 'ERROR_ZERO_BALANCE');
    assert.match(await waitForResult(client, first), /^OK\|/);
    await eventually(async () => (await submit(client, turnstile())).startsWith('OK|'), 3000, 'a free thread');
  });

  test('ERROR_PAGEURL: missing or not an absolute http(s) URL, for every token method', async () => {
    const key = t.key;
    assert.equal((await inPhp({ key, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY })).body, 'ERROR_PAGEURL');
    assert.equal((await inPhp({ key, method: 'turnstile', sitekey: '0x4AAAA', pageurl: '' })).body, 'ERROR_PAGEURL');
    assert.equal((await inPhp({ key, method: 'turnstile', sitekey: '0x4AAAA', pageurl: 'example.com/page' })).body, 'ERROR_PAGEURL');
    assert.equal((await inPhp({ key, method: 'geetest', gt: 'abc', challenge: 'def', pageurl: 'ftp://x.org' })).body, 'ERROR_PAGEURL');
    assert.equal((await inPhp({ key, method: 'cloudflare_challenge', proxy: '1.2.3.4:80', proxytype: 'HTTP' })).body, 'ERROR_PAGEURL');
  });

  test('ERROR_WRONG_GOOGLEKEY when googlekey is missing; ERROR_GOOGLEKEY when blank or malformed', async () => {
    const key = t.key;
    assert.equal((await inPhp({ key, method: 'userrecaptcha', pageurl: PAGE })).body, 'ERROR_WRONG_GOOGLEKEY');
    assert.equal((await inPhp({ key, method: 'userrecaptcha', googlekey: '', pageurl: PAGE })).body, 'ERROR_GOOGLEKEY');
    assert.equal((await inPhp({ key, method: 'userrecaptcha', googlekey: '6LeIxAcTAAAA', pageurl: PAGE })).body, 'ERROR_GOOGLEKEY');
    assert.equal((await inPhp({ key, method: 'userrecaptcha', googlekey: `${RECAPTCHA_KEY.slice(0, 39)}!`, pageurl: PAGE })).body, 'ERROR_GOOGLEKEY');
  });

  test('ERROR_BAD_TOKEN_OR_PAGEURL: a pair a solver reported invalid is refused at once afterwards', async () => {
    const pageurl = `${PAGE}?sandbox=bad-pair`;
    const params = { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl };
    const id = await submitOk(t, params);
    assert.equal(await waitForResult(t, id), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(await submit(t, params), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    // Only that pair: the same sitekey on another page, and the same page on another method, are fine.
    assert.match(await submit(t, { ...params, pageurl: `${PAGE}/other` }), /^OK\|/);
    assert.match(await submit(t, turnstile('bad-pair')), /^OK\|/);
  });

  test('ERROR_ZERO_CAPTCHA_FILESIZE: under 100 bytes, by upload or base64', async () => {
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png(99)) })).body, 'ERROR_ZERO_CAPTCHA_FILESIZE');
    const empty = await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' }, { file: { filename: 'c.png', data: new Uint8Array(0) } });
    assert.equal(empty.body, 'ERROR_ZERO_CAPTCHA_FILESIZE');
  });

  test('ERROR_TOO_BIG_CAPTCHA_FILESIZE: over the configured limit (2000 bytes here), and bodies over the body limit', async () => {
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png(2001)) })).body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
    assert.match((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png(2000)) })).body, /^OK\|/);
    const upload = await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' }, { file: { filename: 'c.png', data: png(5000) } });
    assert.equal(upload.body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
    const huge = await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: 'A'.repeat(70 * 1024) });
    assert.equal(huge.body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
    const hugeMultipart = await postMultipart(t.url, '/in.php', { key: t.key, method: 'base64', body: 'A'.repeat(70 * 1024) });
    assert.equal(hugeMultipart.body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
  });

  test('ERROR_WRONG_FILE_EXTENSION: the upload is not named jpg, jpeg, png or gif', async () => {
    for (const filename of ['captcha.bmp', 'captcha', 'captcha.png.exe']) {
      const res = await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' }, { file: { filename, data: png() } });
      assert.equal(res.body, 'ERROR_WRONG_FILE_EXTENSION', filename);
    }
    for (const [filename, data] of [
      ['a.JPG', jpeg()],
      ['a.jpeg', jpeg()],
      ['a.gif', gif()],
      ['a.PNG', png()],
    ] as const) {
      const res = await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' }, { file: { filename, data } });
      assert.match(res.body, /^OK\|/, filename);
    }
  });

  test('ERROR_IMAGE_TYPE_NOT_SUPPORTED: bytes that are not JPEG, PNG or GIF', async () => {
    const upload = await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' }, { file: { filename: 'c.png', data: bmp() } });
    assert.equal(upload.body, 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(bmp()) })).body, 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
  });

  test('ERROR_UPLOAD: no file, no body, broken base64, an unreadable body', async () => {
    assert.equal((await postMultipart(t.url, '/in.php', { key: t.key, method: 'post' })).body, 'ERROR_UPLOAD');
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64' })).body, 'ERROR_UPLOAD');
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: '#not*base64!' })).body, 'ERROR_UPLOAD');
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: 'QUJDR' })).body, 'ERROR_UPLOAD');
    assert.equal((await postRaw(t.url, `/in.php?key=${t.key}`, '{"method": "base64", ', 'application/json')).body, 'ERROR_UPLOAD');
    const brokenMultipart = await postRaw(t.url, '/in.php', '--x\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc', 'multipart/form-data; boundary=x');
    assert.equal(brokenMultipart.body, 'ERROR_UPLOAD');
    // Multipart without a boundary is read as JSON or a form (docs/protocol.md); broken JSON is unreadable.
    assert.equal((await postRaw(t.url, `/in.php?key=${t.key}`, '{"method": ', 'multipart/form-data')).body, 'ERROR_UPLOAD');
  });

  test('ERROR_BAD_PROXY: malformed proxy or type, proxies not enabled, a proxy that failed recently', async () => {
    const base = turnstile();
    for (const proxy of ['1.2.3.4', 'http://1.2.3.4:80', '1.2.3.4:99999', 'user@1.2.3.4:80', 'bad host:80']) {
      assert.equal(await submit(t, { ...base, proxy, proxytype: 'HTTP' }), 'ERROR_BAD_PROXY', proxy);
    }
    assert.equal(await submit(t, { ...base, proxy: '1.2.3.4:8080', proxytype: 'FTP' }), 'ERROR_BAD_PROXY');
    assert.match(await submit(t, { ...base, proxy: 'user:p:ss@proxy.example.com:8080', proxytype: 'socks5' }), /^OK\|/);

    const noProxies = { url: t.url, key: await t.newKey({ proxiesAllowed: false }) };
    assert.equal(await submit(noProxies, { ...base, proxy: '1.2.3.4:8080', proxytype: 'HTTP' }), 'ERROR_BAD_PROXY');
    assert.match(await submit(noProxies, base), /^OK\|/);

    const failing = { proxy: 'login:pw@10.9.8.7:3128', proxytype: 'HTTP' };
    const id = await submitOk(t, turnstile('proxy-fail', failing));
    assert.equal(await waitForResult(t, id), 'ERROR_PROXY_CONNECTION_FAILED');
    assert.equal(await submit(t, { ...base, ...failing }), 'ERROR_BAD_PROXY');
    assert.equal(await submit(t, { ...base, proxy: '10.9.8.7:3128', proxytype: 'SOCKS5' }), 'ERROR_BAD_PROXY', 'the endpoint is bad, whatever the credentials');
    assert.match(await submit(t, { ...base, proxy: '10.9.8.7:3129', proxytype: 'HTTP' }), /^OK\|/);
  });

  test('ERROR_BAD_PARAMETERS: method missing or unknown, required parameters missing, wrong types', async () => {
    const cases: Record<string, string | number>[] = [
      {},
      { method: 'nosuchcaptcha', sitekey: 'x', pageurl: PAGE },
      { method: 'turnstile', pageurl: PAGE },
      { method: 'turnstile', sitekey: 'has spaces', pageurl: PAGE },
      { method: 'geetest', challenge: 'abc', pageurl: PAGE },
      { method: 'geetest', gt: 'abc', pageurl: PAGE },
      { method: 'cloudflare_challenge', pageurl: PAGE },
      { method: 'cloudflare_challenge', pageurl: PAGE, proxy: '1.2.3.4:80' },
      { ...turnstile(), proxy: '1.2.3.4:80' },
      { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE, version: 'v4' },
      { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE, min_score: 'high' },
      { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE, enterprise: 2 },
      { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE, cookies: 'no-colon' },
      { method: 'base64', body: b64(png()), numeric: 9 },
      { method: 'base64', body: b64(png()), min_len: 8, max_len: 4 },
      { method: 'base64', body: b64(png()), lang: 'klingon' },
      { method: 'base64', body: b64(png()), textinstructions: 'x'.repeat(141) },
      { ...turnstile(), pingback: 'not a url' },
      { ...turnstile(), soft_id: 'abc' },
      { method: 'bls', instructions: '664', image_base64_1: b64(gif()) },
      { method: 'bls', image_base64_1: b64(gif()) },
    ];
    for (const params of cases) {
      assert.equal((await postForm(t.url, '/in.php', { key: t.key, ...params })).body, 'ERROR_BAD_PARAMETERS', JSON.stringify(params).slice(0, 120));
    }
  });

  test('JSON answers carry the specific reason in error_text', async () => {
    const res = await postForm(t.url, '/in.php', { key: t.key, json: 1, method: 'base64', body: b64(png()), numeric: 9 });
    assert.deepEqual(JSON.parse(res.body), { status: 0, request: 'ERROR_BAD_PARAMETERS', error_text: '`numeric` must be an integer from 0 to 4' });
  });

  test('the order of checks: ban, key format, key existence, parameters, image, proxy, threads', async () => {
    // key format before parameters
    assert.equal((await inPhp({ key: 'short', method: 'nope' })).body, 'ERROR_WRONG_USER_KEY');
    // key existence before parameters
    assert.equal((await inPhp({ key: 'e'.repeat(32), method: 'nope' })).body, 'ERROR_KEY_DOES_NOT_EXIST');
    // parameters before image
    assert.equal((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(bmp()), numeric: 7 })).body, 'ERROR_BAD_PARAMETERS');
    // image before proxy
    const image = { key: t.key, method: 'base64', body: b64(bmp()), proxy: 'nonsense', proxytype: 'HTTP' };
    assert.equal((await postForm(t.url, '/in.php', image)).body, 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
    // proxy before threads
    const full = { url: t.url, key: await t.newKey({ threads: 1 }) };
    await submitOk(full, turnstile('delay:1'));
    assert.equal(await submit(full, turnstile(undefined, { proxy: 'nonsense', proxytype: 'HTTP' })), 'ERROR_BAD_PROXY');
    assert.equal(await submit(full, turnstile()), 'ERROR_ZERO_BALANCE');
  });

  test('nothing is stored for a refused submit', async () => {
    const key = await t.newKey({ threads: 1 });
    const client = { url: t.url, key };
    assert.equal(await submit(client, { method: 'turnstile', pageurl: PAGE }), 'ERROR_BAD_PARAMETERS');
    assert.equal(await submit(client, turnstile(undefined, { proxy: 'x', proxytype: 'HTTP' })), 'ERROR_BAD_PROXY');
    // The one thread is still free.
    assert.match(await submit(client, turnstile()), /^OK\|/);
  });

  test('JSON bodies: numbers and booleans are accepted as values', async () => {
    const res = await postJson(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(png()), numeric: 1, min_len: 4, json: 1 });
    const parsed = JSON.parse(res.body) as { status: number; request: string };
    assert.equal(parsed.status, 1);
    assert.match(await waitForResult(t, parsed.request), /^OK\|[0-9]{6}$/);
  });
});

describe('in.php storage and backend faults', () => {
  test('ERROR_SERVER_ERROR: the database stays locked past the busy timeout; nothing is lost once it frees', async () => {
    const t = await startTestServer({ sqliteBusyTimeoutMs: 50 });
    const other = new Database(t.dbFile);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const plain = await submit(t, turnstile());
      const json = await getQuery(t.url, '/in.php', { key: t.key, json: 1, ...turnstile() });
      const report = await getQuery(t.url, '/res.php', { key: t.key, action: 'reportbad', id: '1234567890123456' });
      other.exec('COMMIT');
      assert.equal(plain, 'ERROR_SERVER_ERROR');
      assert.equal(json.status, 200);
      assert.equal(JSON.parse(json.body).request, 'ERROR_SERVER_ERROR');
      assert.equal(report.body, 'ERROR_SERVER_ERROR');
      const id = await submitOk(t, turnstile());
      assert.match(await waitForResult(t, id), /^OK\|/);
    } finally {
      other.close();
      await t.close();
    }
  });

  test('ERROR_INTERNAL_SERVER_ERROR: the solver backend keeps crashing (circuit open), then recovers', async () => {
    const t = await startTestServer({ circuitFailures: 2, solverAttempts: 2, circuitCooldownMs: 1500 });
    try {
      const id = await submitOk(t, turnstile('crash'));
      assert.equal(await waitForResult(t, id), 'ERROR_CAPTCHA_UNSOLVABLE');
      assert.equal(await submit(t, turnstile()), 'ERROR_INTERNAL_SERVER_ERROR');
      const json = JSON.parse((await getQuery(t.url, '/in.php', { key: t.key, json: 1, ...turnstile() })).body);
      assert.equal(json.request, 'ERROR_INTERNAL_SERVER_ERROR');
      await eventually(async () => (await submit(t, turnstile())).startsWith('OK|'), 3000, 'the circuit to close');
    } finally {
      await t.close();
    }
  });
});

describe('IP bans', () => {
  test('IP_BANNED after 5 failed authentications within the window; lifted after the ban', async () => {
    const t = await startTestServer({ banFailures: 5, banWindowMs: 60_000, banMs: 2000 });
    try {
      for (let i = 0; i < 4; i++) assert.equal(await submit({ url: t.url, key: 'x'.repeat(32) }, turnstile()), 'ERROR_KEY_DOES_NOT_EXIST');
      assert.equal((await getQuery(t.url, '/res.php', { key: 'short', action: 'getbalance' })).body, 'ERROR_WRONG_USER_KEY');
      // Banned now, even with a good key, on both endpoints, before any other check.
      assert.equal(await submit(t, turnstile()), 'IP_BANNED');
      assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'getbalance' })).body, 'IP_BANNED');
      assert.equal(
        (await getQuery(t.url, '/in.php', { json: 1 })).body,
        '{"status":0,"request":"IP_BANNED","error_text":"Your IP address is banned due to many frequent attempts to access the server using wrong authorization keys."}',
      );
      // X-Forwarded-For is not trusted by default: a forged header does not escape the ban.
      assert.equal((await getQuery(t.url, '/in.php', { key: t.key, ...turnstile() }, { 'x-forwarded-for': '203.0.113.9' })).body, 'IP_BANNED');
      await eventually(async () => (await submit(t, turnstile())).startsWith('OK|'), 3000, 'the ban to lift');
    } finally {
      await t.close();
    }
  });

  test('failures outside the window do not add up', async () => {
    const t = await startTestServer({ banFailures: 3, banWindowMs: 200, banMs: 60_000 });
    try {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 2; i++) assert.equal(await submit({ url: t.url, key: 'bad' }, turnstile()), 'ERROR_WRONG_USER_KEY');
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(await submit(t, turnstile()), /^OK\|/);
    } finally {
      await t.close();
    }
  });

  test('with --trust-proxy, the ban follows the X-Forwarded-For client address', async () => {
    const t = await startTestServer({ banFailures: 2, trustProxy: true });
    try {
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      for (let i = 0; i < 2; i++) await getQuery(t.url, '/in.php', { key: 'bad', ...turnstile() }, from('198.51.100.1'));
      assert.equal((await getQuery(t.url, '/in.php', { key: t.key, ...turnstile() }, from('198.51.100.1'))).body, 'IP_BANNED');
      assert.match((await getQuery(t.url, '/in.php', { key: t.key, ...turnstile() }, from('198.51.100.2'))).body, /^OK\|/);
    } finally {
      await t.close();
    }
  });

  test('real keys of disabled accounts do not count towards a ban', async () => {
    const t = await startTestServer({ banFailures: 2 });
    try {
      const threadless = { url: t.url, key: await t.newKey({ threads: 0 }) };
      for (let i = 0; i < 4; i++) assert.equal(await submit(threadless, turnstile()), 'ERROR_KEY_DOES_NOT_EXIST');
      assert.match(await submit(t, turnstile()), /^OK\|/);
    } finally {
      await t.close();
    }
  });
});
