/**
 * What res.php's `get` and `get2` answer for one task: shared by the route (routes/results.ts) and
 * the fast poll path (http/fast-poll.ts), which must answer byte for byte alike.
 */
import { codeReply, isKnownCode, isTaskId, solutionReply, type ErrorCode, type Reply } from '@solvebox/protocol';
import { canonicalTaskId } from '../identity.js';
import { formatMicros } from '../money.js';
import type { TaskView } from '../storage/types.js';

type IdCheck = { readonly ok: true; readonly id: string | undefined } | { readonly ok: false; readonly reply: Reply };

/** `id` must be digits (else ERROR_WRONG_ID_FORMAT); digits no task can have give `id: undefined`. */
export function checkId(raw: string | undefined): IdCheck {
  const id = raw?.trim() ?? '';
  if (!isTaskId(id)) return { ok: false, reply: codeReply('ERROR_WRONG_ID_FORMAT') };
  return { ok: true, id: canonicalTaskId(id) };
}

/** What `get` (or, with the price, `get2`) answers for a task; shared with the fast poll path. */
export function taskReply(task: TaskView | undefined, withPrice: boolean): Reply {
  if (!task) return codeReply('ERROR_WRONG_CAPTCHA_ID');
  if (task.state === 'solved' && task.solution) {
    return solutionReply(task.solution, withPrice ? formatMicros(task.priceMicros ?? 0) : undefined);
  }
  return codeReply(pendingOrFailedCode(task));
}

/** The task id of a request, when `id` is well-formed (undefined for ids no task can have). */
export function requestedTaskId(raw: string | undefined): string | undefined {
  const checked = checkId(raw);
  return checked.ok ? checked.id : undefined;
}

export function pendingOrFailedCode(task: TaskView): ErrorCode {
  if (task.state === 'queued' || task.state === 'active') return 'CAPCHA_NOT_READY';
  return task.errorCode !== undefined && isKnownCode(task.errorCode) ? task.errorCode : 'ERROR_CAPTCHA_UNSOLVABLE';
}
