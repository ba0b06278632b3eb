/**
 * The published npm clients of the 2Captcha v1 API (in.php / res.php), as their users run them,
 * against a real Solvebox: each is redirected by host only (see harness.ts) and runs every call it
 * offers among image (file and base64), reCAPTCHA v2 and v3, Turnstile, GeeTest, Cloudflare
 * challenge, balance and both reports, plus a bad key and an unsolvable task. Each outcome is
 * compared with what the real service answers. docs/compatibility.md lists the results; a client's
 * own bug is noted there and here, never bent around in the server.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dialSolvebox,
  IMAGE,
  IMAGE_ANSWER,
  IMAGE_DIRECTIVE,
  PAGE,
  RECAPTCHA_KEY,
  redirectUrl,
  startSolvebox,
  TURNSTILE_BLOCK,
  TURNSTILE_PASS,
  UNKNOWN_KEY,
  withFastTimers,
  type Solvebox,
} from './harness.js';

const require = createRequire(import.meta.url);
const B64 = IMAGE.toString('base64');
const GT = '81388ea1fc187e0c335c0a8907ff2625';
const CHALLENGE = '2e2f0f65240058b683cb6ea21c303eea';

let solvebox: Solvebox;
let imageFile: string;
let scratch: string;
before(async () => {
  solvebox = await startSolvebox();
  scratch = mkdtempSync(join(tmpdir(), 'solvebox-compat-files-'));
  imageFile = join(scratch, 'captcha.png');
  writeFileSync(imageFile, IMAGE);
});
after(async () => {
  await solvebox.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** What the sandbox answers for IMAGE with no hints, read straight from in.php and res.php. */
