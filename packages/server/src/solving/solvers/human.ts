/**
 * The `human` backend: a task waits on the desk until an operator in the console answers it. The
 * operator's verdict comes back from the desk (in this process, or by Redis pub/sub from another
 * node); the answer is credited to the operator, so clients' reports count for them.
 */
import { SolverDeclined, type Solution, type Solver, type SolveContext, type Task, type TaskType } from '@solvebox/protocol';
import type { DeskVerdict, HumanDesk } from '../../storage/desk.js';

/** The task types a person can answer in the console. */
export const HUMAN_TYPES: readonly TaskType[] = ['image', 'textcaptcha', 'grid', 'bls', 'coordinates', 'rotate', 'audio'];

/** Statistics and reports name an operator's answers `human:<operator>`. */
export const OPERATOR_PREFIX = 'human:';

export function operatorSolverName(operator: string): string {
  return `${OPERATOR_PREFIX}${operator}`;
}

export interface HumanSolverOptions {
  readonly desk: HumanDesk;
  /**
   * How long a task waits for an operator before the solver declines it, so that the next
   * fallback gets the rest of its time; 0 waits until the task's deadline.
   */
  readonly waitMs: number;
  readonly clock?: () => number;
}

export class HumanSolver implements Solver {
  readonly name = 'human';
  readonly types = HUMAN_TYPES;
  /** Waiting costs nothing: as many tasks as people may be asked to answer. */
  readonly concurrency = 10_000;
  private readonly waiting = new Map<string, (verdict: DeskVerdict) => void>();
  private readonly stopListening: () => void;
  private readonly clock: () => number;

  constructor(private readonly options: HumanSolverOptions) {
    this.clock = options.clock ?? Date.now;
    this.stopListening = options.desk.onVerdict((taskId, verdict) => this.waiting.get(taskId)?.(verdict));
  }

  async solve(task: Task, ctx: SolveContext): Promise<Solution> {
    const now = this.clock();
    // With no one at the console the task would only wait for its deadline: the next fallback, or
    // the client's ERROR_CAPTCHA_UNSOLVABLE, comes at once instead.
    if ((await this.options.desk.online(now)).length === 0) throw new SolverDeclined('no operator is online');
    const waitUntil = this.options.waitMs > 0 ? Math.min(task.deadlineAt, now + this.options.waitMs) : task.deadlineAt;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const verdict = await new Promise<DeskVerdict | 'no-one'>((resolve, reject) => {
        this.waiting.set(task.id, (verdict) => {
          settled = true;
          resolve(verdict);
        });
        timer = setTimeout(() => resolve('no-one'), Math.max(0, waitUntil - now));
        onAbort = () => reject(ctx.signal.reason ?? new Error('aborted'));
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        this.options.desk.post({ taskId: task.id, spec: task.spec, postedAt: now, deadlineAt: waitUntil }).catch(reject);
      });
      if (verdict === 'no-one') throw new SolverDeclined('no operator answered in time');
      if (verdict.kind === 'unreadable') throw new SolverDeclined(`operator ${verdict.operator} marked the task unreadable`);
      ctx.credit?.(operatorSolverName(verdict.operator));
      return verdict.solution;
    } finally {
      clearTimeout(timer);
      if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
      this.waiting.delete(task.id);
      if (!settled) await this.options.desk.withdraw(task.id).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.stopListening();
  }
}
