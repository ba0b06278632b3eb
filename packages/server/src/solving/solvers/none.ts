/**
 * The `none` backend: task types routed to no solver end at once with ERROR_CAPTCHA_UNSOLVABLE,
 * instead of holding a thread until their deadline.
 */
import { SolverFailure, TASK_TYPES, type Solution, type Solver } from '@solvebox/protocol';

export class NoSolver implements Solver {
  readonly name = 'none';
  readonly types = TASK_TYPES;
  readonly concurrency = 100;

  async solve(): Promise<Solution> {
    throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', 'no solver is configured for this task type', true);
  }
}
