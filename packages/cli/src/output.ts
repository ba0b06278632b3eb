/**
 * What client commands print: the answer on stdout (or JSON with --json), errors with the
 * catalog's fix, and live progress on stderr when it is a terminal.
 */
import { SolveboxError, type ProgressEvent } from '@solvebox/client';
import { EXIT, EXIT_BY_ERROR_KIND } from './exit-codes.js';

export function printAnswer(answer: unknown, json: boolean, details: Record<string, unknown> = {}): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...details, answer })}\n`);
    return;
  }
  // Lists of numbers (BLS, grid cells) as `[1, 4, 7]`, as CaptchaAI writes them; anything else structured as JSON.
  if (Array.isArray(answer) && answer.every((a) => typeof a === 'number')) process.stdout.write(`[${answer.join(', ')}]\n`);
  else process.stdout.write(`${typeof answer === 'string' ? answer : JSON.stringify(answer)}\n`);
}

/** Prints an error and returns the exit code for it. */
export function reportError(err: unknown, json: boolean): number {
  if (!(err instanceof SolveboxError)) throw err;
  if (json) {
    const { code, kind, endpoint, taskId, fix, elapsedMs, errorText } = err;
    process.stdout.write(`${JSON.stringify({ error: { code, kind, endpoint, taskId, message: errorText ?? fix, fix, elapsedMs } })}\n`);
  } else {
    process.stderr.write(`error: ${err.message}\nfix: ${err.fix}\n`);
  }
  return EXIT_BY_ERROR_KIND[err.kind] ?? EXIT.failure;
}

/** A one-line status on a terminal's stderr, rewritten in place; silent when stderr is not a TTY. */
export class Progress {
  private readonly enabled: boolean;
  private shown = false;

  constructor(quiet: boolean) {
    this.enabled = !quiet && process.stderr.isTTY === true;
  }

  readonly onEvent = (event: ProgressEvent): void => {
    if (!this.enabled) return;
    const seconds = (event.elapsedMs / 1000).toFixed(1);
    const text = ((): string => {
      switch (event.phase) {
        case 'submitting':
          return 'submitting';
        case 'submitted':
          return `task ${event.taskId} accepted`;
        case 'waiting-for-thread':
          return 'all threads busy, waiting for one';
        case 'retrying':
          return `${event.code}, retrying in ${(event.delayMs / 1000).toFixed(1)} s`;
        case 'polling':
          return `task ${event.taskId} not ready, ${event.polls} poll${event.polls === 1 ? '' : 's'}`;
        case 'resubmitting':
          return `task ${event.failedTaskId} unsolvable, submitting a new one`;
      }
    })();
    process.stderr.write(`\r\x1b[2K${text} (${seconds} s)`);
    this.shown = true;
  };

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
  }
}

/** Aborts on the first SIGINT, so that a solve stops polling at once and exits with 130. */
export function abortOnInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSignal) };
}

/** Prints rows as left-aligned columns under a header. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}
