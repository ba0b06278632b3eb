/**
 * The human desk: tasks waiting for a person. The `human` solver posts a task here and waits for
 * its verdict; operators in the console take one task at a time, under a lease, and answer, skip
 * or mark it unreadable. In one process (SQLite, memory) the desk lives in memory; on Redis it is
 * shared, so that an operator on one node gets tasks submitted on another (redis/desk.ts).
 *
 * The desk holds no task state of its own: the runner's lease on the task stays with the process
 * whose solver posted it. If that process dies, the task's lease runs out, another process leases
 * it again and posts it again; an answer given meanwhile is lost, never wrongly delivered.
 */
import type { Solution, TaskSpec, TaskType } from '@solvebox/protocol';
import { Listeners } from './shared.js';

export interface DeskItem {
  readonly taskId: string;
  readonly spec: TaskSpec;
  readonly postedAt: number;
  readonly deadlineAt: number;
}

/** What an operator decided about a task. */
export type DeskVerdict =
  | { readonly kind: 'answer'; readonly operator: string; readonly solution: Solution }
  | { readonly kind: 'unreadable'; readonly operator: string };

export interface DeskCounts {
  /** Waiting for an operator, per type. */
  readonly waiting: Partial<Record<TaskType, number>>;
  /** Held by an operator now. */
  readonly leased: number;
}

export interface HumanDesk {
  /** Puts a task on the desk, or back on it (a retried attempt): any earlier copy is replaced. */
  post(item: DeskItem): Promise<void>;
  /** Takes a task off the desk (its deadline passed, the solver stopped). */
  withdraw(taskId: string): Promise<void>;
  /**
   * Leases the oldest task of these types that no one holds and `operator` was never offered, until
   * `now + leaseMs`. An operator holds one task at a time: a second take returns the one held.
   * Each task is offered to each operator once: one who skipped it, let its lease run out or went
   * away is not shown it again, so that it reaches someone else.
   */
  take(operator: string, types: readonly TaskType[], now: number, leaseMs: number): Promise<DeskItem | undefined>;
  /** The task `operator` holds at `now`, if any. */
  held(operator: string, now: number): Promise<DeskItem | undefined>;
  /** The holder's verdict: removes the task and reaches the waiting solver. False when `operator` does not hold it. */
  settle(taskId: string, verdict: DeskVerdict, now: number): Promise<boolean>;
  /** Hands a held task back for the other operators. */
  release(taskId: string, operator: string): Promise<boolean>;
  /** Calls `listener` with every verdict, from any process. Returns a function that removes it. */
  onVerdict(listener: (taskId: string, verdict: DeskVerdict) => void): () => void;
  /** Calls `listener` when tasks become available to take (posted, released, lease ran out). */
  onAvailable(listener: () => void): () => void;
  counts(now: number): Promise<DeskCounts>;
  /** Marks `operator` as online (the solve view open) until `until`; consoles renew it while connected. */
  present(operator: string, until: number): Promise<void>;
  /** Marks `operator` offline at once (the solve view closed). */
  absent(operator: string): Promise<void>;
  /** The operators online at `now`, on any node. */
  online(now: number): Promise<string[]>;
  close(): Promise<void>;
}

interface Held {
  readonly operator: string;
  readonly until: number;
}

/** The desk of a single process. */
export class LocalDesk implements HumanDesk {
  private readonly items = new Map<string, DeskItem>();
  private readonly holds = new Map<string, Held>();
  /** The operators each task was offered to. */
  private readonly offered = new Map<string, Set<string>>();
  private readonly presence = new Map<string, number>();
  private readonly verdictListeners = new Listeners<[taskId: string, verdict: DeskVerdict]>();
  private readonly availableListeners = new Listeners<[]>();
  private readonly expiry: NodeJS.Timeout;

  constructor(private readonly clock: () => number = Date.now) {
    // Leases that run out make their task available again; consoles hear of it within a second.
    this.expiry = setInterval(() => this.expireLeases(this.clock()), 1000);
    this.expiry.unref();
  }

  async post(item: DeskItem): Promise<void> {
    this.items.delete(item.taskId);
    this.holds.delete(item.taskId);
    this.items.set(item.taskId, item);
    this.announce();
  }

  async withdraw(taskId: string): Promise<void> {
    this.forget(taskId);
  }

  async take(operator: string, types: readonly TaskType[], now: number, leaseMs: number): Promise<DeskItem | undefined> {
    this.expireLeases(now);
    for (const [taskId, held] of this.holds) {
      if (held.operator === operator) return this.items.get(taskId);
    }
    // Map order is posting order: the oldest task first.
    for (const item of this.items.values()) {
      if (this.holds.has(item.taskId) || !types.includes(item.spec.type) || item.deadlineAt <= now) continue;
      if (this.offered.get(item.taskId)?.has(operator)) continue;
      this.holds.set(item.taskId, { operator, until: now + leaseMs });
      this.offered.set(item.taskId, (this.offered.get(item.taskId) ?? new Set()).add(operator));
      return item;
    }
    return undefined;
  }

  async held(operator: string, now: number): Promise<DeskItem | undefined> {
    for (const [taskId, held] of this.holds) {
      if (held.operator === operator && held.until > now) return this.items.get(taskId);
    }
    return undefined;
  }

  async settle(taskId: string, verdict: DeskVerdict, now: number): Promise<boolean> {
    const held = this.holds.get(taskId);
    if (!held || held.operator !== verdict.operator || held.until <= now) return false;
    this.forget(taskId);
    this.verdictListeners.emit(taskId, verdict);
    return true;
  }

  async release(taskId: string, operator: string): Promise<boolean> {
    if (this.holds.get(taskId)?.operator !== operator) return false;
    this.holds.delete(taskId);
    this.announce();
    return true;
  }

  onVerdict(listener: (taskId: string, verdict: DeskVerdict) => void): () => void {
    return this.verdictListeners.add(listener);
  }

  onAvailable(listener: () => void): () => void {
    return this.availableListeners.add(listener);
  }

  async counts(now: number): Promise<DeskCounts> {
    this.expireLeases(now);
    const waiting: Partial<Record<TaskType, number>> = {};
    for (const item of this.items.values()) {
      if (!this.holds.has(item.taskId)) waiting[item.spec.type] = (waiting[item.spec.type] ?? 0) + 1;
    }
    return { waiting, leased: this.holds.size };
  }

  async present(operator: string, until: number): Promise<void> {
    this.presence.set(operator, until);
  }

  async absent(operator: string): Promise<void> {
    this.presence.delete(operator);
  }

  async online(now: number): Promise<string[]> {
    return [...this.presence].filter(([, until]) => until > now).map(([operator]) => operator);
  }

  async close(): Promise<void> {
    clearInterval(this.expiry);
  }

  private forget(taskId: string): void {
    this.items.delete(taskId);
    this.holds.delete(taskId);
    this.offered.delete(taskId);
  }

  private expireLeases(now: number): void {
    let freed = false;
    for (const [taskId, held] of this.holds) {
      if (held.until <= now) {
        this.holds.delete(taskId);
        freed = true;
      }
    }
    if (freed) this.announce();
  }

  private announce(): void {
    this.availableListeners.emit();
  }
}
