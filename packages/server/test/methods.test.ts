/**
 * The whole v1 method list through real HTTP: every method is accepted with its documented
 * parameters and answered by the sandbox in the shape its vendor documents; each required
 * parameter, missing, gets its code; the flag-selected kinds (grid, coordinates, text questions)
 * are reached the way 2Captcha's clients reach them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { METHODS, WIDGET_TYPES } from '@solvebox/protocol';
import { b64, getQuery, PAGE, png, postForm, postMultipart, startTestServer, submit, submitOk, waitForResult, type TestServer } from './helpers.js';

type Params = Record<string, string>;

/** An MP3 as far as the checks go: an ID3 tag and padding. */
const MP3 = new Uint8Array([0x49, 0x44, 0x33, 0x04, ...new Array<number>(400).fill(0)]);
const PROXY = { proxy: 'user:pass@10.0.0.1:3128', proxytype: 'HTTP' };

/** A valid request for each method (the flag-selected ones by their own `method` name too). */
const VALID: Record<string, Params> = {
  post: { method: 'base64', body: b64(png()) },
  base64: { method: 'base64', body: b64(png()) },
  userrecaptcha: { method: 'userrecaptcha', googlekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', pageurl: PAGE },
  turnstile: { method: 'turnstile', sitekey: '0x4AAAAAAAC3DHQFLr1GavRN', pageurl: PAGE },
  cloudflare_challenge: { method: 'cloudflare_challenge', pageurl: PAGE, ...PROXY },
  geetest: { method: 'geetest', gt: 'f1ab2cdefa3456789012345b6c78d90e', challenge: '12345678abc90123d45678ef90123a456b', pageurl: PAGE },
  bls: { method: 'bls', instructions: '664', body: b64(png()) },
  hcaptcha: { method: 'hcaptcha', sitekey: 'f7de0da3-3303-44e8-ab48-fa32ff8ccc7b', pageurl: PAGE },
  funcaptcha: {
    method: 'funcaptcha',
    publickey: '69A21A01-CC7B-B9C6-0F9A-E7FA06677FFC',
    pageurl: PAGE,
    surl: 'https://client-api.arkoselabs.com',
    'data[blob]': 'abc',
  },
  keycaptcha: {
    method: 'keycaptcha',
    s_s_c_user_id: '184015',
    s_s_c_session_id: '9ff29e0176e78eb7ba59314f92dbac1b',
    s_s_c_web_server_sign: '964635241a3e5e76980f2572e5f63452',
    s_s_c_web_server_sign2: '3ca802a38ffc5831fa293ac2819b1204',
    pageurl: PAGE,
  },
  capy: { method: 'capy', captchakey: 'PUZZLE_Abc1dEFghIJKLM2no34P56q7rStu8v', pageurl: PAGE },
  lemin: { method: 'lemin', captcha_id: 'CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b', div_id: 'lemin-cropped-captcha', pageurl: PAGE },
  amazon_waf: { method: 'amazon_waf', sitekey: 'AQIDAHjcYu/GjX+QlghicBg', iv: 'CgAAFDIlckAAAAid', context: 'qoJYgnKsc==', pageurl: PAGE },
  mt_captcha: { method: 'mt_captcha', sitekey: 'MTPublic-KzqLY1cKH', pageurl: PAGE },
  cutcaptcha: { method: 'cutcaptcha', misery_key: 'a1488b66da00bf332a1488993a5443c79047e752', api_key: 'SAb83IIB', pageurl: PAGE },
  friendly_captcha: { method: 'friendly_captcha', sitekey: 'FCMST5VUMCBOCGQ9', pageurl: PAGE },
  tencent: { method: 'tencent', app_id: '190014885', pageurl: PAGE },
  atb_captcha: { method: 'atb_captcha', app_id: 'af25e409b33d722a95e56a230ff8771c', api_server: 'https://cap.aisecurius.com', pageurl: PAGE },
  datadome: {
    method: 'datadome',
    captcha_url: 'https://geo.captcha-delivery.com/captcha/?initialCid=AHrlqAAAAAMA',
    pageurl: PAGE,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    ...PROXY,
  },
  cybersiara: { method: 'cybersiara', master_url_id: 'tpjOCKjjpdzv3d8Ub2E9COEWKt1vl1Mv', pageurl: PAGE },
  prosopo: { method: 'prosopo', sitekey: '5EZVvsHMrKCFKp5NYNoTyDjTjetoVo1Z4UNNbTwJf1GfN6Xm', pageurl: PAGE },
  captchafox: { method: 'captchafox', sitekey: 'sk_xtNxpk6fCdFbxh1_xJeGflSdCE9tn99G', pageurl: PAGE, ...PROXY },
  geetest_v4: { method: 'geetest_v4', captcha_id: 'e392e1d7fd421dc63325744d5a2b9c73', pageurl: PAGE },
  grid: { method: 'base64', recaptcha: '1', body: b64(png()), textinstructions: 'Select all images with cars', recaptcharows: '4', recaptchacols: '4' },
  coordinates: { method: 'base64', coordinatescaptcha: '1', body: b64(png()), textinstructions: 'Click the ghost' },
  rotatecaptcha: { method: 'rotatecaptcha', body: b64(png()), angle: '30' },
  textcaptcha: { textcaptcha: 'If tomorrow is Saturday, what day is today?' },
  audio: { method: 'audio', body: b64(MP3), lang: 'en' },
};

/** What each answer looks like, plain (`OK|...`) or, for object answers, the JSON `request`. */
const PLAIN_SHAPE: Record<string, RegExp> = {
  hcaptcha: /^OK\|P1_SANDBOX_/,
  funcaptcha: /^OK\|[^|]+\|r=eu-west-1\|.*pk=69A21A01/,
  keycaptcha: /^OK\|[^|]+\|[^|]+\|1$/,
  datadome: /^OK\|datadome=SANDBOX_\w+; Max-Age=31536000; Domain=example\.com; Path=\/; Secure; SameSite=Lax$/,
  mt_captcha: /^OK\|SANDBOX_/,
  grid: /^OK\|click:\d+(\/\d+)*$/,
  coordinates: /^OK\|coordinates:x=\d+,y=\d+(;x=\d+,y=\d+)*$/,
  rotatecaptcha: /^OK\|(\d+)$/,
  textcaptcha: /^OK\|[a-z]{3,6}$/,
  audio: /^OK\|\d{6}$/,
};
const OBJECT_FIELDS: Record<string, readonly string[]> = {
  geetest: ['geetest_challenge', 'geetest_validate', 'geetest_seccode'],
  capy: ['captchakey', 'challengekey', 'answer'],
  lemin: ['answer', 'challenge_id'],
  amazon_waf: ['captcha_voucher', 'existing_token'],
  tencent: ['appid', 'ret', 'ticket', 'randstr'],
  geetest_v4: ['captcha_id', 'lot_number', 'pass_token', 'gen_time', 'captcha_output'],
};

describe('the v1 method list', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ banFailures: 1000, solvers: Object.fromEntries(METHODS.map((m) => [m.type, 'sandbox'])) as never });
  });
  after(() => t.close());

  test('every method in the table has a valid example here', () => {
    assert.deepEqual(
      METHODS.map((m) => m.method).filter((m) => !(m in VALID)),
      [],
    );
  });

  for (const method of METHODS) {
    test(`${method.method}: accepted, and answered by the sandbox in its documented shape`, async () => {
      const id = await submitOk(t, VALID[method.method] as Params);
      const fields = OBJECT_FIELDS[method.method];
      if (fields) {
        // Object answers come as JSON whatever `json` says, as GeeTest's do.
        const answer = JSON.parse(await waitForResult(t, id)) as { status: number; request: Record<string, string> };
        assert.equal(answer.status, 1);
        assert.deepEqual(Object.keys(answer.request), fields);
        for (const value of Object.values(answer.request)) assert.equal(typeof value, 'string');
        return;
      }
      const plain = await waitForResult(t, id);
      assert.match(plain, PLAIN_SHAPE[method.method] ?? /^OK\|./);
      const json = JSON.parse(await waitForResult(t, id, { json: '1' })) as { status: number; request: unknown };
      assert.equal(json.status, 1);
      if (method.method === 'coordinates') {
        assert.ok(Array.isArray(json.request) && json.request.length > 0);
        for (const point of json.request as { x: string; y: string }[]) assert.deepEqual(Object.keys(point), ['x', 'y']);
      } else {
        assert.equal(`OK|${String(json.request)}`, plain);
      }
    });
  }

  test('the same task gets the same answer: the sandbox is deterministic', async () => {
    const a = await waitForResult(t, await submitOk(t, VALID.funcaptcha as Params));
    const b = await waitForResult(t, await submitOk(t, VALID.funcaptcha as Params));
    assert.equal(a, b);
  });

  test("rotate answers a multiple of the caller's step", async () => {
    const angle = Number(/^OK\|(\d+)$/.exec(await waitForResult(t, await submitOk(t, VALID.rotatecaptcha as Params)))?.[1]);
    assert.equal(angle % 30, 0);
  });

  test("hCaptcha's published test sitekeys answer their documented tokens", async () => {
    for (const n of [1, 2, 3]) {
      const id = await submitOk(t, { method: 'hcaptcha', sitekey: `${n}0000000-ffff-ffff-ffff-00000000000${n}`, pageurl: PAGE });
      assert.equal(await waitForResult(t, id), `OK|${n}0000000-aaaa-bbbb-cccc-00000000000${n}`);
    }
  });

  test('each widget: without its key ERROR_BAD_PARAMETERS, without pageurl ERROR_PAGEURL, a bad pageurl ERROR_PAGEURL', async () => {
    for (const type of WIDGET_TYPES) {
      const method = METHODS.find((m) => m.method === type);
      assert.ok(method, type);
      const valid = VALID[type] as Params;
      const keyName = method.params[0]?.name as string;
      const { [keyName]: _key, ...withoutKey } = valid;
      assert.equal(await submit(t, withoutKey), 'ERROR_BAD_PARAMETERS', `${type} without ${keyName}`);
      const { pageurl: _pageurl, ...withoutPage } = valid;
      assert.equal(await submit(t, withoutPage), 'ERROR_PAGEURL', `${type} without pageurl`);
      assert.equal(await submit(t, { ...valid, pageurl: 'not a url' }), 'ERROR_PAGEURL', `${type} with a bad pageurl`);
    }
  });

  test('every other required parameter, missing, gets ERROR_BAD_PARAMETERS', async () => {
    const cases: [string, string][] = [
      ['keycaptcha', 's_s_c_web_server_sign2'],
      ['lemin', 'div_id'],
      ['amazon_waf', 'iv'],
      ['amazon_waf', 'context'],
      ['cutcaptcha', 'api_key'],
      ['atb_captcha', 'api_server'],
      ['datadome', 'userAgent'],
      ['datadome', 'proxy'],
      ['captchafox', 'proxy'],
      ['audio', 'lang'],
    ];
    for (const [method, name] of cases) {
      const { [name]: _dropped, ...rest } = VALID[method] as Params;
      assert.equal(await submit(t, rest), 'ERROR_BAD_PARAMETERS', `${method} without ${name}`);
    }
  });

  test('malformed values get ERROR_BAD_PARAMETERS with the reason in error_text', async () => {
    const bad = async (params: Params): Promise<string> => {
      const answer = JSON.parse((await getQuery(t.url, '/in.php', { key: t.key, json: 1, ...params })).body) as { request: string; error_text: string };
      assert.equal(answer.request, 'ERROR_BAD_PARAMETERS');
      return answer.error_text;
    };
    assert.match(await bad({ ...VALID.hcaptcha, sitekey: 'has spaces in it' }), /`sitekey` must be letters/);
    assert.match(await bad({ ...VALID.hcaptcha, domain: 'evil.com' }), /`domain` must be one of/);
    assert.match(await bad({ ...VALID.grid, recaptcharows: '11' }), /`recaptcharows` must be an integer from 1 to 10/);
    assert.match(await bad({ ...VALID.audio, lang: 'xx' }), /`lang` must be one of/);
    assert.match(await bad({ ...VALID.audio, body: b64(png()) }), /not an MP3/);
    assert.match(await bad({ ...VALID.funcaptcha, ...Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`data[f${i}]`, 'x'])) }), /at most 16/);
    assert.match(await bad({ method: 'base64', recaptcha: '1', body: b64(png()) }), /textinstructions/);
    assert.match(await bad({ textcaptcha: 'x'.repeat(141) }), /at most 140/);
  });

  test('images and audio go through the image checks: size, type, base64', async () => {
    assert.equal(await submit(t, { ...VALID.grid, body: '@@@' }), 'ERROR_UPLOAD');
    assert.equal(await submit(t, { ...VALID.grid, body: b64(png(50)) }), 'ERROR_ZERO_CAPTCHA_FILESIZE');
    assert.equal(await submit(t, { ...VALID.rotatecaptcha, body: b64(new Uint8Array(400).fill(7)) }), 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
    assert.equal(await submit(t, { method: 'rotatecaptcha' }), 'ERROR_UPLOAD');
    assert.equal(await submit(t, { ...VALID.audio, body: b64(new Uint8Array(20)) }), 'ERROR_ZERO_CAPTCHA_FILESIZE');
    assert.equal(await submit(t, { method: 'audio', lang: 'en' }), 'ERROR_UPLOAD');
  });

  test('grids and click-points arrive as 2Captcha clients send them: multipart `file`, `imginstructions` as a file part', async () => {
    const grid = await postMultipart(
      t.url,
      '/in.php',
      { key: t.key, method: 'post', recaptcha: '1' },
      { file: { data: png(), filename: 'grid.png' }, imginstructions: { data: png(300, 9), filename: 'hint.png' } },
    );
    assert.match(grid.body, /^OK\|\d+$/);
    assert.match(await waitForResult(t, grid.body.slice(3)), /^OK\|click:/);
    const wrongName = await postMultipart(
      t.url,
      '/in.php',
      { key: t.key, method: 'post', recaptcha: '1', textinstructions: 'cars' },
      { file: { data: png(), filename: 'grid.exe' } },
    );
    assert.equal(wrongName.body, 'ERROR_WRONG_FILE_EXTENSION');
    // The image may come either way whatever `method` says: a base64 `body` with method=post is read too.
    const points = await postForm(t.url, '/in.php', { key: t.key, method: 'post', coordinatescaptcha: '1', body: b64(png()) });
    assert.match(await waitForResult(t, points.body.slice(3)), /^OK\|coordinates:/);
  });

  test('text questions need no method, and `sandbox=answer:` in the question picks the answer', async () => {
    const id = await submitOk(t, { textcaptcha: 'What colour is the sky? sandbox=answer:blue' });
    assert.equal(await waitForResult(t, id), 'OK|blue');
  });

  test('a widget pair reported bad is refused at submit, as reCAPTCHA pairs are', async () => {
    const bad = { ...(VALID.mt_captcha as Params), pageurl: `${PAGE}/pair?sandbox=bad-pair` };
    assert.equal(await waitForResult(t, await submitOk(t, bad)), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.equal(await submit(t, bad), 'ERROR_BAD_TOKEN_OR_PAGEURL');
    assert.match(await submit(t, { ...bad, sitekey: 'MTPublic-other' }), /^OK\|/);
  });
});
