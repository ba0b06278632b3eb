/**
 * Recent task views kept in memory, so that a poll for a cached task costs no database read.
 * Exact, not eventually right: an adapter that is the only writer of its tasks (SQLite: one server
 * process per database file) updates an entry in every method that changes a task; Redis drops an
 * entry as soon as Redis reports a change to the task (tracking.ts). Either way a cached view
 * equals what the database would answer; deadlines and result expiry are checked when an entry is
 * read, exactly as the database query checks them.
 */
import { BoundedMap } from '../bounded-map.js';
import type { TaskState, TaskView } from './types.js';

interface Entry {
  readonly accountId: number;
  readonly view: TaskView;
  readonly deadlineAt: number;
  /** When a finished task's result expires (it then reads as absent). */
  readonly expiresAt?: number;
}

/**
 * Enough for the tasks in flight on a busy node (about 6 MB with long token answers); older
 * entries are read from the database again. The sweep drops entries whose results expired.
 */
const DEFAULT_CAPACITY = 10_000;

export class TaskCache {
  private readonly entries: BoundedMap<string, Entry>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.entries = new BoundedMap(capacity);
  }

  /**
   * The view, when the cache can answer: undefined for unknown tasks, other accounts' tasks,
   * expired results and unfinished tasks past their deadline (the database words those).
   */
  peek(accountId: number, id: string, now: number): TaskView | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.accountId !== accountId) return undefined;
    const finished = entry.view.state === 'solved' || entry.view.state === 'failed';
    if ((finished && entry.expiresAt !== undefined && entry.expiresAt <= now) || (!finished && entry.deadlineAt <= now)) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.view;
  }

  remember(accountId: number, view: TaskView, deadlineAt: number, expiresAt?: number): void {
    this.entries.set(view.id, { accountId, view, deadlineAt, ...(expiresAt === undefined ? {} : { expiresAt }) });
  }

  /** An unfinished task moved between queued and active: its view changes only in `state`. */
  moved(id: string, state: Extract<TaskState, 'queued' | 'active'>): void {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.view.state !== state) {
      this.entries.set(id, { ...entry, view: { ...entry.view, state } });
    }
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
