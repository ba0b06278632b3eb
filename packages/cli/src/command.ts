/**
 * What every command is, and the error of a command misused. Apart from the command table
 * (commands/index.ts), so that commands, which import these, and the table, which imports the
 * commands, form no cycle.
 */
/** What a command module exports: the code that runs the command. */
export interface Command {
  /** Returns the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** A line of the command table: what the command is called and does, and how to load it. */
export interface CommandEntry {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** Bad flags or arguments: exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
