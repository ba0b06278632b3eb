/**
 * The solving side of a process, shared by `solvebox serve` (which solves in-process unless told
 * otherwise) and `solvebox worker` (which only solves): the solver backends, the task runner that
 * leases tasks for them, and the sweeper that ends overdue tasks and requeues dead workers' leases.
 */
import type { Solver, TaskType } from '@solvebox/protocol';
import type { ServerConfig, SolverBackend } from '../config.js';
import type { Logger } from '../logger.js';
import { deliverPingback } from './pingback.js';
import { TaskRunner, type RunnerObserver } from './runner.js';
import { type Backends, type OcrControl, ocrControl, resolveChains, startBackends } from './chains.js';
import type { HumanDesk, Storage } from '../storage/types.js';
import type { Metrics } from '../metrics.js';
import { keepOperatorAnswer } from '../samples.js';
import { OPERATOR_PREFIX } from './solvers/human.js';

/** What a server or worker process may be handed instead of what its configuration builds (tests, embedding). */
export interface ProcessOptions {
  /** Use this storage instead of the one the configuration names. */
  readonly storage?: Storage;
  /** Solver instances by backend name; the built-in backends are used for names not given here. */
  readonly backends?: Backends;
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface SolvingOptions extends Pick<ProcessOptions, 'backends'> {
  /** Where the human solver posts tasks for operators (the storage's desk); needed when a route names `human`. */
  readonly desk?: HumanDesk;
  /** Told of every settlement, decline and OCR confidence, for /metrics and the dashboard. */
  readonly metrics?: Metrics;
  /** Run only the task types routed to these backends (a worker's `--solvers ocr,sandbox`); default all. */
  readonly only?: readonly SolverBackend[];
  readonly clock: () => number;
  readonly log: Logger;
}

export interface Solving {
  readonly runner: TaskRunner;
  /** The OCR backend's controls, when this process runs it. */
  readonly ocr?: OcrControl;
  /** The task types this process solves. */
  readonly types: readonly TaskType[];
  /** Stops leasing, puts the tasks in progress back in the queue, and closes the backends. */
  stop(): Promise<void>;
}

export async function startSolving(config: ServerConfig, storage: Storage, options: SolvingOptions): Promise<Solving> {
  const { clock, log } = options;
  const backends = await startBackends(config, options.backends, options.only, options.desk, clock);
  let chains: Map<TaskType, Solver[]>;
  try {
    chains = resolveChains(config, backends, options.only);
  } catch (err) {
    if (backends?.ocr !== options.backends?.ocr) await backends?.ocr?.close?.();
    throw err;
  }
  const samples = { storage, keep: config.samplesKeep, clock, log };
  const runner = new TaskRunner(
    {
      storage,
      clock,
      log,
      chains,
      priceMicros: (type) => config.pricesMicros[type],
      ...(options.metrics ? { observer: metricsObserver(options.metrics, clock) } : {}),
      onSettled: (task, settlement) => {
        if (settlement.outcome === 'solved' && settlement.by.startsWith(OPERATOR_PREFIX)) {
          void keepOperatorAnswer(samples, task.id, task.spec, settlement.solution, settlement.by);
        }
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
  const ocr = ocrControl(backends.ocr);
  return {
    runner,
    ...(ocr ? { ocr } : {}),
    types: [...chains.keys()],
    stop: async () => {
      unwatch?.();
      await runner.stop();
    },
  };
}

function metricsObserver(metrics: Metrics, clock: () => number): RunnerObserver {
  return {
    settled: (type, backend, outcome, seconds) => metrics.taskSettled(type, backend, outcome, seconds, clock()),
    declined: (type, backend) => metrics.declined(type, backend, clock()),
    confidence: (backend, p) => {
      if (backend === 'ocr') metrics.ocrConfidence(p);
    },
  };
}

export { startSweeper } from './sweeper.js';
