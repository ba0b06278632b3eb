/**
 * Logging: pino, JSON lines on stderr (stdout carries the CLI's own output). Nothing logs request
 * parameters, so API keys never reach the log.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import type { ServerConfig } from './config.js';

export type Logger = Pick<PinoLogger, 'error' | 'warn' | 'info' | 'debug'>;

export function createLogger(level: ServerConfig['logLevel']): PinoLogger {
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}
