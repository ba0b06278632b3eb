/**
 * The JSON createTask API (2Captcha v2, Anti-Captcha, CapMonster Cloud): createTask, getTaskResult,
 * getBalance, the reports and getQueueStats. It is a second dialect over the same server: a task
 * object becomes the in.php request of its method and goes through `submitTask`, so accounts,
 * threads, bans, validation, idempotency, storage, the runner and pingbacks are the v1 ones, and a
 * task made in one dialect is read in the other. Answers are JSON with HTTP 200, errors as
 * `errorId`/`errorCode`/`errorDescription` (protocol/src/errors/v2.ts).
 */
import { toV1Fields, v2Error, v2ErrorFor, v2ErrorForTask, v2Solution, waitMillis, WAIT_PARAM, type TaskType } from '@solvebox/protocol';
import type { ProtocolRequest } from '../http/request.js';
import { formatMicros } from '../money.js';
import type { Services } from '../services.js';
import { afterReport } from '../reports.js';
import type { Account } from '../storage/types.js';
import { readTask } from './results.js';
import { submitTask } from './submit.js';
import { checkId } from './task-reply.js';

export type V2Reply = object;
type V2Handler = (req: ProtocolRequest, ip: string, svc: Services) => Promise<V2Reply>;

/** Ban, readable body, then the key: the first checks of every call, in v1's order. */
async function authenticate(
  req: ProtocolRequest,
  ip: string,
  svc: Services,
  fresh = false,
): Promise<{ ok: true; account: Account } | { ok: false; reply: V2Reply }> {
  if (await svc.gate.isBanned(ip)) return { ok: false, reply: v2ErrorFor('IP_BANNED') };
  if (req.problem === 'too-large') return { ok: false, reply: v2ErrorFor('ERROR_TOO_BIG_CAPTCHA_FILESIZE', 'the request body is too large') };
  if (req.problem === 'unreadable') return { ok: false, reply: v2Error('ERROR_BAD_PARAMETERS', 'the request body is not a JSON object') };
  const auth = await svc.gate.authenticate(req.fields.get('clientKey'), ip, { fresh });
  return auth.ok ? { ok: true, account: auth.account } : { ok: false, reply: v2ErrorFor(auth.code) };
}

