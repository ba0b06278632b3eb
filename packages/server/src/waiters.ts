/**
 * Long-poll waiters: requests holding for a task to end (`res.php?action=get&wait=N`). Storage
 * reports every finished task (onTaskFinished: in this process, or on any node through Redis
 * pub/sub), and the waiters of that id are woken at once. No timer loop polls storage.
 */
import type { TaskQueue } from './storage/types.js';

/** Beyond this many waiting requests a node answers at once, as a plain `get` would. */
const MAX_WAITERS = 10_000;

export interface Waiter {
  /** Resolves when the task ends, `ms` pass or `signal` aborts, whichever comes first. */
  until(ms: number, signal: AbortSignal): Promise<void>;
  /** Stops listening (safe to call again, and after `until` resolved). */
  cancel(): void;
}

export class TaskWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();
  private count = 0;
  private readonly unsubscribe: () => void;

  constructor(storage: Pick<TaskQueue, 'onTaskFinished'>) {
    this.unsubscribe = storage.onTaskFinished((id) => this.wake(id));
  }

  /**
   * Starts listening for the task's end. Call it before reading the task, so that an end between
   * the read and the wait is not missed. Undefined when too many requests wait already.
   */
  register(id: string): Waiter | undefined {
    if (this.count >= MAX_WAITERS) return undefined;
    let woken = false;
    let notify: (() => void) | undefined;
    const onFinished = (): void => {
      woken = true;
      notify?.();
    };
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(onFinished);
    this.count++;
    const remove = (): void => {
      if (!set.delete(onFinished)) return;
      this.count--;
      if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
    };
    return {
      cancel: remove,
      until: (ms, signal) =>
        new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            remove();
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal.addEventListener('abort', done);
          notify = done;
          if (woken || signal.aborted) done();
        }),
    };
  }

  /** Requests waiting now; for tests and health. */
  get size(): number {
    return this.count;
  }

  close(): void {
    this.unsubscribe();
    for (const set of this.waiting.values()) for (const wake of set) wake();
  }

  private wake(id: string): void {
    const set = this.waiting.get(id);
    if (set) for (const wake of [...set]) wake();
  }
}
