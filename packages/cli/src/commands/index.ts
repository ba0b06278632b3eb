/** The command table; bin.ts dispatches on it and prints it as help. */
import { balanceCommand, reportCommand, resultCommand } from './account.js';
import { keysCommand } from './keys.js';
import { serveCommand } from './serve.js';
import { solveCommand } from './solve.js';
import { statsCommand } from './stats.js';
import { workerCommand } from './worker.js';

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  /** Returns the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Bad flags or arguments: exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const COMMANDS: readonly Command[] = [serveCommand, workerCommand, keysCommand, statsCommand, solveCommand, resultCommand, balanceCommand, reportCommand];