/** The body's `task`: the JSON parser keeps nested objects as their JSON text. */
function taskObject(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const createTask: V2Handler = async (req, ip, svc) => {
  const translated = toV1Fields(taskObject(req.fields.get('task')));
  if (!translated.ok) {
    // The ban and the key answer first, as in v1; a task that translates gets them from submitTask.
    const auth = await authenticate(req, ip, svc);
    return auth.ok ? translated.error : auth.reply;
  }
  const fields = new Map(translated.fields);
  fields.set('key', req.fields.get('clientKey') as string);
  const extra: [string, string][] = [
    ['callbackUrl', 'pingback'],
    ['softId', 'soft_id'],
    ['idempotencyKey', 'idempotency_key'],
  ];
  for (const [v2, v1] of extra) {
    const value = req.fields.get(v2);
    if (value !== undefined) fields.set(v1, value);
  }
  const reply = await submitTask({ ...req, fields, files: req.files }, ip, svc);
  const json = reply.json as { status: number; request: unknown; error_text?: string };
  if (json.status === 1) return { errorId: 0, taskId: Number(json.request) };
  // Under the 2captcha dialect ERROR_ZERO_BALANCE is about money, as the JSON API's own code is.
  if (json.request === 'ERROR_ZERO_BALANCE' && svc.config.dialect === '2captcha') return v2Error('ERROR_ZERO_BALANCE');
  return v2ErrorForTask(String(json.request), json.error_text, translated.type);
};

export const getTaskResult: V2Handler = async (req, ip, svc) => {
  const auth = await authenticate(req, ip, svc);
  if (!auth.ok) return auth.reply;
  const checked = checkId(req.fields.get('taskId'));
  if (!checked.ok) return v2ErrorFor('ERROR_WRONG_ID_FORMAT', '`taskId` must be the number createTask answered');
  const task = await readTask(checked.id, auth.account, svc, waitMillis(req.fields.get(WAIT_PARAM)), req.signal);
  if (task === undefined) return v2ErrorFor('ERROR_WRONG_CAPTCHA_ID');
  if (task.state === 'queued' || task.state === 'active') return { errorId: 0, status: 'processing' };
  if (task.state === 'failed' || task.solution === undefined) return v2ErrorFor(task.errorCode ?? 'ERROR_CAPTCHA_UNSOLVABLE');
  const ended = task.expiresAt === undefined ? svc.clock() : task.expiresAt - svc.config.resultTtlMs;
  return {
    errorId: 0,
    status: 'ready',
    solution: v2Solution(task.type, task.solution),
    cost: formatMicros(task.priceMicros ?? 0),
    // Solvebox does not keep the submitter's address with a task: this is the address asking.
    ip,
    createTime: Math.floor((task.createdAt ?? ended) / 1000),
    endTime: Math.floor(ended / 1000),
    solveCount: Math.max(1, task.attempts ?? 1),
  };
};

export const getBalance: V2Handler = async (req, ip, svc) => {
  const auth = await authenticate(req, ip, svc, true);
  if (!auth.ok) return auth.reply;
  return { errorId: 0, balance: Number(formatMicros(auth.account.balanceMicros)) };
};

function report(verdict: 'good' | 'bad'): V2Handler {
  return async (req, ip, svc) => {
    const auth = await authenticate(req, ip, svc, true);
    if (!auth.ok) return auth.reply;
    const checked = checkId(req.fields.get('taskId'));
    if (!checked.ok || checked.id === undefined) return v2ErrorFor('ERROR_WRONG_CAPTCHA_ID');
    const outcome = await svc.storage.recordReport(auth.account.id, checked.id, verdict, svc.clock());
    await afterReport(svc, auth.account.id, checked.id, verdict, outcome);
    switch (outcome) {
      case 'recorded':
        return { errorId: 0, status: 'success' };
      case 'duplicate':
        return v2ErrorFor('ERROR_DUPLICATE_REPORT');
      case 'not-solved':
        return v2ErrorFor('ERROR_REPORT_NOT_RECORDED');
      case 'not-found':
        return v2ErrorFor('ERROR_WRONG_CAPTCHA_ID');
    }
  };
}

/** Anti-Captcha's queue ids and the task types they stand for. */
const QUEUES: Readonly<Record<number, TaskType>> = {
  1: 'image',
  2: 'image',
  5: 'userrecaptcha',
  6: 'userrecaptcha',
  7: 'funcaptcha',
  10: 'funcaptcha',
  12: 'geetest',
  13: 'geetest',
  18: 'userrecaptcha',
  19: 'userrecaptcha',
  20: 'userrecaptcha',
  21: 'hcaptcha',
  22: 'hcaptcha',
  23: 'userrecaptcha',
  24: 'userrecaptcha',
  26: 'turnstile',
  27: 'turnstile',
};

/**
 * Anti-Captcha's getQueueStats, answered from what this server knows: whether the queue's task
 * type has a working solver (`waiting` 1 or 0), its price (`bid`), and no load figures it does not
 * measure (`load`, `speed` 0; `total` 1).
 */
export const getQueueStats: V2Handler = async (req, _ip, svc) => {
  const type = QUEUES[Number(req.fields.get('queueId'))];
  if (type === undefined) return v2Error('ERROR_BAD_PARAMETERS', `\`queueId\` must be one of ${Object.keys(QUEUES).join(', ')}`);
  const available = svc.dispatch.isAvailable(type, svc.clock());
  const bid = Number(formatMicros(svc.config.pricesMicros[type]));
  return { errorId: 0, waiting: available ? 1 : 0, load: 0, bid, speed: 0, total: 1 };
};

/** The JSON API's paths; the report names are Anti-Captcha's (per type) and 2Captcha's (any type). */
export const V2_ENDPOINTS: ReadonlyArray<readonly [string, V2Handler]> = [
  ['/createTask', createTask],
  ['/getTaskResult', getTaskResult],
  ['/getBalance', getBalance],
  ['/reportCorrect', report('good')],
  ['/reportIncorrect', report('bad')],
  ['/reportCorrectRecaptcha', report('good')],
  ['/reportIncorrectRecaptcha', report('bad')],
  ['/reportIncorrectImageCaptcha', report('bad')],
  ['/reportIncorrectHcaptcha', report('bad')],
  ['/getQueueStats', getQueueStats],
];
