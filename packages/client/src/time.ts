/**
 * Time for one call: a deadline on the monotonic clock (performance.now, immune to wall-clock
 * jumps), the caller's AbortSignal, and sleeps that end early on either.
 */
import { AbortError, TimeoutError, type ErrorContext } from './errors.js';

const now = (): number => performance.now();

export class Deadline {
  private readonly start = now();
  private readonly end: number;
  /** The last protocol answer seen, reported by a TimeoutError. */
  lastCode: string | undefined;
  taskId: string | undefined;

  constructor(
    timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.end = this.start + Math.max(0, timeoutMs);
  }

  get elapsedMs(): number {
    return Math.round(now() - this.start);
  }

  get remainingMs(): number {
    return Math.max(0, this.end - now());
  }

  context(extra: Partial<ErrorContext> = {}): ErrorContext {
    return { elapsedMs: this.elapsedMs, ...(this.taskId ? { taskId: this.taskId } : {}), ...extra };
  }

  /** Throws if the call was aborted or its time is up. */
  check(): void {
    if (this.signal?.aborted) throw new AbortError(this.context(), this.signal.reason);
    if (this.remainingMs <= 0) throw new TimeoutError(this.context(), this.lastCode);
  }

  /**
   * Waits `ms`, clipped to the deadline; rejects at once when aborted, and with a TimeoutError when
   * the deadline is reached before `ms` have passed. No wait ever overruns the deadline.
   */
  async sleep(ms: number): Promise<void> {
    this.check();
    const wait = Math.min(Math.max(0, ms), this.remainingMs);
    if (wait > 0) await abortableDelay(wait, this.signal).catch(() => undefined);
    this.check();
  }
}

/** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts. */
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
