/** The sweeper: fails overdue tasks, requeues stalled leases, deletes what expired, on a timer. */
import type { ServerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/types.js';

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
