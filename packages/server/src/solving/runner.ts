/**
 * The task runner: leases tasks for each solver, runs them under the task's deadline, retries
 * failed attempts, and turns outcomes into protocol codes in storage. Solvers only solve.
 */
import { setMaxListeners } from 'node:events';
import { isSolverDeclined, isSolverFailure, sitekeyPair, solutionKindFor, type Solution, type Solver, type Task, type TaskType } from '@solvebox/protocol';
import type { Logger } from '../logger.js';
import type { Guards, LeasedTask, StatsStore, TaskQueue } from '../storage/types.js';
import { Circuit } from './circuit.js';

export interface RunnerOptions {
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly circuitFailures: number;
  readonly circuitCooldownMs: number;
  readonly resultTtlMs: number;
  readonly badProxyTtlMs: number;
  readonly badPairTtlMs: number;
  /** How often an idle solver looks for work it was not woken for (retries coming due). @defaultValue 250 */
  readonly idlePollMs?: number;
  /**
   * How long a lease lasts unless renewed; the runner renews it every third of that while the
   * solver works. When a worker dies, its tasks go back to the queue this long after its last renewal.
   * @defaultValue 30000
   */
  readonly leaseMs?: number;
  /** Tasks each solver works on at once; 0 or absent means the solver's own `concurrency` (else 4). */
  readonly concurrency?: number;
}

export const DEFAULT_LEASE_MS = 30_000;

/** What happened to a task, for pingbacks and logs. */
export type Settlement =
  /** `by`: the solver that answered, or whom it credited (`human:<operator>`). */
  { readonly outcome: 'solved'; readonly solution: Solution; readonly by: string } | { readonly outcome: 'failed'; readonly code: string };

export interface RunnerDeps {
  readonly storage: TaskQueue & StatsStore & Guards;
  readonly clock: () => number;
  readonly log: Logger;
  /**
   * The solvers of each task type, in order: the first leases the type's tasks; each next one gets
   * the tasks the one before declined (SolverDeclined). The `none` backend refuses everything.
   */
  readonly chains: ReadonlyMap<TaskType, readonly Solver[]>;
  readonly priceMicros: (type: TaskType) => number;
  readonly onSettled?: (task: LeasedTask, settlement: Settlement) => void;
  /** Told of outcomes, declines and confidences as they happen (metrics). */
  readonly observer?: RunnerObserver;
}

/** What metrics learn from the runner. `backend` is the solver's name, or whom it credited (`human:<operator>`). */
export interface RunnerObserver {
  settled(type: TaskType, backend: string, outcome: { solved: true } | { solved: false; code: string }, seconds: number): void;
  declined(type: TaskType, backend: string): void;
  confidence(backend: string, probability: number): void;
}

/** One solver and the task types routed to it. */
class Lane {
  inFlight = 0;
  readonly circuit: Circuit;
  private wakeUp: (() => void) | undefined;

  constructor(
    readonly solver: Solver,
    readonly types: readonly TaskType[],
    options: RunnerOptions,
    private readonly limit = options.concurrency ?? 0,
  ) {
    this.circuit = new Circuit(options.circuitFailures, options.circuitCooldownMs);
  }

