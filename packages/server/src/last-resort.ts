/**
 * The process-wide last line of defence of a server or worker process: a fault that escapes every
 * handler (an emitter without an `error` listener, a promise nobody awaits) is logged and the
 * process keeps serving. Every request path answers its own faults; this exists so that a fault
 * missed there costs one request, not every client's service. Installed by the CLI, which owns the
 * process; an embedder decides for its own process.
 */
import type { Logger } from './logger.js';

/** Installs the handlers; the returned function removes them. */
export function installLastResort(log: Logger): () => void {
  const onException = (err: Error): void => {
    log.error({ err }, 'uncaught exception; the process keeps serving');
  };
  const onRejection = (reason: unknown): void => {
    log.error({ err: reason }, 'unhandled promise rejection; the process keeps serving');
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
