/** The dependencies request handlers share, built once at startup. */
import type { ServerConfig } from './config.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { Logger } from './logger.js';
import type { RequestLimits } from './request-limits.js';
import type { TaskType } from '@solvebox/protocol';
import type { Storage } from './storage/types.js';
import type { TaskWaiters } from './waiters.js';
import type { Metrics } from './metrics.js';
import type { OcrControl } from './solving/chains.js';
import type { Relay } from './solving/relay/relay.js';

export interface Services {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly gate: Gatekeeper;
  readonly dispatch: TaskDispatch;
  /** The task types this process solves itself (none on an API-only node). */
  readonly solverTypes: readonly TaskType[];
  readonly clock: () => number;
  readonly log: Logger;
  /** Long-polls waiting for tasks to end. */
  readonly waiters: TaskWaiters;
  /** 2Captcha's request limits, under the `2captcha` dialect only. */
  readonly limits?: RequestLimits;
  /** The OCR backend's controls, when this process runs it (the dashboard shows the model; admins reload it). */
  readonly ocr?: OcrControl;
  /** Prometheus metrics, when the console (which serves them) is on. */
  readonly metrics?: Metrics;
  /** The upstreams of `--upstreams`: /health shows them, and clients' reports of their answers go to them. */
  readonly relay?: Relay;
}

/**
 * What in.php needs of the solvers: whether a task type's solver is working (not crashing), and a
 * nudge when a task is queued. The in-process TaskRunner is one; an API-only node, whose tasks
 * workers elsewhere solve, accepts every type and nudges no one (Redis wakes the workers).
 */
export interface TaskDispatch {
  isAvailable(type: TaskType, now: number): boolean;
  notify(type: TaskType): void;
}

export const REMOTE_SOLVERS: TaskDispatch = { isAvailable: () => true, notify: () => {} };
