/**
 * The composition root: configuration → storage → solvers and runner → HTTP app → listening
 * server, and the orderly shutdown of all of them.
 */
import { OcrSolver } from '@solvebox/ocr';
import { TASK_TYPES, type Solver, type TaskType } from '@solvebox/protocol';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, type ServerConfig, type SolverBackend } from './config.js';
import { Gatekeeper } from './gatekeeper.js';
import { createLogger, type Logger } from './logger.js';
import { deliverPingback } from './pingback.js';
import { TaskRunner } from './runner/runner.js';
import type { Services } from './services.js';
import { NoSolver } from './solvers/none.js';
import { SandboxSolver } from './solvers/sandbox.js';
import { createStorage } from './storage/index.js';
import type { Storage } from './storage/types.js';

export interface StartOptions {
  /** Use this storage instead of the one the configuration names (tests, embedding). */
  readonly storage?: Storage;
  /** Solver instances by backend name; the built-in backends are used for names not given here. */
  readonly backends?: Partial<Record<SolverBackend, Solver>>;
  readonly clock?: () => number;
  readonly log?: Logger;
  /** Used for pingbacks. */
  readonly fetch?: typeof fetch;
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly services: Services;
  readonly app: FastifyInstance;
  /** Stops accepting requests, returns in-flight tasks to the queue, and closes storage. */
  close(): Promise<void>;
}

/**
 * The solvers of each task type, per the `solvers` and `fallbacks` configuration: the type's
 * solver, then its fallback unless that is `none`. `backends` supplies instances by name (the OCR
 * pool, which must be started first; test doubles); the sandbox and `none` are built on demand.
 */
export function resolveRoutes(
  config: Pick<ServerConfig, 'solvers' | 'fallbacks'>,
  backends: StartOptions['backends'] = {},
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
  for (const type of TASK_TYPES) {
    const chain = [instance(config.solvers[type])];
    if (config.fallbacks[type] !== 'none' && config.fallbacks[type] !== config.solvers[type]) chain.push(instance(config.fallbacks[type]));
    for (const solver of chain) {
      if (!solver.types.includes(type)) throw new ConfigError(`solver "${solver.name}" does not handle ${type} tasks`);
    }
    routes.set(type, chain);
  }
  return routes;
}

/** The backends a configuration uses that need starting: the OCR worker pool. */
async function startBackends(config: ServerConfig, given: StartOptions['backends'] = {}): Promise<StartOptions['backends']> {
  const used = new Set<SolverBackend>([...Object.values(config.solvers), ...Object.values(config.fallbacks)]);
  if (!used.has('ocr') || given.ocr) return given;
  const ocr = await OcrSolver.start({
    ...(config.ocrWorkers > 0 ? { size: config.ocrWorkers } : {}),
    minConfidence: config.ocrMinConfidence,
    secondLookBelow: config.ocrSecondLook,
  });
  return { ...given, ocr };
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  const storage = options.storage ?? createStorage(config);
  const recovered = await storage.recoverInFlight();
  if (recovered > 0) log.warn({ recovered }, 'requeued tasks that were being solved when the server stopped');

  let routes: Map<TaskType, Solver[]>;
  try {
    const backends = await startBackends(config, options.backends);
    try {
      routes = resolveRoutes(config, backends);
    } catch (err) {
      if (backends?.ocr !== options.backends?.ocr) await backends?.ocr?.close?.();
      throw err;
    }
  } catch (err) {
    await storage.close();
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
          void deliverPingback(task.pingback, task.id, settlement, { log, ...(options.fetch ? { fetch: options.fetch } : {}) });
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
    },
  );
  const services: Services = { config, storage, gate: new Gatekeeper(storage, config, clock), runner, clock, log };
  const app = buildApp(services);

  const sweep = async (): Promise<void> => {
    try {
      await storage.sweep(clock(), { resultTtlMs: config.resultTtlMs, banWindowMs: config.banWindowMs });
    } catch (err) {
      log.error({ err }, 'sweep failed');
    }
  };
  const sweeper = setInterval(() => void sweep(), config.sweepIntervalMs);
  sweeper.unref();

  runner.start();
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    clearInterval(sweeper);
    await runner.stop();
    await storage.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    url: address,
    services,
    app,
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweeper);
        await app.close();
        await runner.stop();
        await storage.close();
      })()),
  };
}
