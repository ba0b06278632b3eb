/**
 * res.php: results, balance and reports. Check order: ban, body readable, key format, key
 * existence, action, id format, id existence. `get` and `get2` of one id may long-poll (`wait=N`,
 * a Solvebox extension): the answer is the same, it only comes when the task ends or N passes.
 */
import { codeReply, isTaskId, MAX_IDS_PER_REQUEST, solutionText, valueReply, waitMillis, WAIT_PARAM, type Reply } from '@solvebox/protocol';
import type { ProtocolRequest } from '../http/request.js';
import { canonicalTaskId } from '../identity.js';
import { formatMicros } from '../money.js';
import type { Services } from '../services.js';
import { afterReport } from '../reports.js';
import type { Account, TaskView } from '../storage/types.js';
import { checkId, pendingOrFailedCode, taskReply } from './task-reply.js';

export async function handleResult(req: ProtocolRequest, ip: string, svc: Services): Promise<Reply> {
  const { gate } = svc;
  if (await gate.isBanned(ip)) return codeReply('IP_BANNED');
  if (req.problem) return codeReply('ERROR_BAD_PARAMETERS', 'the request body could not be read');
  const action = req.fields.get('action')?.trim() ?? '';
  // The balance and reports must see the account as stored now, not as cached a moment ago.
  const fresh = action === 'getbalance' || action === 'reportgood' || action === 'reportbad';
  const auth = await gate.authenticate(req.fields.get('key'), ip, { fresh });
  if (!auth.ok) return codeReply(auth.code);

  switch (action) {
    case '':
      return codeReply('ERROR_EMPTY_ACTION');
    case 'getbalance':
      return valueReply(formatMicros(auth.account.balanceMicros));
    case 'get': {
      const ids = req.fields.get('ids');
      return ids === undefined ? getOne(req, auth.account, svc, false) : getMany(ids, auth.account, svc);
    }
    case 'get2':
      return getOne(req, auth.account, svc, true);
    case 'reportgood':
    case 'reportbad':
      return report(req, auth.account, svc, action === 'reportgood' ? 'good' : 'bad');
    default:
      return codeReply('ERROR_BAD_PARAMETERS', 'unknown action; use get, get2, getbalance, reportgood or reportbad');
  }
}

async function findTask(id: string | undefined, account: Account, svc: Services): Promise<TaskView | undefined> {
  if (id === undefined) return undefined;
  return (await svc.storage.getTasks(account.id, [id], svc.clock())).get(id);
}

async function getOne(req: ProtocolRequest, account: Account, svc: Services, withPrice: boolean): Promise<Reply> {
  const checked = checkId(req.fields.get('id'));
  if (!checked.ok) return checked.reply;
  return taskReply(await readTask(checked.id, account, svc, waitMillis(req.fields.get(WAIT_PARAM)), req.signal), withPrice);
}

/**
 * A task as its account sees it; with `waitMs`, waits up to that long for an unfinished task to
 * end (the long-poll both dialects offer). Undefined when the account has no such task.
 */
export async function readTask(id: string | undefined, account: Account, svc: Services, waitMs: number, signal: AbortSignal): Promise<TaskView | undefined> {
  // Listening starts before the read, so that a task ending between the two still wakes the wait.
  const waiter = waitMs > 0 && id !== undefined ? svc.waiters.register(id) : undefined;
  try {
    let task = await findTask(id, account, svc);
    if (waiter && task !== undefined && !isFinished(task)) {
      await waiter.until(waitMs, signal);
      task = await findTask(id, account, svc);
    }
    return task;
  } finally {
    waiter?.cancel(); // also when a read failed: the waiter must not outlive its request
  }
}

function isFinished(task: TaskView): boolean {
  return task.state === 'solved' || task.state === 'failed';
}

/** `ids=1,2,3`: answers joined by `|` in the order asked, each an answer, CAPCHA_NOT_READY or a code. */
async function getMany(rawIds: string, account: Account, svc: Services): Promise<Reply> {
  const parts = rawIds.split(',').map((p) => p.trim());
  if (parts.length > MAX_IDS_PER_REQUEST) return codeReply('ERROR_BAD_PARAMETERS', `at most ${MAX_IDS_PER_REQUEST} ids per request`);
  if (!parts.every(isTaskId)) return codeReply('ERROR_WRONG_ID_FORMAT');
  const canonical = parts.map(canonicalTaskId);
  const known = canonical.filter((id): id is string => id !== undefined);
  const tasks = known.length > 0 ? await svc.storage.getTasks(account.id, known, svc.clock()) : new Map<string, TaskView>();
  const answers = canonical.map((id) => {
    const task = id === undefined ? undefined : tasks.get(id);
    if (!task) return 'ERROR_WRONG_CAPTCHA_ID';
    return task.state === 'solved' && task.solution ? solutionText(task.solution) : pendingOrFailedCode(task);
  });
  return valueReply(answers.join('|'));
}

async function report(req: ProtocolRequest, account: Account, svc: Services, verdict: 'good' | 'bad'): Promise<Reply> {
  const checked = checkId(req.fields.get('id'));
  if (!checked.ok) return checked.reply;
  if (checked.id === undefined) return codeReply('ERROR_WRONG_CAPTCHA_ID');
  const outcome = await svc.storage.recordReport(account.id, checked.id, verdict, svc.clock());
  await afterReport(svc, account.id, checked.id, verdict, outcome);
  switch (outcome) {
    case 'recorded':
      return valueReply('OK_REPORT_RECORDED');
    case 'duplicate':
      return codeReply('ERROR_DUPLICATE_REPORT');
    case 'not-solved':
      return codeReply('ERROR_REPORT_NOT_RECORDED');
    case 'not-found':
      return codeReply('ERROR_WRONG_CAPTCHA_ID');
  }
}
