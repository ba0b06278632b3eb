/**
 * The JSON createTask API through real HTTP against a real SQLite file: every task type, each
 * error number under its cause, the ready result's fields, reports, balance, callbacks, and tasks
 * read across dialects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_TYPES, V2_TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { b64, PAGE, png, postJson, postRaw, result, startTestServer, submitOk, waitForResult, type TestServer } from './helpers.js';

type Json = Record<string, unknown>;

const MP3 = new Uint8Array([0x49, 0x44, 0x33, 0x04, ...new Array<number>(400).fill(0)]);
const PROXY = { proxyType: 'http', proxyAddress: '10.0.0.1', proxyPort: 3128, proxyLogin: 'user', proxyPassword: 'pass' };
const perType = <T>(value: T) => Object.fromEntries(TASK_TYPES.map((t) => [t, value])) as Record<TaskType, T>;

/** A valid task of each type (without its proxy: added for the types that need one). */
const EXAMPLES: Record<string, Json> = {
  ImageToTextTask: { body: b64(png()), phrase: false, case: true, numeric: 0, math: false, minLength: 0, maxLength: 0 },
  RecaptchaV2Task: { websiteURL: PAGE, websiteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', isInvisible: false, cookies: 'a=1; b=2' },
  NoCaptchaTask: { websiteURL: PAGE, websiteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI' },
  RecaptchaV2EnterpriseTask: { websiteURL: PAGE, websiteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', enterprisePayload: { s: 'SOME_S' } },
  RecaptchaV3TaskProxyless: { websiteURL: PAGE, websiteKey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', minScore: 0.7, pageAction: 'login' },
  TurnstileTask: { websiteURL: PAGE, websiteKey: '1x00000000000000000000AA' },
  GeeTestTask: { websiteURL: PAGE, gt: 'f1ab2cdefa3456789012345b6c78d90e', challenge: '12345678abc90123d45678ef90123a456b' },
  HCaptchaTask: { websiteURL: PAGE, websiteKey: '10000000-ffff-ffff-ffff-000000000001', isInvisible: false },
  FunCaptchaTask: { websiteURL: PAGE, websitePublicKey: '69A21A01-CC7B-B9C6-0F9A-E7FA06677FFC', data: '{"blob":"abc"}' },
  KeyCaptchaTask: {
    websiteURL: PAGE,
    s_s_c_user_id: '184015',
    s_s_c_session_id: '9ff29e0176e78eb7ba59314f92dbac1b',
    s_s_c_web_server_sign: '964635241a3e5e76980f2572e5f63452',
    s_s_c_web_server_sign2: '3ca802a38ffc5831fa293ac2819b1204',
  },
  CapyTask: { websiteURL: PAGE, websiteKey: 'PUZZLE_Abc1dEFghIJKLM2no34P56q7rStu8v' },
  LeminTask: { websiteURL: PAGE, captchaId: 'CROPPED_3dfdd5c_d1872b526b794d83ba3b365eb15a200b', divId: 'lemin-cropped-captcha' },
  AmazonTask: { websiteURL: PAGE, websiteKey: 'AQIDAHjcYu/GjX+QlghicBg', iv: 'CgAAFDIlckAAAAid', context: 'qoJYgnKsc==' },
  MtCaptchaTask: { websiteURL: PAGE, websiteKey: 'MTPublic-KzqLY1cKH' },
  CutCaptchaTask: { websiteURL: PAGE, miseryKey: 'a1488b66da00bf332a1488993a5443c79047e752', apiKey: 'SAb83IIB' },
  FriendlyCaptchaTask: { websiteURL: PAGE, websiteKey: 'FCMST5VUMCBOCGQ9' },
  TencentTask: { websiteURL: PAGE, appId: '190014885' },
  AtbCaptchaTask: { websiteURL: PAGE, appId: 'af25e409b33d722a95e56a230ff8771c', apiServer: 'https://cap.aisecurius.com' },
  DataDomeSliderTask: { websiteURL: PAGE, captchaUrl: 'https://geo.captcha-delivery.com/captcha/?initialCid=AHrlqAAAAAMA', userAgent: 'Mozilla/5.0' },
  AntiCyberSiAraTask: { websiteURL: PAGE, SlideMasterUrlId: 'tpjOCKjjpdzv3d8Ub2E9COEWKt1vl1Mv' },
  ProsopoTask: { websiteURL: PAGE, websiteKey: '5EZVvsHMrKCFKp5NYNoTyDjTjetoVo1Z4UNNbTwJf1GfN6Xm' },
  CaptchaFoxTask: { websiteURL: PAGE, websiteKey: 'sk_xtNxpk6fCdFbxh1_xJeGflSdCE9tn99G' },
  GridTask: { body: b64(png()), comment: 'Select all cars', rows: 3, columns: 3 },
  CoordinatesTask: { body: b64(png()), comment: 'Click the ghost' },
  RotateTask: { body: b64(png()), angle: 60 },
  TextCaptchaTask: { comment: 'If tomorrow is Saturday, what day is today?' },
  AudioTask: { body: b64(MP3), lang: 'en' },
  'CustomTask:DataDome': { websiteURL: PAGE, userAgent: 'Mozilla/5.0', metadata: { captchaUrl: 'https://geo.captcha-delivery.com/captcha/?initialCid=A' } },
  'CustomTask:TenDI': { websiteURL: PAGE, websiteKey: '190014885' },
};

/** The solution fields each type is answered with. */
const SOLUTION_FIELDS: Record<string, readonly string[]> = {
  ImageToTextTask: ['text'],
  RecaptchaV2Task: ['gRecaptchaResponse', 'token'],
  NoCaptchaTask: ['gRecaptchaResponse', 'token'],
  RecaptchaV2EnterpriseTask: ['gRecaptchaResponse', 'token'],
  RecaptchaV3TaskProxyless: ['gRecaptchaResponse', 'token'],
  TurnstileTask: ['token'],
  GeeTestTask: ['challenge', 'validate', 'seccode'],
  HCaptchaTask: ['gRecaptchaResponse', 'token', 'respKey'],
  CapyTask: ['captchakey', 'challengekey', 'answer'],
  LeminTask: ['answer', 'challenge_id'],
  AmazonTask: ['captcha_voucher', 'existing_token'],
  TencentTask: ['appid', 'ret', 'ticket', 'randstr'],
  DataDomeSliderTask: ['cookie'],
  GridTask: ['click'],
  CoordinatesTask: ['coordinates'],
  RotateTask: ['rotate'],
  TextCaptchaTask: ['text'],
  AudioTask: ['text'],
  'CustomTask:DataDome': ['cookie'],
  'CustomTask:TenDI': ['appid', 'ret', 'ticket', 'randstr'],
};

describe('the JSON createTask API', () => {
  let t: TestServer;
  const call = async (path: string, body: Json): Promise<Json> => {
    const answer = await postJson(t.url, path, body);
    assert.equal(answer.status, 200, `${path} answers HTTP 200`);
    return JSON.parse(answer.body) as Json;
  };
  const create = (task: Json, extra: Json = {}, key = t.key) => call('/createTask', { clientKey: key, task, ...extra });
  const getResult = async (taskId: unknown, key = t.key): Promise<Json> => {
    const end = Date.now() + 5000;
    for (;;) {
      const answer = await call('/getTaskResult', { clientKey: key, taskId });
      if (answer.status !== 'processing' || Date.now() > end) return answer;
      await sleep(20);
    }
  };

  before(async () => {
    t = await startTestServer({ banFailures: 1000, solvers: perType('sandbox'), pricesMicros: { ...perType(0), image: 1_500 } });
  });
  after(() => t.close());

  test('every task type of the table has an example here', () => {
    const names = new Set(V2_TASK_TYPES.map((x) => x.type.replace(/Proxyless$/, '')));
    assert.deepEqual(
      [...names].filter((n) => !(n in EXAMPLES) && !(`${n}Proxyless` in EXAMPLES)),
      [],
    );
  });

  for (const spec of V2_TASK_TYPES) {
    test(`${spec.type}: created, then ready with its documented solution`, async () => {
      const base = (EXAMPLES[spec.type] ?? EXAMPLES[spec.type.replace(/Proxyless$/, '')]) as Json;
      const [type, custom] = spec.type.split(':');
      const task = { type, ...(custom ? { class: custom } : {}), ...base, ...(spec.proxy === 'required' ? PROXY : {}) };
      const created = await create(task);
      assert.equal(created.errorId, 0, JSON.stringify(created));
      assert.equal(typeof created.taskId, 'number', 'task ids are integers');
      const ready = await getResult(created.taskId);
      assert.equal(ready.errorId, 0, JSON.stringify(ready));
      assert.equal(ready.status, 'ready');
      const fields = SOLUTION_FIELDS[spec.type.replace(/Proxyless$/, '')] ?? ['token'];
      for (const field of fields) assert.ok(field in (ready.solution as Json), `${spec.type} solution has ${field}: ${JSON.stringify(ready.solution)}`);
      for (const field of ['cost', 'ip', 'createTime', 'endTime', 'solveCount']) assert.ok(field in ready, `the result carries ${field}`);
    });
  }

  test('a ready result: cost as text, times in seconds, solve count, and the test keys answered as documented', async () => {
    const before = Math.floor(Date.now() / 1000);
    const ready = await getResult((await create({ type: 'ImageToTextTask', body: b64(png()) })).taskId);
    assert.equal(ready.cost, '0.0015');
    assert.equal(ready.solveCount, 1);
    assert.ok((ready.createTime as number) >= before - 1 && (ready.createTime as number) <= (ready.endTime as number));
    assert.ok((ready.endTime as number) <= Math.floor(Date.now() / 1000));
    assert.equal(typeof ready.ip, 'string');
    const hcaptcha = await getResult((await create({ type: 'HCaptchaTaskProxyless', ...EXAMPLES.HCaptchaTask })).taskId);
    assert.equal((hcaptcha.solution as Json).gRecaptchaResponse, '10000000-aaaa-bbbb-cccc-000000000001');
    const grid = await getResult((await create({ type: 'GridTask', ...EXAMPLES.GridTask })).taskId);
    assert.ok(Array.isArray((grid.solution as Json).click) && ((grid.solution as Json).click as number[]).every((n) => Number.isInteger(n)));
    const coordinates = await getResult((await create({ type: 'CoordinatesTask', ...EXAMPLES.CoordinatesTask })).taskId);
    const point = ((coordinates.solution as Json).coordinates as Json[])[0] as Json;
    assert.equal(typeof point.x, 'number');
  });

  test('types without Proxyless take the proxy when sent, and go without one when not (as CapMonster sends them)', async () => {
    assert.equal((await create({ type: 'TurnstileTask', ...EXAMPLES.TurnstileTask })).errorId, 0);
    assert.equal((await create({ type: 'TurnstileTask', ...EXAMPLES.TurnstileTask, ...PROXY })).errorId, 0);
    assert.equal((await create({ type: 'turnstiletaskproxyless', ...EXAMPLES.TurnstileTask })).errorId, 0, 'type names ignore case');
  });

  test('a task made in one dialect is read in the other', async () => {
    const v1 = await submitOk(t, { method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: PAGE });
    assert.deepEqual((await getResult(Number(v1))).solution, { token: 'XXXX.DUMMY.TOKEN.XXXX' });
    const v2 = await create({ type: 'TurnstileTaskProxyless', ...EXAMPLES.TurnstileTask });
    assert.equal(await waitForResult(t, String(v2.taskId)), 'OK|XXXX.DUMMY.TOKEN.XXXX');
  });

  test('each error number under its cause', async () => {
    const expect = (answer: Json, errorId: number, errorCode: string, message?: RegExp): void => {
      assert.equal(answer.errorId, errorId, JSON.stringify(answer));
      assert.equal(answer.errorCode, errorCode);
      assert.equal(typeof answer.errorDescription, 'string');
      if (message) assert.match(answer.errorDescription as string, message);
    };
    expect(await create({ type: 'ImageToTextTask', body: b64(png()) }, {}, 'x'.repeat(32)), 1, 'ERROR_KEY_DOES_NOT_EXIST');
    expect(await call('/createTask', { task: { type: 'ImageToTextTask' } }), 1, 'ERROR_KEY_DOES_NOT_EXIST');
    expect(await create({ type: 'ImageToTextTask', body: b64(png(50)) }), 3, 'ERROR_ZERO_CAPTCHA_FILESIZE');
    expect(await create({ type: 'ImageToTextTask', body: b64(new Uint8Array(400).fill(3)) }), 15, 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
    expect(await create({ type: 'TurnstileTaskProxyless', websiteKey: '1x00000000000000000000AA' }), 5, 'ERROR_PAGEURL', /websiteURL/);
    expect(await create({ type: 'RecaptchaV2TaskProxyless', websiteURL: PAGE }), 31, 'ERROR_RECAPTCHA_INVALID_SITEKEY');
    expect(
      await create({ type: 'TurnstileTaskProxyless', websiteURL: PAGE, websiteKey: '1x00000000000000000000AA?sandbox=unsolvable' }),
      110,
      'ERROR_BAD_PARAMETERS',
      /websiteKey/,
    );
    expect(
      await getResult(
        (await create({ type: 'TurnstileTaskProxyless', websiteURL: `${PAGE}?sandbox=unsolvable`, websiteKey: '1x00000000000000000000AA' })).taskId,
      ),
      12,
      'ERROR_CAPTCHA_UNSOLVABLE',
    );
    expect(await call('/getTaskResult', { clientKey: t.key, taskId: 1234567890123456 }), 16, 'ERROR_NO_SUCH_CAPCHA_ID');
    expect(await call('/getTaskResult', { clientKey: t.key, taskId: 'abc' }), 16, 'ERROR_NO_SUCH_CAPCHA_ID');
    expect(await call('/createTask', { clientKey: t.key }), 22, 'ERROR_TASK_ABSENT');
    expect(await create({ type: 'RecaptchaV9Task' }), 23, 'ERROR_TASK_NOT_SUPPORTED');
    expect(await create({ type: 'DataDomeSliderTask', ...EXAMPLES.DataDomeSliderTask }), 110, 'ERROR_BAD_PARAMETERS', /proxyType/);
    expect(await create({ type: 'TurnstileTask', ...EXAMPLES.TurnstileTask, proxyAddress: '10.0.0.1' }), 110, 'ERROR_BAD_PARAMETERS', /proxyPort/);
    expect(await create({ type: 'CustomTask', class: 'Basilisk', websiteURL: PAGE }), 23, 'ERROR_TASK_NOT_SUPPORTED', /Basilisk/);
    expect(await create({ type: 'TurnstileTask', ...EXAMPLES.TurnstileTask, ...PROXY, proxyPort: 99999 }), 130, 'ERROR_BAD_PROXY');
    expect(await create({ type: 'FunCaptchaTaskProxyless', ...EXAMPLES.FunCaptchaTask, data: '{not json' }), 110, 'ERROR_BAD_PARAMETERS', /JSON/);
    expect(JSON.parse((await postRaw(t.url, '/createTask', '{"clientKey": ', 'application/json')).body), 110, 'ERROR_BAD_PARAMETERS');
    expect(await create({ type: 'ImageToTextTask', body: b64(png(110 * 1024)) }), 4, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
    expect(JSON.parse(await (await fetch(`${t.url}/createTask`, { method: 'PUT', body: '{}' })).text()), 14, 'ERROR_NO_SUCH_METHOD');
    const proxyFails = {
      type: 'TurnstileTask',
      websiteURL: `${PAGE}?sandbox=proxy-fail`,
      websiteKey: '1x00000000000000000000AA',
      ...PROXY,
      proxyAddress: '10.9.9.9',
    };
    expect(await getResult((await create(proxyFails)).taskId), 25, 'ERROR_PROXY_CONNECT_REFUSED');
  });

  test('ERROR_IP_BLOCKED (21) after repeated bad keys, as v1 answers IP_BANNED, and for every call', async () => {
    const strict = await startTestServer({ banFailures: 2, solvers: perType('sandbox') });
    try {
      const answers: Json[] = [];
      for (let i = 0; i < 3; i++) answers.push(JSON.parse((await postJson(strict.url, '/getBalance', { clientKey: 'x'.repeat(32) })).body) as Json);
      assert.deepEqual(
        answers.map((a) => a.errorId),
        [1, 1, 21],
      );
      const banned = JSON.parse(
        (await postJson(strict.url, '/createTask', { clientKey: strict.key, task: { type: 'ImageToTextTask', body: b64(png()) } })).body,
      );
      assert.deepEqual([banned.errorId, banned.errorCode], [21, 'ERROR_IP_BLOCKED']);
      assert.equal((await fetch(`${strict.url}/res.php?key=${strict.key}&action=getbalance`)).status, 200);
      assert.equal(await (await fetch(`${strict.url}/res.php?key=${strict.key}&action=getbalance`)).text(), 'IP_BANNED', 'one ban for both dialects');
    } finally {
      await strict.close();
    }
  });

  test('ERROR_NO_SLOT_AVAILABLE when every thread of the account is busy, as v1 answers ERROR_ZERO_BALANCE', async () => {
    const key = await t.newKey({ threads: 1 });
    const busy = { type: 'TurnstileTaskProxyless', websiteURL: `${PAGE}?sandbox=delay:2`, websiteKey: '1x00000000000000000000AA' };
    assert.equal((await create(busy, {}, key)).errorId, 0);
    const refused = await create(busy, {}, key);
    assert.equal(refused.errorId, 2);
    assert.equal(refused.errorCode, 'ERROR_NO_SLOT_AVAILABLE');
  });

  test('getBalance, reports, and getQueueStats', async () => {
    assert.deepEqual(await call('/getBalance', { clientKey: t.key }), { errorId: 0, balance: Number(await balanceV1()) });
    const taskId = (await create({ type: 'ImageToTextTask', body: b64(png()) })).taskId;
    await getResult(taskId);
    assert.deepEqual(await call('/reportIncorrectImageCaptcha', { clientKey: t.key, taskId }), { errorId: 0, status: 'success' });
    assert.equal((await call('/reportCorrect', { clientKey: t.key, taskId })).errorCode, 'ERROR_DUPLICATE_REPORT');
    const other = (await create({ type: 'ImageToTextTask', body: b64(png()) })).taskId;
    await getResult(other);
    assert.deepEqual(await call('/reportCorrect', { clientKey: t.key, taskId: other }), { errorId: 0, status: 'success' });
    const stats = await call('/getQueueStats', { clientKey: t.key, queueId: 1 });
    assert.equal(stats.errorId, 0);
    assert.equal(stats.waiting, 1);
    assert.equal(stats.bid, 0.0015);
    assert.equal((await call('/getQueueStats', { queueId: 999 })).errorCode, 'ERROR_BAD_PARAMETERS');
  });

  async function balanceV1(): Promise<string> {
    return (await fetch(`${t.url}/res.php?key=${t.key}&action=getbalance`)).text();
  }

  test('long-poll: `wait` holds getTaskResult until the task ends', async () => {
    const taskId = (await create({ type: 'TurnstileTaskProxyless', websiteURL: `${PAGE}?sandbox=delay:0.3`, websiteKey: '1x00000000000000000000AA' })).taskId;
    const answer = await call('/getTaskResult', { clientKey: t.key, taskId, wait: 5 });
    assert.equal(answer.status, 'ready');
  });

  test('callbackUrl is the pingback: the answer is POSTed when the task ends', async () => {
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const withCallbacks = await startTestServer({ pingbackPrivate: true, solvers: perType('sandbox') });
    try {
      const answer = JSON.parse(
        (
          await postJson(withCallbacks.url, '/createTask', {
            clientKey: withCallbacks.key,
            task: { type: 'TurnstileTaskProxyless', ...EXAMPLES.TurnstileTask },
            callbackUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
          })
        ).body,
      ) as Json;
      const end = Date.now() + 5000;
      while (bodies.length === 0 && Date.now() < end) await sleep(20);
      assert.equal(new URLSearchParams(bodies[0]).get('id'), String(answer.taskId));
      assert.equal(new URLSearchParams(bodies[0]).get('code'), 'XXXX.DUMMY.TOKEN.XXXX');
      assert.equal(await result(withCallbacks, String(answer.taskId)), 'OK|XXXX.DUMMY.TOKEN.XXXX');
    } finally {
      await withCallbacks.close();
      receiver.close();
    }
  });
});
