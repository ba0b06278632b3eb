/**
 * The composition root: configuration → storage → solvers and runner → HTTP app → listening
 * server, and the orderly shutdown of all of them.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { ServerConfig } from './config.js';
import { Gatekeeper } from './gatekeeper.js';
import { createLogger } from './logger.js';
import { REMOTE_SOLVERS, type Services } from './services.js';
import { startSolving, startSweeper, type ProcessOptions, type Solving } from './solving/index.js';
import { createStorage } from './storage/index.js';
import { TaskWaiters } from './waiters.js';
import { RequestLimits } from './request-limits.js';
import { Metrics, timedStorage } from './metrics.js';
import { startConsole, type RunningConsole } from './console/index.js';
import { HUMAN_TYPES } from './solving/solvers/human.js';
import { openRelay } from './solving/relay/index.js';
import type { Relay } from './solving/relay/relay.js';

export type StartOptions = ProcessOptions;

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** The console's `http://host:port`, when it is on (`--console`). */
  readonly consoleUrl?: string;
  readonly services: Services;
  readonly app: FastifyInstance;
  /** Stops accepting requests, returns in-flight tasks to the queue, and closes storage. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  const stored = options.storage ?? (await createStorage(config));
  // One desk per process: the human solver posts to it, the console's operators take from it.
  const desk = stored.openDesk();
  const metrics = config.console ? new Metrics(stored, desk, clock) : undefined;
  const storage = metrics ? timedStorage(stored, metrics) : stored;
  let solving: Solving | undefined;
  let relay: Relay | undefined;
  try {
    // Built even on an API-only node: it forwards clients' reports to the upstream that answered.
    relay = options.backends?.relay ?? openRelay(config, storage, { log, clock, ...(metrics ? { metrics } : {}) });
    // Alone on its storage, this process knows that every lease is its dead predecessor's. On shared
    // storage other workers may be alive: there the sweep requeues leases that ran out instead.
    if (!storage.shared) {
      const recovered = await storage.recoverInFlight();
      if (recovered > 0) log.warn({ recovered }, 'requeued tasks that were being solved when the server stopped');
    }
    const backends = { ...options.backends, ...(relay ? { relay } : {}) };
    if (config.runSolvers) solving = await startSolving(config, storage, { ...options, backends, clock, log, desk, ...(metrics ? { metrics } : {}) });
  } catch (err) {
    await desk.close();
    await storage.close();
    throw err;
  }
  const services: Services = {
    config,
    storage,
    gate: new Gatekeeper(storage, config, clock),
    dispatch: solving?.runner ?? REMOTE_SOLVERS,
    solverTypes: solving?.types ?? [],
    clock,
    log,
    waiters: new TaskWaiters(storage),
    ...(config.dialect === '2captcha' ? { limits: new RequestLimits() } : {}),
    ...(metrics ? { metrics } : {}),
    ...(solving?.ocr ? { ocr: solving.ocr } : {}),
    ...(relay ? { relay } : {}),
  };
  if (metrics) services.gate.onBan = () => metrics.banImposed();
  const app = buildApp(services);
  const stopSweeper = startSweeper(storage, config, clock, log);

  let address: string;
  let consoleServer: RunningConsole | undefined;
  try {
    address = await app.listen({ host: config.host, port: config.port });
    if (metrics) consoleServer = await startConsole(services, desk, metrics, HUMAN_TYPES);
  } catch (err) {
    stopSweeper();
    services.waiters.close();
    await app.close();
    await solving?.stop();
    await desk.close();
    await storage.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    url: address,
    ...(consoleServer ? { consoleUrl: consoleServer.url } : {}),
    services,
    app,
    close: () =>
      (closing ??= (async () => {
        stopSweeper();
        // Long-polls answer now rather than holding the shutdown for up to their wait.
        services.waiters.close();
        await consoleServer?.close();
        await app.close();
        await solving?.stop();
        await desk.close();
        await storage.close();
      })()),
  };
}
