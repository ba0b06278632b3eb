/**
 * The published npm clients of the JSON createTask API, pointed at a real Solvebox by host only:
 * Anti-Captcha's official library (through an interceptor of its own axios, which hard-codes
 * https://api.anti-captcha.com) and CapMonster Cloud's client (its `serviceUrl` option). Each runs
 * every call it offers; the task types Solvebox does not accept fail with the client's own error
 * for ERROR_TASK_NOT_SUPPORTED.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { IMAGE as IMAGE_BYTES, PAGE, RECAPTCHA_KEY as RECAPTCHA, startSolvebox, TURNSTILE_PASS, UNKNOWN_KEY, type Solvebox } from './harness.js';

const require = createRequire(import.meta.url);
const HCAPTCHA_TEST = '10000000-ffff-ffff-ffff-000000000001';
const IMAGE = IMAGE_BYTES.toString('base64');

interface AntiCaptcha {
  settings: Record<string, unknown>;
  session: { taskId: number };
  setAPIKey(key: string): void;
  shutUp(): void;
  getBalance(): Promise<number>;
  solveImage(body: string): Promise<string>;
  reportIncorrectImageCaptcha(): Promise<boolean>;
  solveRecaptchaV2Proxyless(url: string, key: string, invisible?: boolean): Promise<string>;
  solveRecaptchaV2ProxyOn(
    url: string,
    key: string,
    type: string,
    address: string,
    port: number,
    login: string,
    password: string,
    ua: string,
    cookies: string,
  ): Promise<string>;
  solveRecaptchaV3(url: string, key: string, minScore: number, action: string): Promise<string>;
  solveRecaptchaV2EnterpriseProxyless(url: string, key: string, payload: Record<string, string>, apiDomain: string): Promise<string>;
  solveRecaptchaV3Enterprise(url: string, key: string, minScore: number, action: string): Promise<string>;
  reportIncorrectRecaptcha(): Promise<boolean>;
  reportCorrectRecaptcha(): Promise<boolean>;
  solveHCaptchaProxyless(url: string, key: string, ua?: string): Promise<string>;
  getHcaptchaRespKey(): string | null;
  reportIncorrectHcaptcha(): Promise<boolean>;
  solveFunCaptchaProxyless(url: string, key: string): Promise<string>;
  solveGeeTestProxyless(url: string, gt: string, challenge: string, apiSubdomain?: string, userAgent?: string): Promise<Record<string, string>>;
  solveGeeTestV4Proxyless(
    url: string,
    gt: string,
    apiSubdomain?: string,
    userAgent?: string,
    initParameters?: Record<string, string>,
  ): Promise<Record<string, string>>;
  solveTurnstileProxyless(url: string, key: string, action?: string): Promise<string>;
  solveImageToCoordinates(body: string, comment: string): Promise<unknown>;
  solveProsopoProxyless(url: string, key: string): Promise<string>;
  solveFriendlyCaptchaProxyless(url: string, key: string): Promise<string>;
  solveAmazonProxyless(url: string, key: string, iv: string, context: string): Promise<string>;
  solveAntiGateTask(url: string, template: string, variables: Record<string, string>): Promise<unknown>;
}

describe('@antiadmin/anticaptchaofficial 1.0.56', () => {
  let solvebox: Solvebox;
  let ac: AntiCaptcha;
  let eject: () => void;
  before(async () => {
    solvebox = await startSolvebox();
    // The library posts to https://api.anti-captcha.com/<method> with its own axios: that is the host to change.
    const libRequire = createRequire(require.resolve('@antiadmin/anticaptchaofficial'));
    const axios = libRequire('axios') as { interceptors: { request: { use(f: (c: { url: string }) => unknown): number; eject(id: number): void } } };
    const id = axios.interceptors.request.use((config) => ({ ...config, url: config.url.replace('https://api.anti-captcha.com', solvebox.url) }));
    eject = () => axios.interceptors.request.eject(id);
    ac = require('@antiadmin/anticaptchaofficial') as AntiCaptcha;
    ac.setAPIKey(solvebox.key);
    ac.shutUp();
    ac.settings.firstAttemptWaitingInterval = 0;
    ac.settings.normalWaitingInterval = 0.05;
  });
  after(async () => {
    eject();
    await solvebox.close();
  });

  test('balance, an image, and its report', async () => {
    assert.equal(await ac.getBalance(), 0);
    assert.match(await ac.solveImage(IMAGE), /^[0-9a-z]{6}$/);
    assert.equal(await ac.reportIncorrectImageCaptcha(), true);
    assert.equal(
      await solvebox.direct('/res.php', { action: 'reportgood', id: String(ac.session.taskId) }),
      'ERROR_DUPLICATE_REPORT',
      'the report was recorded',
    );
  });

  test('reCAPTCHA v2 with and without a proxy, Enterprise, v3 and v3 Enterprise, and both reports', async () => {
    assert.match(await ac.solveRecaptchaV2Proxyless(PAGE, RECAPTCHA), /^03SANDBOX_/);
    assert.match(await ac.solveRecaptchaV2ProxyOn(PAGE, RECAPTCHA, 'http', '10.0.0.1', 3128, 'user', 'pass', 'Mozilla/5.0', 'a=1'), /^03SANDBOX_/);
    assert.match(await ac.solveRecaptchaV2EnterpriseProxyless(PAGE, RECAPTCHA, { s: 'S_VALUE' }, ''), /^03SANDBOX_/);
    assert.match(await ac.solveRecaptchaV3(PAGE, RECAPTCHA, 0.7, 'login'), /^03SANDBOX_/);
    assert.match(await ac.solveRecaptchaV3Enterprise(PAGE, RECAPTCHA, 0.7, 'login'), /^03SANDBOX_/);
    assert.equal(await ac.reportCorrectRecaptcha(), true);
    await ac.solveRecaptchaV2Proxyless(PAGE, RECAPTCHA);
    assert.equal(await ac.reportIncorrectRecaptcha(), true);
  });

  test("hCaptcha (its test key's documented token), FunCaptcha, Turnstile, Prosopo, Friendly Captcha", async () => {
    assert.equal(await ac.solveHCaptchaProxyless(PAGE, HCAPTCHA_TEST, 'Mozilla/5.0'), '10000000-aaaa-bbbb-cccc-000000000001');
    assert.equal(await ac.reportIncorrectHcaptcha(), true);
    assert.match(await ac.solveFunCaptchaProxyless(PAGE, '69A21A01-CC7B-B9C6-0F9A-E7FA06677FFC'), /\|r=eu-west-1\|/);
    assert.equal(await ac.solveTurnstileProxyless(PAGE, TURNSTILE_PASS), 'XXXX.DUMMY.TOKEN.XXXX');
    assert.match(await ac.solveProsopoProxyless(PAGE, '5EZVvsHMrKCFKp5NYNoTyDjTjetoVo1Z4UNNbTwJf1GfN6Xm'), /^SANDBOX_/);
    assert.match(await ac.solveFriendlyCaptchaProxyless(PAGE, 'FCMST5VUMCBOCGQ9'), /^SANDBOX_/);
  });

  test("GeeTest v3 and v4 (object answers), and Amazon WAF's token", async () => {
    const v3 = await ac.solveGeeTestProxyless(PAGE, 'f1ab2cdefa3456789012345b6c78d90e', '12345678abc90123d45678ef90123a456b');
    assert.equal(v3.challenge, '12345678abc90123d45678ef90123a456b');
    assert.match(v3.seccode ?? '', /\|jordan$/);
    const v4 = await ac.solveGeeTestV4Proxyless(PAGE, 'e392e1d7fd421dc63325744d5a2b9c73', '', '', {});
    assert.equal(v4.captcha_id, 'e392e1d7fd421dc63325744d5a2b9c73');
    assert.ok(v4.pass_token && v4.lot_number && v4.captcha_output);
    assert.match(await ac.solveAmazonProxyless(PAGE, 'AQIDAHjcYu/GjX+QlghicBg', 'CgAAFDIlckAAAAid', 'qoJYgnKsc=='), /^SANDBOX\./);
  });

  test('what Solvebox does not take: ImageToCoordinatesTask and AntiGate templates fail with ERROR_TASK_NOT_SUPPORTED', async () => {
    await assert.rejects(ac.solveImageToCoordinates(IMAGE, 'click the ghost'), (err) => err === 'ERROR_TASK_NOT_SUPPORTED');
    await assert.rejects(ac.solveAntiGateTask(PAGE, 'Sign-in and wait for control text', {}), (err) => err === 'ERROR_TASK_NOT_SUPPORTED');
  });

  test('a bad key and an unsolvable task', async () => {
    ac.setAPIKey(UNKNOWN_KEY);
    await assert.rejects(ac.getBalance(), (err) => err === 'ERROR_KEY_DOES_NOT_EXIST');
    ac.setAPIKey(solvebox.key);
    await assert.rejects(ac.solveTurnstileProxyless(`${PAGE}?sandbox=unsolvable`, TURNSTILE_PASS), (err) => err === 'ERROR_CAPTCHA_UNSOLVABLE');
  });
});

interface CapMonsterModule {
  CapMonsterCloudClientFactory: { Create(options: unknown): CapMonsterClient };
  ClientOptions: new (options: { clientKey: string; serviceUrl: string }) => unknown;
  ErrorType: Record<string, string>;
  [request: string]: unknown;
}
interface CapMonsterClient {
  getBalance(): Promise<{ errorId: number; balance?: number; errorCode?: string }>;
  Solve(request: unknown): Promise<{ solution?: Record<string, unknown>; error?: string }>;
}

describe('@zennolab_com/capmonstercloud-client 2.6.1', () => {
  let solvebox: Solvebox;
  let cm: CapMonsterModule;
  const client = (key = solvebox.key) => cm.CapMonsterCloudClientFactory.Create(new cm.ClientOptions({ clientKey: key, serviceUrl: solvebox.url }));
  const request = (name: string, args: Record<string, unknown>) => new (cm[name] as new (a: Record<string, unknown>) => unknown)(args);
  const PROXY = { proxy: { proxyType: 'http', proxyAddress: '10.0.0.1', proxyPort: 3128, proxyLogin: 'user', proxyPassword: 'pass' } };

  before(async () => {
    solvebox = await startSolvebox();
    cm = require('@zennolab_com/capmonstercloud-client') as CapMonsterModule;
  });
  after(() => solvebox.close());

  test('balance and an image', async () => {
    assert.deepEqual(await client().getBalance(), { errorId: 0, balance: 0 });
    const image = await client().Solve(request('ImageToTextRequest', { body: IMAGE }));
    assert.match(String(image.solution?.text), /^[0-9a-z]{6}$/);
  });

  test('every token request it offers that Solvebox takes', async () => {
    const cases: [string, Record<string, unknown>, (s: Record<string, unknown>) => void][] = [
      ['RecaptchaV2Request', { websiteURL: PAGE, websiteKey: RECAPTCHA }, (s) => assert.match(String(s.gRecaptchaResponse), /^03SANDBOX_/)],
      ['RecaptchaV2Request', { websiteURL: PAGE, websiteKey: RECAPTCHA, ...PROXY }, (s) => assert.match(String(s.gRecaptchaResponse), /^03SANDBOX_/)],
      ['RecaptchaV2EnterpriseRequest', { websiteURL: PAGE, websiteKey: RECAPTCHA }, (s) => assert.match(String(s.gRecaptchaResponse), /^03SANDBOX_/)],
      ['RecaptchaV3ProxylessRequest', { websiteURL: PAGE, websiteKey: RECAPTCHA, minScore: 0.7, pageAction: 'login' }, (s) => assert.ok(s.gRecaptchaResponse)],
      ['HCaptchaRequest', { websiteURL: PAGE, websiteKey: HCAPTCHA_TEST }, (s) => assert.equal(s.gRecaptchaResponse, '10000000-aaaa-bbbb-cccc-000000000001')],
      ['TurnstileRequest', { websiteURL: PAGE, websiteKey: TURNSTILE_PASS }, (s) => assert.equal(s.token, 'XXXX.DUMMY.TOKEN.XXXX')],
      [
        'GeeTestRequest',
        { websiteURL: PAGE, gt: 'f1ab2cdefa3456789012345b6c78d90e', challenge: '12345678abc90123d45678ef90123a456b' },
        (s) => assert.ok(s.validate),
      ],
      ['FunCaptchaRequest', { websiteURL: PAGE, websitePublicKey: '69A21A01-CC7B-B9C6-0F9A-E7FA06677FFC' }, (s) => assert.match(String(s.token), /\|/)],
      ['MTCaptchaRequest', { websiteURL: PAGE, websiteKey: 'MTPublic-KzqLY1cKH' }, (s) => assert.match(String(s.token), /^SANDBOX_/)],
      [
        'ProsopoRequest',
        { websiteURL: PAGE, websiteKey: '5EZVvsHMrKCFKp5NYNoTyDjTjetoVo1Z4UNNbTwJf1GfN6Xm' },
        (s) => assert.match(String(s.token), /^SANDBOX_/),
      ],
      [
        'AmazonRequest',
        {
          websiteURL: PAGE,
          websiteKey: 'AQIDAHjcYu/GjX+QlghicBg',
          iv: 'CgAAFDIlckAAAAid',
          context: 'qoJYgnKsc==',
          challengeScript: 'https://a.b/c.js',
          captchaScript: 'https://a.b/d.js',
        },
        (s) => assert.ok(s.captcha_voucher),
      ],
      ['TenDIRequest', { websiteURL: PAGE, websiteKey: '190014885' }, (s) => assert.equal(s.appid, '190014885')],
      [
        'DataDomeRequest',
        {
          websiteURL: PAGE,
          userAgent: 'Mozilla/5.0',
          metadata: { captchaUrl: 'https://geo.captcha-delivery.com/captcha/?initialCid=A', datadomeCookie: 'x' },
          ...PROXY,
        },
        (s) => assert.match(String(s.cookie), /^datadome=SANDBOX_/),
      ],
    ];
    for (const [name, args, check] of cases) {
      const answer = await client().Solve(request(name, args));
      assert.equal(answer.error, undefined, `${name}: ${answer.error}`);
      check(answer.solution ?? {});
    }
  });

  test('what Solvebox does not take fails with an error, not a hang: ComplexImageTask and the other CustomTask classes', async () => {
    const refused: [string, Record<string, unknown>][] = [
      ['ComplexImageRecaptchaRequest', { imagesBase64: [IMAGE], metadata: { Grid: '3x3', Task: 'cars' } }],
      // These constructors read their proxy unconditionally.
      ['BasiliskRequest', { websiteURL: PAGE, websiteKey: 'k', ...PROXY }],
      ['ImpervaRequest', { websiteURL: PAGE, metadata: { incapsulaScriptBase64: 'x', incapsulaSessionCookie: 'y' }, ...PROXY }],
      ['BinanceRequest', { websiteURL: PAGE, websiteKey: 'k', validateId: 'v', ...PROXY }],
    ];
    for (const [name, args] of refused) {
      const answer = await client().Solve(request(name, args));
      assert.equal(answer.solution, undefined, name);
      assert.ok(answer.error, `${name} fails with an error`);
    }
  });

  test('a bad key and an unsolvable task', async () => {
    await assert.rejects(client(UNKNOWN_KEY).getBalance(), /KEY_DOES_NOT_EXIST/);
    const unsolvable = await client().Solve(request('TurnstileRequest', { websiteURL: `${PAGE}?sandbox=unsolvable`, websiteKey: TURNSTILE_PASS }));
    assert.equal(unsolvable.error, cm.ErrorType.CAPTCHA_UNSOLVABLE);
  });
});
