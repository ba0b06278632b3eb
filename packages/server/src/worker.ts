/**
 * `solvebox worker`: a process that only solves. It leases tasks from shared storage (Redis) that
 * API nodes admitted, renews its leases while it works, and writes the outcomes back; the nodes
 * answer res.php from the same storage. Any number of workers can run, on any machine.
 */
import { ConfigError, type ServerConfig, type SolverBackend } from './config.js';
import { createLogger } from './logger.js';
import { startSolving, startSweeper, type ProcessOptions, type Solving } from './solving/index.js';
import { createStorage } from './storage/index.js';
import { openRelay } from './solving/relay/index.js';
import type { Storage } from './storage/types.js';

export interface WorkerOptions extends ProcessOptions {
  /** Run only the task types routed to these backends; default all of them. */
  readonly only?: readonly SolverBackend[];
}

export interface RunningWorker {
  readonly solving: Solving;
  readonly storage: Storage;
  /** Stops leasing, puts the tasks in progress back in the queue, and disconnects. */
  close(): Promise<void>;
}

export async function startWorker(config: ServerConfig, options: WorkerOptions = {}): Promise<RunningWorker> {
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? Date.now;
  const storage = options.storage ?? (await createStorage(config));
  if (!storage.shared) {
    await storage.close();
    throw new ConfigError(`a worker needs storage it shares with the API nodes (--redis URL), not ${storage.kind}`);
  }
  // The shared desk: a worker's human solver posts tasks that operators on any API node take.
  const desk = storage.openDesk();
  let solving: Solving;
  try {
    const relay = options.backends?.relay ?? openRelay(config, storage, { log, clock });
    const backends = { ...options.backends, ...(relay ? { relay } : {}) };
    solving = await startSolving(config, storage, { ...options, backends, clock, log, desk });
    if (solving.types.length === 0) throw new ConfigError(`no task type is routed to ${options.only?.join(', ') ?? 'any backend'} (see --solvers)`);
  } catch (err) {
    await desk.close();
    await storage.close();
    throw err;
  }
  // Workers sweep too: leases of dead workers come back even while every API node is down.
  const stopSweeper = startSweeper(storage, config, clock, log);
  let closing: Promise<void> | undefined;
  return {
    solving,
    storage,
    close: () =>
      (closing ??= (async () => {
        stopSweeper();
        await solving.stop();
        await desk.close();
        await storage.close();
      })()),
  };
}
