/** `solvebox worker`: solve tasks from a Redis deployment's queue until SIGTERM or SIGINT. */
import { ConfigError, parseBackend, SOLVER_BACKENDS, type SolverBackend } from '@solvebox/server/config';
import { UsageError, type Command } from '../command.js';
import { configFrom, optionsHelp, parseServerArgs, reloadOnHangup, untilSignal } from '../server-options.js';

const USAGE = `usage: solvebox worker --redis URL [--solvers ocr,sandbox] [--concurrency N] [options]

Leases tasks that API nodes (solvebox serve --redis URL) admitted, solves them, and stores the
answers where every node reads them. Run as many as you like, on any machine; a worker killed
mid-task loses nothing: its lease runs out (--lease) and another worker takes the task.

--solvers takes either the backends this worker runs (a list: ocr,sandbox), each for the task
types routed to it by default (image=ocr, the rest sandbox), or full routing as type=backend pairs,
as for serve. Give every process of a deployment the same routing and timing options.

Options (the server's; those about HTTP do not apply):`;

export const workerCommand: Command = {
  async run(argv) {
    const { help, values } = parseServerArgs(argv);
    if (help) {
      process.stdout.write(`${[USAGE, ...optionsHelp()].join('\n')}\n`);
      return 0;
    }
    const { solvers, ...rest } = values;
    // A plain list names the backends to run; pairs are routing, as for serve.
    const only = solvers !== undefined && !solvers.includes('=') ? backendList(solvers) : undefined;
    const config = configFrom(solvers !== undefined && only === undefined ? { ...rest, solvers } : rest);
    if (config.storage !== 'redis') throw new UsageError('solvebox worker needs --redis URL (or SOLVEBOX_REDIS): the state it shares with the API nodes');
    const { createLogger, installLastResort, redactUrl, startWorker } = await import('@solvebox/server');
    const log = createLogger(config.logLevel);
    const worker = await startWorker(config, only ? { only, log } : { log });
    installLastResort(log);
    const stopped = untilSignal(() => worker.close());
    reloadOnHangup(worker.solving.ocr, log);
    process.stdout.write(`solving ${worker.solving.types.join(', ')} from ${redactUrl(config.redisUrl)}\n`);
    return stopped;
  },
};

function backendList(value: string): SolverBackend[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--solvers: name at least one backend');
  return names.map((name) => {
    try {
      return parseBackend('solvers', name);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new UsageError(`--solvers: unknown backend "${name}"; use ${SOLVER_BACKENDS.join(', ')}, relay:NAME, or type=backend pairs`);
    }
  });
}
