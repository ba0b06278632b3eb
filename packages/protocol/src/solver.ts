/**
 * The contract between the server's task runner and a solving backend (sandbox, OCR, human
 * console, upstream relay). A solver only solves; leasing, retries, deadlines and protocol codes
 * belong to the runner.
 */
import type { Solution, Task, TaskType } from './tasks.js';

export interface SolveContext {
  /** Aborted when the task's deadline passes or the server shuts down; stop work and reject. */
  readonly signal: AbortSignal;
  /**
   * Names who answered, when the solver answers on someone's behalf (the human solver: the
   * operator). Statistics and clients' reports then count for them rather than for the solver.
   */
  readonly credit?: (who: string) => void;
  /** Reports how likely the solver judged its reading (0 to 1), accepted or declined, for metrics. */
  readonly confidence?: (probability: number) => void;
  /**
   * What the answer cost, in millionths, when the solver paid for it (an upstream provider's
   * price): the task is charged this instead of its configured price.
   */
  readonly price?: (micros: number) => void;
}

export interface Solver {
  /** Shown in logs and `solvebox serve` output. */
  readonly name: string;
  readonly types: readonly TaskType[];
  /** How many tasks the runner hands this solver at once. @defaultValue 4 */
  readonly concurrency?: number;
  solve(task: Task, ctx: SolveContext): Promise<Solution>;
  close?(): Promise<void>;
}

/**
 * The task outcomes a solver may report, each a res.php code. The last three only come from an
 * upstream provider (the relay backend), which knows them of its tasks.
 */
export type SolverFailureCode =
  | 'ERROR_CAPTCHA_UNSOLVABLE'
  | 'ERROR_PROXY_CONNECTION_FAILED'
  | 'ERROR_BAD_TOKEN_OR_PAGEURL'
  | 'ERROR_BAD_PARAMETERS'
  | 'ERROR_BAD_DUPLICATES'
  | 'ERROR_TOKEN_EXPIRED';

/**
 * Thrown by a solver that met the captcha and could not solve it. `final` failures end the task at
 * once (a dead proxy, an invalid sitekey/pageurl pair); others let the runner try again, up to its
 * attempt limit. Any other error counts as a backend crash: retried too, and counted by the runner's
 * circuit breaker.
 */
export class SolverFailure extends Error {
  override readonly name = 'SolverFailure';
  constructor(
    readonly code: SolverFailureCode,
    message: string,
    readonly final: boolean = code !== 'ERROR_CAPTCHA_UNSOLVABLE',
  ) {
    super(message);
  }
}

/** `instanceof` fails across realms (worker threads, child processes), so the name counts too. */
export function isSolverFailure(err: unknown): err is SolverFailure {
  return err instanceof SolverFailure || (err instanceof Error && err.name === 'SolverFailure' && 'code' in err);
}

/**
 * Thrown by a solver that will not answer this task with confidence (an OCR reading it doubts, a
 * language it cannot read). The runner hands the task to the type's fallback solver, if the
 * operator configured one; otherwise the task ends with ERROR_CAPTCHA_UNSOLVABLE. Never retried on
 * the same solver: it would doubt the same image again.
 */
export class SolverDeclined extends Error {
  override readonly name = 'SolverDeclined';
}

export function isSolverDeclined(err: unknown): err is SolverDeclined {
  return err instanceof SolverDeclined || (err instanceof Error && err.name === 'SolverDeclined');
}
