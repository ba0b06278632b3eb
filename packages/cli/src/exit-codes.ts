/** Exit codes of the solvebox command, one per way a failure should be handled. */
import type { ErrorKind } from '@solvebox/client';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `result` without `--wait`: the task is not solved yet. */
  notReady: 10,
} as const;

export const EXIT_BY_ERROR_KIND: Record<ErrorKind, number> = {
  'fix-request': 3,
  'task-failed': 4,
  'retry-later': 5,
  'wait-for-thread': 6,
  timeout: 7,
  transport: 8,
  'unknown-code': 9,
  aborted: 130,
};
