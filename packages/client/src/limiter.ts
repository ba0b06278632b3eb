/**
 * Keeps the number of this client's unfinished tasks at or below the account's threads, so that
 * `Promise.all` over hundreds of solves does not turn into a storm of ERROR_ZERO_BALANCE.
 *
 * With a fixed `concurrency` the limit is that number. With `auto` the limit is learned: it starts
 * at 1 and grows by one with each accepted submit (slow start) until the service answers
 * ERROR_ZERO_BALANCE; the limit then becomes the number of tasks this client holds at that moment,
 * which is the account's thread count when no one else uses the key.
 */
import { AbortError, TimeoutError } from './errors.js';
import type { Deadline } from './time.js';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class TaskLimiter {
  private limit: number;
  private learned = false;
  /** Slots handed out: solves between acquire and release. */
  private active = 0;
  /** Tasks the service accepted and this client has not seen end: each holds a server thread. */
  private holding = 0;
  private readonly queue: Waiter[] = [];
  private readonly releaseListeners = new Set<() => void>();

  constructor(private readonly mode: number | 'auto') {
    this.limit = mode === 'auto' ? 1 : Math.max(1, mode);
  }

  get currentLimit(): number {
    return this.limit;
  }

  /** Waits for a slot; the returned function gives it back. */
  async acquire(deadline: Deadline): Promise<() => void> {
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.queue.push(waiter);
      const timer = setTimeout(() => this.drop(waiter, new TimeoutError(deadline.context(), deadline.lastCode)), deadline.remainingMs);
      const onAbort = (): void => this.drop(waiter, new AbortError(deadline.context(), deadline.signal?.reason));
      deadline.signal?.addEventListener('abort', onAbort, { once: true });
      waiter.resolve = () => {
        clearTimeout(timer);
        deadline.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      waiter.reject = (err) => {
        clearTimeout(timer);
        deadline.signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
    });
    return this.releaser();
  }

  /** The service accepted a task of this client: it holds a thread until `taskEnded`. */
  taskAccepted(): void {
    this.holding++;
    if (this.mode === 'auto' && !this.learned) this.limit++;
    this.pump();
  }

  taskEnded(): void {
    this.holding = Math.max(0, this.holding - 1);
    for (const listener of [...this.releaseListeners]) listener();
  }

  /** ERROR_ZERO_BALANCE: in auto mode, the threads in use now are all there are. */
  noFreeThread(): void {
    if (this.mode !== 'auto') return;
    this.learned = true;
    this.limit = Math.max(1, this.holding);
  }

  /** Resolves when one of this client's tasks ends (a thread frees), or after `ms`. */
  waitForTaskEnd(ms: number, deadline: Deadline): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.releaseListeners.delete(done);
        deadline.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.releaseListeners.delete(done);
        reject(new AbortError(deadline.context(), deadline.signal?.reason));
      };
      const timer = setTimeout(done, Math.min(ms, deadline.remainingMs));
      this.releaseListeners.add(done);
      if (deadline.signal?.aborted) onAbort();
      else deadline.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.active < this.limit && this.queue.length > 0) {
      this.active++;
      this.queue.shift()!.resolve();
    }
  }

  private drop(waiter: Waiter, err: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index >= 0) this.queue.splice(index, 1);
    waiter.reject(err);
  }
}