  get concurrency(): number {
    return Math.max(1, this.limit || (this.solver.concurrency ?? 4));
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Waits until woken (new task, free slot, shutdown) or `ms` pass. */
  idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      this.wakeUp = finish;
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

export class TaskRunner {
  private readonly lanes: Lane[] = [];
  private readonly laneByType = new Map<TaskType, Lane>();
  private readonly chains: ReadonlyMap<TaskType, readonly Solver[]>;
  private readonly stopping = stopSignal();
  private readonly loops: Promise<void>[] = [];
  private readonly running = new Set<Promise<void>>();
  /** When each task's run began, for the solve latency of its outcome. */
  private readonly startedAt = new WeakMap<LeasedTask, number>();

  constructor(
    private readonly deps: RunnerDeps,
    private readonly options: RunnerOptions,
  ) {
    this.chains = deps.chains;
    const bySolver = new Map<Solver, TaskType[]>();
    for (const [type, [solver]] of deps.chains) {
      if (!solver) throw new Error(`no solver for ${type} tasks`);
      bySolver.set(solver, [...(bySolver.get(solver) ?? []), type]);
    }
    for (const [solver, types] of bySolver) {
      const lane = new Lane(solver, types, options);
      this.lanes.push(lane);
      for (const type of types) this.laneByType.set(type, lane);
    }
  }

  start(): void {
    for (const lane of this.lanes) this.loops.push(this.loop(lane));
  }

  /** False while the type's solver is crashing (its circuit is open). */
  isAvailable(type: TaskType, now: number): boolean {
    const lane = this.laneByType.get(type);
    return lane !== undefined && !lane.circuit.isOpen(now);
  }

  /** Tells the type's solver that a task is waiting, so it does not wait for its next poll. */
  notify(type: TaskType): void {
    this.laneByType.get(type)?.wake();
  }

  /**
   * Stops leasing, aborts the solves in progress and puts their tasks back in the queue, so that
   * the next start picks them up again.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const lane of this.lanes) lane.wake();
    await Promise.all(this.loops);
    await Promise.allSettled([...this.running]);
    const solvers = new Set([...this.chains.values()].flat());
    await Promise.allSettled([...solvers].map((solver) => solver.close?.()));
  }

  private async loop(lane: Lane): Promise<void> {
    const idlePollMs = this.options.idlePollMs ?? 250;
    while (!this.stopping.signal.aborted) {
      if (lane.inFlight >= lane.concurrency) {
        await lane.idle(idlePollMs);
        continue;
      }
      let task: LeasedTask | undefined;
      try {
        task = await this.deps.storage.leaseTask(lane.types, this.deps.clock(), this.options.leaseMs ?? DEFAULT_LEASE_MS);
      } catch (err) {
        this.deps.log.error({ err, solver: lane.solver.name }, 'could not lease a task');
        await lane.idle(1000);
        continue;
      }
      if (!task) {
        await lane.idle(idlePollMs);
        continue;
      }
      lane.inFlight += 1;
      const run = this.run(lane, task).finally(() => {
        lane.inFlight -= 1;
        this.running.delete(run);
        lane.wake();
      });
      this.running.add(run);
    }
  }

  private async run(lane: Lane, task: LeasedTask): Promise<void> {
    const now = this.deps.clock();
    this.startedAt.set(task, now);
    const abort = new TaskAbort(this.stopping.signal, task.deadlineAt - now);
    const renewal = this.keepLease(task, abort);
    try {
      if (task.attempt > this.options.maxAttempts) {
        // Leased more often than allowed: the process died during earlier attempts (recovered leases count).
        return await this.fail(task, 'ERROR_CAPTCHA_UNSOLVABLE');
      }
      const solverTask: Task = {
        id: task.id,
        spec: task.spec,
        ...(task.proxy ? { proxy: task.proxy } : {}),
        attempt: task.attempt,
        deadlineAt: task.deadlineAt,
      };
      const chain = this.chains.get(task.spec.type) ?? [lane.solver];
      for (const [index, solver] of chain.entries()) {
        let solution: Solution;
        let answeredBy = solver.name;
        let price = this.deps.priceMicros(task.spec.type);
        try {
          solution = await solver.solve(solverTask, {
            signal: abort.signal,
            credit: (who) => void (answeredBy = who),
            price: (micros) => void (price = micros),
            confidence: (p) => this.deps.observer?.confidence(solver.name, p),
          });
        } catch (err) {
          if (isSolverDeclined(err)) {
            await this.countDecline(solver, task);
            if (index < chain.length - 1 && !abort.reason) {
              this.deps.log.debug({ taskId: task.id, solver: solver.name, reason: err.message }, 'solver declined; trying the next');
              continue;
            }
          }
          return await this.handleFailure(lane, solver, task, err, abort.reason);
        }
        if (solution?.kind !== solutionKindFor(task.spec.type)) {
          const err = new Error(`solver ${solver.name} returned a ${solution?.kind} solution for a ${task.spec.type} task`);
          return await this.handleFailure(lane, solver, task, err, abort.reason);
        }
        lane.circuit.recordSuccess();
        const done = this.deps.clock();
        const stored = await this.deps.storage.completeTask(
          task,
          { solution, priceMicros: price, expiresAt: done + this.options.resultTtlMs, solver: answeredBy },
          done,
        );
        if (stored) {
          this.deps.observer?.settled(task.spec.type, answeredBy, { solved: true }, this.secondsSince(task, done));
          this.deps.onSettled?.(task, { outcome: 'solved', solution, by: answeredBy });
        }
        return;
      }
    } catch (err) {
      // Storage failed while writing the outcome: the task stays leased and the sweeper ends it at its deadline.
      this.deps.log.error({ err, taskId: task.id }, 'could not store a task outcome');
    } finally {
      clearInterval(renewal);
      abort.dispose();
    }
  }

  /**
   * Renews the task's lease every third of its length while the solver works. A lease found lost
   * (it ran out while this process stalled, and another worker may have the task now) aborts the
   * solve: its outcome could not be stored anyway.
   */
  private keepLease(task: LeasedTask, abort: TaskAbort): NodeJS.Timeout {
    const leaseMs = this.options.leaseMs ?? DEFAULT_LEASE_MS;
    const timer = setInterval(
      () => {
        this.deps.storage.renewLease(task, this.deps.clock(), leaseMs).then(
          (held) => {
            if (!held) abort.abort('lease-lost');
          },
          (err: unknown) => this.deps.log.warn({ err, taskId: task.id }, 'could not renew a lease; retrying'),
        );
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  private async handleFailure(lane: Lane, solver: Solver, task: LeasedTask, err: unknown, aborted: AbortReason | undefined): Promise<void> {
    if (aborted === 'shutdown') return this.deps.storage.releaseTask(task);
    if (aborted === 'lease-lost') {
      this.deps.log.warn({ taskId: task.id, solver: solver.name }, 'lost the lease of a task while solving it; the task went back to the queue');
      return;
    }
    if (aborted === 'deadline') return this.fail(task, 'ERROR_CAPTCHA_UNSOLVABLE', solver.name);
    const now = this.deps.clock();
    const lastAttempt = task.attempt >= this.options.maxAttempts;
    if (isSolverDeclined(err)) {
      lane.circuit.recordSuccess();
      return this.fail(task, 'ERROR_CAPTCHA_UNSOLVABLE', solver.name);
    }
    if (isSolverFailure(err)) {
      lane.circuit.recordSuccess(); // the backend works; it met a captcha it could not solve
      await this.remember(task, err.code, now);
      if (err.final || lastAttempt) return this.fail(task, err.final ? err.code : 'ERROR_CAPTCHA_UNSOLVABLE', solver.name);
      return this.retry(task, now);
    }
    lane.circuit.recordCrash(now);
    this.deps.log.warn({ err, solver: solver.name, taskId: task.id, attempt: task.attempt }, 'solver crashed');
    return lastAttempt ? this.fail(task, 'ERROR_CAPTCHA_UNSOLVABLE', solver.name) : this.retry(task, now);
  }

  /** Statistics only: a failure to count must not hold up the task, which goes on to its fallback or its end. */
  private async countDecline(solver: Solver, task: LeasedTask): Promise<void> {
    this.deps.observer?.declined(task.spec.type, solver.name);
    try {
      await this.deps.storage.recordDecline(solver.name);
    } catch (err) {
      this.deps.log.warn({ err, solver: solver.name, taskId: task.id }, 'could not count a decline');
    }
  }

  /** Failures that say something about the inputs are remembered, so that in.php refuses them fast. */
  private async remember(task: LeasedTask, code: string, now: number): Promise<void> {
    if (code === 'ERROR_PROXY_CONNECTION_FAILED' && task.proxy) {
      await this.deps.storage.markBad({ kind: 'proxy', proxy: task.proxy }, now + this.options.badProxyTtlMs, now);
    }
    const pair = sitekeyPair(task.spec);
    if (code === 'ERROR_BAD_TOKEN_OR_PAGEURL' && pair) {
      await this.deps.storage.markBad({ kind: 'pair', type: task.spec.type, ...pair }, now + this.options.badPairTtlMs, now);
    }
  }

  private async retry(task: LeasedTask, now: number): Promise<void> {
    await this.deps.storage.failTask(task, { retryAt: now + this.options.retryDelayMs }, now);
  }

  private async fail(task: LeasedTask, code: string, solver?: string): Promise<void> {
    const now = this.deps.clock();
    const outcome = await this.deps.storage.failTask(task, { code, expiresAt: now + this.options.resultTtlMs, ...(solver ? { solver } : {}) }, now);
    if (outcome === 'failed') {
      this.deps.observer?.settled(task.spec.type, solver ?? 'none', { solved: false, code }, this.secondsSince(task, now));
      this.deps.onSettled?.(task, { outcome: 'failed', code });
    }
  }

  private secondsSince(task: LeasedTask, now: number): number {
    return Math.max(0, now - (this.startedAt.get(task) ?? now)) / 1000;
  }
}

type AbortReason = 'deadline' | 'shutdown' | 'lease-lost';

const ABORT_MESSAGES: Record<AbortReason, string> = {
  deadline: 'the task deadline passed',
  shutdown: 'the server is shutting down',
  'lease-lost': 'the lease of the task was lost',
};

/**
 * Shutdown: every task in progress listens to it (TaskAbort), often more than Node's warning
 * threshold of 10 listeners, which is no leak here: each task removes its listener when it ends.
 */
function stopSignal(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The signal a solver gets: aborted at the task's deadline or at shutdown, whichever comes first,
 * remembering which. (A listener per task instead of AbortSignal.any, which leaks on Node 20.)
 */
class TaskAbort {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onShutdown = (): void => this.abort('shutdown');
  reason: AbortReason | undefined;

  constructor(
    private readonly shutdown: AbortSignal,
    remainingMs: number,
  ) {
    this.timer = setTimeout(() => this.abort('deadline'), Math.max(0, remainingMs));
    if (shutdown.aborted) this.abort('shutdown');
    else shutdown.addEventListener('abort', this.onShutdown, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: AbortReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort(new Error(ABORT_MESSAGES[reason]));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.shutdown.removeEventListener('abort', this.onShutdown);
  }
}
