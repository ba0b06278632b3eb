/**
 * The solving side of a process, shared by `solvebox serve` (which solves in-process unless told
 * otherwise) and `solvebox worker` (which only solves): the solver backends, the task runner that
 * leases tasks for them, and the sweeper that ends overdue tasks and requeues dead workers' leases.
 */
import { TASK_TYPES, type Solver, type TaskType } from '@solvebox/protocol';
import { ConfigError, type ServerConfig, type SolverBackend } from './config.js';
import type { Logger } from './logger.js';
import { deliverPingback } from './pingback.js';
import { TaskRunner } from './runner/runner.js';
import { NoSolver } from './solvers/none.js';
import { SandboxSolver } from './solvers/sandbox.js';
import type { Storage } from './storage/types.js';

/** What a server or worker process may be handed instead of what its configuration builds (tests, embedding). */
export interface ProcessOptions {
  /** Use this storage instead of the one the configuration names. */
  readonly storage?: Storage;
  /** Solver instances by backend name; the built-in backends are used for names not given here. */
  readonly backends?: Partial<Record<SolverBackend, Solver>>;
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface SolvingOptions extends Pick<ProcessOptions, 'backends'> {
  /** Run only the task types routed to these backends (a worker's `--solvers ocr,sandbox`); default all. */
  readonly only?: readonly SolverBackend[];
  readonly clock: () => number;
  readonly log: Logger;
}

export interface Solving {
  readonly runner: TaskRunner;
  /** The task types this process solves. */
  readonly types: readonly TaskType[];
  /** Stops leasing, puts the tasks in progress back in the queue, and closes the backends. */
  stop(): Promise<void>;
}

/**
 * The solvers of each task type, per the `solvers` and `fallbacks` configuration: the type's
 * solver, then its fallback unless that is `none`. `backends` supplies instances by name (the OCR
 * pool, which must be started first; test doubles); the sandbox and `none` are built on demand.
 */
function resolveRoutes(
  config: Pick<ServerConfig, 'solvers' | 'fallbacks'>,
  backends: SolvingOptions['backends'] = {},
  only: readonly SolverBackend[] = [],
): Map<TaskType, Solver[]> {
  const instances = new Map<SolverBackend, Solver>();
  const instance = (backend: SolverBackend): Solver => {
    let solver = instances.get(backend) ?? backends[backend];
    if (!solver && backend === 'ocr') throw new ConfigError('the ocr backend must be started before routes are resolved');
    solver ??= backend === 'sandbox' ? new SandboxSolver() : new NoSolver();
    instances.set(backend, solver);
    return solver;
  };
  const routes = new Map<TaskType, Solver[]>();
  for (const type of routedTypes(config, only)) {
    const chain = [instance(config.solvers[type])];
    if (config.fallbacks[type] !== 'none' && config.fallbacks[type] !== config.solvers[type]) chain.push(instance(config.fallbacks[type]));
    for (const solver of chain) {
      if (!solver.types.includes(type)) throw new ConfigError(`solver "${solver.name}" does not handle ${type} tasks`);
    }
    routes.set(type, chain);
  }
  return routes;
}

/** The task types routed to one of `only`'s backends (all types when `only` is empty). */
function routedTypes(config: Pick<ServerConfig, 'solvers'>, only: readonly SolverBackend[]): TaskType[] {
  return TASK_TYPES.filter((type) => only.length === 0 || only.includes(config.solvers[type]));
}

/** The backends the routes use that need starting: the OCR worker pool. */
async function startBackends(config: ServerConfig, options: SolvingOptions): Promise<SolvingOptions['backends']> {
  const given = options.backends ?? {};
  const only = options.only ?? [];
  const used = new Set<SolverBackend>();
  for (const type of routedTypes(config, only)) {
    used.add(config.solvers[type]).add(config.fallbacks[type]);
  }
  if (!used.has('ocr') || given.ocr) return given;
  // Loaded only here: onnxruntime and sharp stay out of processes whose routes name no ocr (an
  // API-only node, a sandbox-only server).
  const { OcrSolver } = await import('@solvebox/ocr');
  const ocr = await OcrSolver.start({
    ...(config.ocrWorkers > 0 ? { size: config.ocrWorkers } : {}),
    minConfidence: config.ocrMinConfidence,
    secondLookBelow: config.ocrSecondLook,
  });
  return { ...given, ocr };
}

export async function startSolving(config: ServerConfig, storage: Storage, options: SolvingOptions): Promise<Solving> {
  const { clock, log } = options;
  const backends = await startBackends(config, options);
  let routes: Map<TaskType, Solver[]>;
  try {
    routes = resolveRoutes(config, backends, options.only);
  } catch (err) {
    if (backends?.ocr !== options.backends?.ocr) await backends?.ocr?.close?.();
    throw err;
  }
  const runner = new TaskRunner(
    {
      storage,
      clock,
      log,
      routes,
      priceMicros: (type) => config.pricesMicros[type],
      onSettled: (task, settlement) => {
        if (config.pingback && task.pingback) {
          const url = task.pingback;
          void (async () => {
            const account = await storage.findAccount({ id: task.accountId }).catch(() => undefined);
            await deliverPingback(url, task.id, settlement, account?.keyHash ?? '', { log, allowPrivate: config.pingbackPrivate });
          })().catch((err: unknown) => log.warn({ taskId: task.id, err: (err as Error).message }, 'pingback failed'));
        }
      },
    },
    {
      maxAttempts: config.solverAttempts,
      retryDelayMs: config.solverRetryDelayMs,
      circuitFailures: config.circuitFailures,
      circuitCooldownMs: config.circuitCooldownMs,
      resultTtlMs: config.resultTtlMs,
      badProxyTtlMs: config.badProxyTtlMs,
      badPairTtlMs: config.badPairTtlMs,
      leaseMs: config.leaseMs,
      concurrency: config.concurrency,
    },
  );
  // On shared storage, tasks queued by other processes wake this one at once.
  const unwatch = storage.watchQueue?.((type) => runner.notify(type));
  runner.start();
  return {
    runner,
    types: [...routes.keys()],
    stop: async () => {
      unwatch?.();
      await runner.stop();
    },
  };
}

/** Runs the sweep every `sweepIntervalMs`; returns the function that stops it. */
export function startSweeper(
  storage: Storage,
  config: Pick<ServerConfig, 'sweepIntervalMs' | 'resultTtlMs' | 'banWindowMs'>,
  clock: () => number,
  log: Logger,
): () => void {
  const sweep = async (): Promise<void> => {
    try {
      const { stalled } = await storage.sweep(clock(), { resultTtlMs: config.resultTtlMs, banWindowMs: config.banWindowMs });
      if (stalled > 0) log.warn({ stalled }, 'requeued tasks whose lease ran out (their worker died or stalled)');
    } catch (err) {
      log.error({ err }, 'sweep failed');
    }
  };
  const timer = setInterval(() => void sweep(), config.sweepIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