async function directImageAnswer(): Promise<string> {
  const id = (await solvebox.direct('/in.php', { method: 'base64', body: B64 })).slice(3);
  for (;;) {
    const answer = await solvebox.direct('/res.php', { action: 'get', id });
    if (answer !== 'CAPCHA_NOT_READY') return answer.slice(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- the official client and its two ancestors: one Solver class with `in` and `res` getters ----

/** The Solver API shared by @2captcha/captcha-solver and 2captcha-ts (parameter objects). */
interface ParamSolver {
  balance(): Promise<number>;
  recaptcha(params: Record<string, unknown>): Promise<{ data: string; id: string }>;
  geetest(params: Record<string, unknown>): Promise<{ data: Record<string, string>; id: string }>;
  imageCaptcha(params: Record<string, unknown>): Promise<{ data: string; id: string }>;
  cloudflareTurnstile(params: Record<string, unknown>): Promise<{ data: string; id: string }>;
  goodReport(id: string): Promise<unknown>;
  badReport(id: string): Promise<unknown>;
}
type SolverClass = new (key: string, pollingFrequency?: number) => ParamSolver;

/** A subclass that overrides only the URL getters: requests and answer handling stay the client's. */
function redirected(Solver: SolverClass): SolverClass {
  const Base = Solver as unknown as new (key: string, pollingFrequency?: number) => object;
  return class extends Base {
    get in(): string {
      return `${solvebox.url}/in.php`;
    }
    get res(): string {
      return `${solvebox.url}/res.php`;
    }
  } as unknown as SolverClass;
}

/** The API error of these clients: `err` is the code the server answered (or the raw body). */
async function apiError(call: Promise<unknown>): Promise<string> {
  const err = (await call.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  )) as { err?: string };
  return String(err.err);
}

for (const [name, load] of [
  ['@2captcha/captcha-solver 1.3.9', () => (require('@2captcha/captcha-solver') as { Solver: SolverClass }).Solver],
  ['2captcha-ts 2.4.1', () => (require('2captcha-ts') as { Solver: SolverClass }).Solver],
] as const) {
  describe(name, () => {
    const Solver = (): SolverClass => redirected(load());
    const solver = (key = solvebox.key): ParamSolver => new (Solver())(key, 20);

    test('image from base64 (a JSON POST body)', async () => {
      const answer = await solver().imageCaptcha({ body: B64, textinstructions: IMAGE_DIRECTIVE });
      assert.equal(answer.data, IMAGE_ANSWER);
    });
    test('reCAPTCHA v2 and v3', async () => {
      assert.match((await solver().recaptcha({ pageurl: PAGE, googlekey: RECAPTCHA_KEY })).data, /^03SANDBOX_/);
      assert.match((await solver().recaptcha({ pageurl: PAGE, googlekey: RECAPTCHA_KEY, version: 'v3', action: 'login', min_score: 0.7 })).data, /^03SANDBOX_/);
    });
    test('Turnstile (also what these clients offer for Cloudflare challenges)', async () => {
      assert.equal((await solver().cloudflareTurnstile({ pageurl: PAGE, sitekey: TURNSTILE_PASS })).data, 'XXXX.DUMMY.TOKEN.XXXX');
    });
    test('GeeTest: the answer is an object', async () => {
      const { data } = await solver().geetest({ pageurl: PAGE, gt: GT, challenge: CHALLENGE });
      assert.equal(data.geetest_challenge, CHALLENGE);
      assert.ok(data.geetest_validate && data.geetest_seccode);
    });
    test('balance and both reports', async () => {
      assert.equal(await solver().balance(), 0);
      const good = await solver().cloudflareTurnstile({ pageurl: `${PAGE}?r=good`, sitekey: TURNSTILE_PASS });
      await solver().goodReport(good.id);
      const bad = await solver().cloudflareTurnstile({ pageurl: `${PAGE}?r=bad`, sitekey: TURNSTILE_PASS });
      await solver().badReport(bad.id);
    });
    test('a bad key and an unsolvable task', async () => {
      assert.equal(await apiError(solver(UNKNOWN_KEY).cloudflareTurnstile({ pageurl: PAGE, sitekey: TURNSTILE_PASS })), 'ERROR_KEY_DOES_NOT_EXIST');
      assert.equal(await apiError(solver().cloudflareTurnstile({ pageurl: PAGE, sitekey: TURNSTILE_BLOCK })), 'ERROR_CAPTCHA_UNSOLVABLE');
      // Client bug: balance() throws its APIError inside a try whose catch rethrows APIError(raw body),
      // so the code arrives as the whole JSON answer. The server sent ERROR_KEY_DOES_NOT_EXIST.
      assert.match(await apiError(solver(UNKNOWN_KEY).balance()), /"request":"ERROR_KEY_DOES_NOT_EXIST"/);
    });
  });
}

/** 2captcha 3.0.7 (Furry): positional arguments, and the image as JSON in a body labelled text/plain. */
interface PositionalSolver {
  balance(): Promise<number>;
  recaptcha(googlekey: string, pageurl: string, extra?: Record<string, unknown>): Promise<{ data: string; id: string }>;
  geetest(gt: string, challenge: string, pageurl: string, extra?: Record<string, unknown>): Promise<{ data: Record<string, string>; id: string }>;
  imageCaptcha(base64image: string, extra?: Record<string, unknown>): Promise<{ data: string; id: string }>;
  turnstile(sitekey: string, pageurl: string, extra?: Record<string, unknown>): Promise<{ data: string; id: string }>;
  goodReport(id: string): Promise<unknown>;
  report(id: string): Promise<unknown>;
}

describe('2captcha 3.0.7', () => {
  const solver = (key = solvebox.key): PositionalSolver => {
    const Solver = redirected((require('2captcha') as { Solver: SolverClass }).Solver);
    return new Solver(key, 20) as unknown as PositionalSolver;
  };
  test('image from base64: the body is JSON sent as text/plain, the rest in the query', async () => {
    assert.equal((await solver().imageCaptcha(B64, { textinstructions: IMAGE_DIRECTIVE })).data, IMAGE_ANSWER);
  });
  test('reCAPTCHA v2 and v3', async () => {
    assert.match((await solver().recaptcha(RECAPTCHA_KEY, PAGE)).data, /^03SANDBOX_/);
    assert.match((await solver().recaptcha(RECAPTCHA_KEY, PAGE, { version: 'v3', action: 'verify', min_score: 0.3 })).data, /^03SANDBOX_/);
  });
  test('Turnstile and GeeTest', async () => {
    assert.equal((await solver().turnstile(TURNSTILE_PASS, PAGE)).data, 'XXXX.DUMMY.TOKEN.XXXX');
    assert.equal((await solver().geetest(GT, CHALLENGE, PAGE)).data.geetest_challenge, CHALLENGE);
  });
  test('balance and both reports', async () => {
    assert.equal(await solver().balance(), 0);
    await solver().goodReport((await solver().turnstile(TURNSTILE_PASS, `${PAGE}?r=good`)).id);
    await solver().report((await solver().turnstile(TURNSTILE_PASS, `${PAGE}?r=bad`)).id);
  });
  test('a bad key and an unsolvable task', async () => {
    assert.equal(await apiError(solver(UNKNOWN_KEY).turnstile(TURNSTILE_PASS, PAGE)), 'ERROR_KEY_DOES_NOT_EXIST');
    assert.equal(await apiError(solver().turnstile(TURNSTILE_BLOCK, PAGE)), 'ERROR_CAPTCHA_UNSOLVABLE');
  });
});

// ---- rucaptcha-2captcha: axios with a hard-coded host and hard-coded 5 s / 20 s waits ----

interface RuCaptcha {
  send(params: Record<string, unknown>): Promise<string>;
  get(id: string): Promise<string | string[]>;
  getWithPrice(id: string): Promise<{ token: string; price: string }>;
  reportGood(id: string): Promise<{ status: number; request: string }>;
  reportBad(id: string): Promise<{ status: number; request: string }>;
  getBalance(): Promise<number | string>;
}

/** Registers an axios request interceptor that sends the client's requests to Solvebox. */
function redirectAxios(packageName: string): () => void {
  const axios = createRequire(require.resolve(packageName))('axios') as {
    interceptors: { request: { use(f: (config: { url?: string }) => { url?: string }): number; eject(id: number): void } };
  };
  const id = axios.interceptors.request.use((config) => ({ ...config, url: redirectUrl(config.url ?? '', solvebox) }));
  return () => axios.interceptors.request.eject(id);
}

describe('rucaptcha-2captcha 2.2.1', () => {
  const client = (key = solvebox.key): RuCaptcha => (require('rucaptcha-2captcha') as (key: string, service: number) => RuCaptcha)(key, 2);
  let restore: () => void;
  before(() => (restore = redirectAxios('rucaptcha-2captcha')));
  after(() => restore());
  // The client sleeps 5 s (images) or 20 s (tokens) before polling, with no option to change it.
  const fast = <T>(body: () => Promise<T>): Promise<T> => withFastTimers(200, body);

  test('image from a file (read and sent as base64) and from base64', () =>
    fast(async () => {
      const expected = await directImageAnswer();
      assert.equal(await client().get(await client().send({ url: imageFile })), expected);
      assert.equal(await client().get(await client().send({ method: 'base64', body: B64, textinstructions: IMAGE_DIRECTIVE })), IMAGE_ANSWER);
    }));
  test('reCAPTCHA v2 and v3, Turnstile, GeeTest, and several ids in one poll', () =>
    fast(async () => {
      const v2 = await client().send({ method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE });
      const v3 = await client().send({ method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE, version: 'v3', action: 'login', min_score: 0.3 });
      const turnstile = await client().send({ method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE });
      const [a, b, c] = (await client().get(`${v2},${v3},${turnstile}`)) as string[];
      assert.match(a ?? '', /^03SANDBOX_/);
      assert.match(b ?? '', /^03SANDBOX_/);
      assert.equal(c, 'XXXX.DUMMY.TOKEN.XXXX');
      // Client bug: get() splits `request` as a string, but a GeeTest answer is a JSON object (as on
      // 2Captcha with json=1, which this client always sends), so it throws a TypeError.
      const geetest = await client().send({ method: 'geetest', gt: GT, challenge: CHALLENGE, pageurl: PAGE });
      await assert.rejects(client().get(geetest), (err: Error) => err instanceof TypeError && /split is not a function/.test(err.message));
      assert.match(await solvebox.direct('/res.php', { action: 'get', id: geetest, json: '1' }), /^\{"status":1,"request":\{"geetest_challenge":/);
    }));
  test('Cloudflare challenge, get2 with the price, balance and both reports', () =>
    fast(async () => {
      const clearance = await client().send({
        method: 'cloudflare_challenge',
        pageurl: PAGE,
        proxy: '203.0.113.10:3128',
        proxytype: 'HTTP',
        userAgent: 'Mozilla/5.0',
      });
      assert.match(String(await client().get(clearance)), /^SANDBOX_/);
      const priced = await client().getWithPrice(await client().send({ method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: `${PAGE}?r=price` }));
      assert.deepEqual(priced, { token: 'XXXX.DUMMY.TOKEN.XXXX', price: '0' });
      assert.equal(Number(await client().getBalance()), 0);
      assert.deepEqual(await client().reportGood(clearance), { status: 1, request: 'OK_REPORT_RECORDED' });
      const other = await client().send({ method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: `${PAGE}?r=bad` });
      await client().get(other);
      assert.deepEqual(await client().reportBad(other), { status: 1, request: 'OK_REPORT_RECORDED' });
    }));
  test('a bad key and an unsolvable task throw errors named by the code', () =>
    fast(async () => {
      await assert.rejects(client(UNKNOWN_KEY).send({ method: 'turnstile', sitekey: TURNSTILE_PASS, pageurl: PAGE }), { name: 'ERROR_KEY_DOES_NOT_EXIST' });
      const id = await client().send({ method: 'turnstile', sitekey: TURNSTILE_BLOCK, pageurl: PAGE });
      await assert.rejects(client().get(id), { name: 'ERROR_CAPTCHA_UNSOLVABLE' });
    }));
});

// ---- 2captcha-node: node-fetch to http://2captcha.com, hard-coded; multipart type on a JSON body ----

interface CaptchaNode {
  solve(options: { image: string; maxAttempts?: number }): Promise<{ id: string; text: string }>;
  balance(): Promise<string>;
  report(id: string, isValid: boolean): Promise<boolean>;
}

describe('2captcha-node 2.2.1', () => {
  const client = (key = solvebox.key): CaptchaNode => (require('2captcha-node') as { default: (key: string) => CaptchaNode }).default(key);
  let restore: () => void;
  before(() => (restore = dialSolvebox(http, solvebox)));
  after(() => restore());
  // It waits 5 s after the submit and 1 s between polls, hard-coded. Its in.php and res.php URLs are
  // module-wide objects that every call mutates, so calls must not overlap (a client bug).
  const fast = <T>(body: () => Promise<T>): Promise<T> => withFastTimers(200, body);

  test('image from base64: a JSON body sent as multipart/form-data without a boundary', () =>
    fast(async () => {
      const expected = await directImageAnswer();
      assert.equal((await client().solve({ image: B64 })).text, expected);
    }));
  test('balance and both reports', () =>
    fast(async () => {
      assert.equal(await client().balance(), '0');
      const good = await client().solve({ image: B64 });
      assert.equal(await client().report(good.id, true), true);
      const bad = await client().solve({ image: Buffer.concat([IMAGE, Buffer.from('other')]).toString('base64') });
      assert.equal(await client().report(bad.id, false), true);
    }));
  test('a bad key', () =>
    fast(async () => {
      // It polls with whatever in.php answered as the id; a bad key ends in its own "maximum attempts" error.
      await assert.rejects(client(UNKNOWN_KEY).solve({ image: B64, maxAttempts: 2 }), /maximum number of attempts/);
      assert.equal(await client(UNKNOWN_KEY).balance(), 'ERROR_KEY_DOES_NOT_EXIST');
    }));
});

// ---- @infosimples/node_two_captcha: axios, urlencoded bodies, invisible=0/1 on every reCAPTCHA ----

interface Decoded {
  id: string;
  text: string;
}
interface InfosimplesClient {
  decode(options: Record<string, unknown>): Promise<Decoded>;
  decodeRecaptchaV2(options: Record<string, unknown>): Promise<Decoded>;
  decodeRecaptchaV3(options: Record<string, unknown>): Promise<Decoded>;
  balance(): Promise<string | number>;
  report(id: string, bad?: boolean): Promise<boolean>;
}

describe('@infosimples/node_two_captcha 1.2.0', () => {
  const client = (key = solvebox.key): InfosimplesClient => {
    const Client = require('@infosimples/node_two_captcha') as new (key: string, options: Record<string, unknown>) => InfosimplesClient;
    return new Client(key, { timeout: 10_000, polling: 20, throwErrors: true });
  };
  let restore: () => void;
  before(() => (restore = redirectAxios('@infosimples/node_two_captcha')));
  after(() => restore());

  test('image from a file, a buffer and base64', async () => {
    const expected = await directImageAnswer();
    assert.equal((await client().decode({ path: imageFile })).text, expected);
    assert.equal((await client().decode({ buffer: readFileSync(imageFile) })).text, expected);
    assert.equal((await client().decode({ base64: B64, textinstructions: IMAGE_DIRECTIVE })).text, IMAGE_ANSWER);
  });
  test('reCAPTCHA v2 (invisible=0 and 1) and v3', async () => {
    assert.match((await client().decodeRecaptchaV2({ googlekey: RECAPTCHA_KEY, pageurl: PAGE })).text, /^03SANDBOX_/);
    assert.match((await client().decodeRecaptchaV2({ googlekey: RECAPTCHA_KEY, pageurl: PAGE, invisible: true })).text, /^03SANDBOX_/);
    assert.match((await client().decodeRecaptchaV3({ googlekey: RECAPTCHA_KEY, pageurl: PAGE, action: 'login' })).text, /^03SANDBOX_/);
  });
  test('balance and both reports', async () => {
    assert.equal(await client().balance(), 0, 'axios reads the plain-text balance "0" as JSON: a number');
    const good = await client().decode({ base64: B64, textinstructions: IMAGE_DIRECTIVE });
    assert.equal(await client().report(good.id, false), true);
    const bad = await client().decode({ base64: B64, textinstructions: 'sandbox=answer:OTHER' });
    assert.equal(await client().report(bad.id, true), true);
  });
  test('a bad key and an unsolvable task', async () => {
    await assert.rejects(client(UNKNOWN_KEY).balance(), /The key you've provided does not exists/);
    await assert.rejects(client().decode({ base64: B64, textinstructions: 'sandbox=unsolvable' }), /unable to solve your captcha/);
  });
});

// ---- puppeteer-extra-plugin-recaptcha: its 2captcha provider, a form POST with no Content-Type ----

interface Solution {
  id?: string;
  text?: string;
  error?: string;
}
type GetSolutions = (
  captchas: Record<string, unknown>[],
  token: string,
  options?: Record<string, unknown>,
) => Promise<{ solutions: Solution[]; error?: Solution }>;

describe('puppeteer-extra-plugin-recaptcha 3.6.8 (2captcha provider)', () => {
  const getSolutions = (): GetSolutions =>
    (require('puppeteer-extra-plugin-recaptcha/dist/provider/2captcha.js') as { getSolutions: GetSolutions }).getSolutions;
  let restore: () => void;
  before(() => (restore = dialSolvebox(https, solvebox)));
  after(() => restore());
  // It polls every 2 s with setInterval, hard-coded for the calls the plugin makes.
  const fast = <T>(body: () => Promise<T>): Promise<T> => withFastTimers(100, body);

  test('reCAPTCHA v2 and v3 (with its action), several at once', () =>
    fast(async () => {
      const { solutions, error } = await getSolutions()(
        [
          { _vendor: 'recaptcha', id: 'a', sitekey: RECAPTCHA_KEY, url: PAGE },
          { _vendor: 'recaptcha', id: 'b', sitekey: RECAPTCHA_KEY, url: PAGE, action: 'login' },
        ],
        solvebox.key,
      );
      assert.equal(error, undefined);
      assert.deepEqual(
        solutions.map((s) => [s.id, /^03SANDBOX_/.test(s.text ?? '')]),
        [
          ['a', true],
          ['b', true],
        ],
      );
    }));
  test('a bad key and an unsolvable task', () =>
    fast(async () => {
      const bad = await getSolutions()([{ _vendor: 'recaptcha', id: 'a', sitekey: RECAPTCHA_KEY, url: PAGE }], UNKNOWN_KEY);
      assert.equal(bad.error?.error, 'Error: 2captcha error: ERROR_KEY_DOES_NOT_EXIST');
      const unsolvable = await getSolutions()([{ _vendor: 'recaptcha', id: 'a', sitekey: RECAPTCHA_KEY, url: `${PAGE}?sandbox=unsolvable` }], solvebox.key);
      assert.equal(unsolvable.error?.error, 'Error: 2captcha error: ERROR_CAPTCHA_UNSOLVABLE');
    }));
});

test('none of these clients runs an install script', () => {
  // They are installed by the root `npm ci`; a future client with an install script (one that
  // downloads a browser, say) must be installed separately with scripts disabled.
  const lock = JSON.parse(readFileSync(new URL('../../../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
  };
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));
  // esbuild (which bundles the console) has one, denied by package.json's allowScripts: its binary
  // comes in its platform's optional package (@esbuild/linux-x64), and the script only checks it.
  assert.deepEqual(withScripts.sort(), ['better-sqlite3', 'esbuild', 'onnxruntime-node', 'sharp']);
});
