/**
 * The storage contract, in domain verbs. Every method is one atomic state change (one SQLite
 * transaction, later one Redis script), takes `now` from the caller so that adapters and tests
 * agree on time, and reports domain outcomes as values, not exceptions. Infrastructure faults
 * surface as StorageError, which the HTTP layer answers with ERROR_SERVER_ERROR.
 */
import type { ImageHints, Proxy, Solution, TaskSpec, TaskType } from '@solvebox/protocol';
import type { HumanDesk } from './desk.js';

export interface Account {
  readonly id: number;
  /** The first characters of the key, for humans; the key itself is stored only as a hash. */
  readonly keyHint: string;
  /**
   * The SHA-256 of the key, as stored; also the secret its pingbacks are signed with (the account
   * computes it from its key). Empty for Redis accounts created before it was stored.
   */
  readonly keyHash: string;
  readonly threads: number;
  readonly balanceMicros: number;
  readonly proxiesAllowed: boolean;
  readonly disabled: boolean;
  readonly createdAt: number;
}

export interface NewAccount {
  readonly keyHash: string;
  readonly keyHint: string;
  readonly threads: number;
  readonly balanceMicros: number;
  readonly proxiesAllowed: boolean;
  readonly createdAt: number;
}

export interface NewTask {
  readonly id: string;
  readonly accountId: number;
  readonly spec: TaskSpec;
  readonly proxy?: Proxy;
  readonly pingback?: string;
  readonly softId?: number;
  /** Unique per account while the task is kept: a second admission with it replays the first. */
  readonly idempotencyKey?: string;
  readonly createdAt: number;
  readonly deadlineAt: number;
}

export type TaskState = 'queued' | 'active' | 'solved' | 'failed';

/** What res.php needs to know about a task. */
export interface TaskView {
  readonly id: string;
  readonly type: TaskType;
  readonly state: TaskState;
  readonly solution?: Solution;
  readonly errorCode?: string;
  readonly priceMicros?: number;
  /** When the task was accepted (epoch ms). */
  readonly createdAt?: number;
  /** Solver attempts so far. */
  readonly attempts?: number;
  /** When a finished task stops being readable (epoch ms): the result TTL after it finished. */
  readonly expiresAt?: number;
}

/** A task handed to one worker; `leaseId` proves ownership when the outcome is written. */
export interface LeasedTask {
  readonly id: string;
  readonly leaseId: string;
  readonly accountId: number;
  readonly spec: TaskSpec;
  readonly proxy?: Proxy;
  readonly pingback?: string;
  /** 1 on the first lease; counts every lease, including ones interrupted by a crash. */
  readonly attempt: number;
  readonly deadlineAt: number;
}

export interface LeaseRef {
  readonly id: string;
  readonly leaseId: string;
}

/** What a solver did, counted since the database was created. */
export interface SolverStats {
  readonly solver: string;
  readonly solved: number;
  /** Tasks that ended with an error code while this solver had them (unsolvable, declined, bad image). */
  readonly failed: number;
  /** Tasks this solver declined (its reading doubtful): handed to the fallback solver, or ended unsolvable (then also failed). */
  readonly declined: number;
  readonly reportedGood: number;
  readonly reportedBad: number;
  /** What the tasks it solved were charged, in millionths: the configured prices, or an upstream's own for `relay:NAME`. */
  readonly chargedMicros: number;
}

export interface BanPolicy {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly banMs: number;
}

export type AdmitOutcome =
  | { readonly kind: 'admitted' }
  /** The account already has a task with this idempotency key: nothing was stored. */
  | { readonly kind: 'replayed'; readonly id: string }
  | { readonly kind: 'no-free-thread' }
  | { readonly kind: 'duplicate-id' };
export type FailOutcome = 'failed' | 'requeued' | 'lease-lost';
export type ReportOutcome = 'recorded' | 'duplicate' | 'not-solved' | 'not-found';
export type { Mark, MarkKind } from './marks.js';
export type { DeskItem, DeskVerdict, DeskCounts, HumanDesk } from './desk.js';
import type { Mark } from './marks.js';

export interface SweepPolicy {
  readonly resultTtlMs: number;
  readonly banWindowMs: number;
}

export interface SweepResult {
  /** Unfinished tasks that passed their deadline and now read ERROR_CAPTCHA_UNSOLVABLE. */
  readonly overdue: number;
  /** Finished tasks deleted because their result expired. */
  readonly expired: number;
  /** Active tasks whose lease ran out (their worker died or stalled), put back in the queue. */
  readonly stalled: number;
}

/** What a solver's answer is stored with. */
export interface Completion {
  readonly solution: Solution;
  /** Debited from the account. */
  readonly priceMicros: number;
  /** When the result stops being readable. */
  readonly expiresAt: number;
  /** The solver that answered, for the statistics. */
  readonly solver: string;
}

/** Accounts: what authentication and the admin commands need. */
export interface AccountStore {
  createAccount(account: NewAccount): Promise<Account>;
  /** By account id or by key hash. */
  findAccount(ref: { id: number } | { keyHash: string }): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  setAccountDisabled(accountId: number, disabled: boolean): Promise<boolean>;
}

/** Reports of changes made by any process to what a watcher caches (watchBans). */
export interface ChangeWatcher {
  /**
   * false while changes may go unreported (a connection is down); true once they are reported
   * again, from which moment nothing learnt before may be trusted.
   */
  live(live: boolean): void;
  /** The entry `name` changed (for bans: the IP's ban was made, lifted or expired). */
  changed(name: string): void;
}

/** Guards: IP bans, and the marks that make in.php refuse a bad proxy or sitekey/pageurl pair. */
export interface Guards {
  /** When the IP's ban ends, if it is banned at `now`. */
  banExpiry(ip: string, now: number): Promise<number | undefined>;
  /** Counts one failed authentication; returns the ban's end when this failure triggered a ban. */
  recordAuthFailure(ip: string, now: number, policy: BanPolicy): Promise<number | undefined>;
  /**
   * Shared storage only: reports every change to a ban, whichever process made it, so that bans
   * can be cached there too (Redis: server-assisted client-side caching). Returns a function that
   * stops watching.
   */
  watchBans?(watcher: ChangeWatcher): () => void;
  /** Remembers that a proxy endpoint or a sitekey/pageurl pair failed, until `until`. */
  markBad(mark: Mark, until: number, now: number): Promise<void>;
  isMarkedBad(mark: Mark, now: number): Promise<boolean>;
}

/** Tasks from admission to their end: what in.php, res.php, the runner and the sweeper need. */
export interface TaskQueue {
  /**
   * A fresh task id for admitTask: 16 digits, unguessable, never one a live task has. SQLite makes
   * it from a sequence (its tasks are stored in order), Redis and memory at random.
   */
  newTaskId(): string;
  /**
   * Stores a queued task if the account has a free thread: fewer than `threads` of its tasks are
   * queued or active with their deadline still ahead. A thread is held until the task ends. A task
   * whose idempotency key the account already used is not stored; the first task's id is returned,
   * even when all threads are busy (the first task holds one of them).
   */
  admitTask(task: NewTask, threads: number, now: number): Promise<AdmitOutcome>;
  /**
   * The account's tasks among `ids`; others' and expired ones are absent. An unfinished task past
   * its deadline reads as failed with ERROR_CAPTCHA_UNSOLVABLE even before the sweeper writes it.
   */
  getTasks(accountId: number, ids: readonly string[], now: number): Promise<Map<string, TaskView>>;
  /**
   * Takes the oldest queued task of these types that is due and not overdue, and marks it active
   * for `leaseMs`. A lease that is not renewed in time runs out, and the sweep puts its task back
   * in the queue (its worker died); the attempt still counts.
   */
  leaseTask(types: readonly TaskType[], now: number, leaseMs: number): Promise<LeasedTask | undefined>;
  /** Extends a lease to `now + leaseMs`; false when it was lost (ran out and was requeued, or the task ended). */
  renewLease(lease: LeaseRef, now: number, leaseMs: number): Promise<boolean>;
  /**
   * Stores the answer, debits the price and counts the task as solved by its solver; false when
   * the lease was lost (the task ended meanwhile).
   */
  completeTask(lease: LeaseRef, completion: Completion, now: number): Promise<boolean>;
  /**
   * Ends the task with `code` (counted as a failure of `solver`, when one is named), or, with
   * `retryAt`, puts it back in the queue until then.
   */
  failTask(lease: LeaseRef, outcome: { code: string; expiresAt: number; solver?: string } | { retryAt: number }, now: number): Promise<FailOutcome>;
  /** Puts a leased task back in the queue without counting the attempt (graceful shutdown). */
  releaseTask(lease: LeaseRef): Promise<void>;
  /**
   * Requeues every active task; for startup after a crash, when no other process can hold leases
   * (never on shared storage, where other workers do: there the sweep requeues leases that ran out).
   */
  recoverInFlight(): Promise<number>;
  /**
   * Fails overdue tasks, requeues tasks whose lease ran out, deletes expired results, old
   * authentication failures, bans and marks. Safe to run from several processes at once.
   */
  sweep(now: number, policy: SweepPolicy): Promise<SweepResult>;
  /**
   * Shared storage only: calls `onQueued(type)` when any process queues a task of that type, so
   * that idle workers start at once rather than at their next poll. Returns a function that stops it.
   */
  watchQueue?(onQueued: (type: TaskType) => void): () => void;
  /**
   * The task's view when this process can give it without I/O (adapters that are the only writer
   * of their tasks cache them), else undefined. Same answer as getTasks when defined.
   */
  peekTask?(accountId: number, id: string, now: number): TaskView | undefined;
  /**
   * Calls `listener(id)` after a task ends (solved, failed or overdue): for SQLite and memory when
   * this process ends it, for Redis when any process does (pub/sub). Long-polls wait on this.
   * Returns a function that removes the listener.
   */
  onTaskFinished(listener: (id: string) => void): () => void;
}

/** Statistics per solver: declines, and the verdicts of clients' reports. */
export interface StatsStore {
  /** Records reportgood / reportbad, once per task, and counts it for the solver that answered. */
  recordReport(accountId: number, id: string, verdict: 'good' | 'bad', now: number): Promise<ReportOutcome>;
  /** Counts a task that `solver` declined, whether or not another solver then answers it. */
  recordDecline(solver: string): Promise<void>;
  /** Lifetime counts per solver, for operators; kept when the tasks themselves expire. */
  solverStats(): Promise<SolverStats[]>;
}

/** An operator of the console: a person who solves tasks (`solver`) or also runs the service (`admin`). */
export interface Operator {
  readonly name: string;
  readonly role: OperatorRole;
  /** scrypt, as `scrypt$N$r$p$salt$hash` (base64); see console/passwords.ts. */
  readonly passwordHash: string;
  readonly disabled: boolean;
  readonly createdAt: number;
}
export type OperatorRole = 'admin' | 'solver';

/** One admin action, as the append-only audit log keeps it. */
export interface AuditEntry {
  readonly at: number;
  /** The operator who acted, or `cli`. */
  readonly actor: string;
  /** What was done: `account.create`, `account.disable`, `ban.lift`, ... */
  readonly action: string;
  /** What it was done to: an account id, an IP, an operator name. */
  readonly target: string;
  readonly detail?: string;
}

/** Changes an admin may make to an account. */
export interface AccountChanges {
  readonly threads?: number;
  /** Added to the balance (negative: taken off). */
  readonly creditMicros?: number;
}

/** The console's view of the service: operators, the audit log, bans and accounts to manage, queue depth. */
export interface ConsoleStore {
  /** False when an operator of that name exists. */
  createOperator(operator: Operator): Promise<boolean>;
  findOperator(name: string): Promise<Operator | undefined>;
  listOperators(): Promise<Operator[]>;
  setOperatorDisabled(name: string, disabled: boolean): Promise<boolean>;
  /** Appends to the audit log; entries are never changed or removed. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** The newest `limit` entries, newest first. */
  readAudit(limit: number): Promise<AuditEntry[]>;
  /** IPs banned at `now`, with the end of each ban. */
  listBans(now: number): Promise<{ readonly ip: string; readonly until: number }[]>;
  /** Ends a ban now; false when the IP was not banned. */
  liftBan(ip: string): Promise<boolean>;
  /** Sets threads or credits the balance; false when no such account. */
  updateAccount(accountId: number, changes: AccountChanges): Promise<boolean>;
  /** Unfinished tasks per type, queued and being solved (overdue ones until the sweep ends them). */
  queueDepth(now: number): Promise<Partial<Record<TaskType, { readonly queued: number; readonly active: number }>>>;
}

/** An image task's confirmed answer, kept to adapt the OCR model to a deployment's own captchas. */
export interface Sample {
  /** The task's id, or `import:<n>` for images added with `solvebox ocr samples add`. */
  readonly id: string;
  readonly image: Uint8Array;
  readonly hints: ImageHints;
  readonly answer: string;
  /** Who confirmed it: an operator answered it, a client reported it good, or it was imported. */
  readonly source: 'operator' | 'reported' | 'imported';
  /** The solver that answered (`human:NAME`, `ocr`, ...), or `import`. */
  readonly answeredBy: string;
  readonly at: number;
}

/** A solved task as it was asked and answered, for keeping it as a sample. */
export interface SolvedTask {
  readonly spec: TaskSpec;
  readonly solution: Solution;
  readonly solver: string;
}

/** Confirmed samples: the operator's own data, which never leaves the deployment. */
export interface SampleStore {
  /** Keeps a sample (replacing one of the same id), then drops the oldest beyond `keep`. */
  keepSample(sample: Sample, keep: number): Promise<void>;
  dropSample(id: string): Promise<void>;
  /** Samples oldest first, from `offset`. */
  listSamples(offset: number, limit: number): Promise<Sample[]>;
  countSamples(): Promise<number>;
  /** Deletes every sample; returns how many there were. */
  purgeSamples(): Promise<number>;
  /** The account's solved task as stored (spec, solution, solver), while it is kept; for `reportgood`. */
  solvedTask(accountId: number, id: string, now: number): Promise<SolvedTask | undefined>;
}

/**
 * Where a relayed task stands upstream. Written before each upstream submit and again with the
 * upstream's id before the first poll, so that a restarted relay polls that task again instead of
 * submitting a second one.
 */
export interface RelayTicket {
  /** The upstream that has (or is being given) the task. */
  readonly upstream: string;
  /** This task's upstream submits so far, from 1. */
  readonly round: number;
  /**
   * The idempotency key of this round's submit: random, and kept, so that a submit repeated after
   * a crash replays the first at an upstream that honours keys.
   */
  readonly key: string;
  /** The upstream's task id; absent while its submit is in flight. */
  readonly upstreamId?: string;
  readonly submittedAt: number;
  /** Upstreams that already had the task and gave no answer, in order. */
  readonly tried: readonly string[];
}

/** What the relay backend keeps: each relayed task's ticket (kept as long as the task), and what each upstream cost per day. */
export interface RelayStore {
  /** Replaces the task's ticket. */
  saveRelayTicket(taskId: string, ticket: RelayTicket): Promise<void>;
  relayTicket(taskId: string): Promise<RelayTicket | undefined>;
  /** Adds to what an upstream cost on `day` (UTC, YYYY-MM-DD), in millionths; returns the day's total. */
  addUpstreamSpend(upstream: string, day: string, micros: number): Promise<number>;
  upstreamSpend(upstream: string, day: string): Promise<number>;
}

/** The whole contract one adapter fulfils; each part of the server depends on the roles it uses. */
export interface Storage extends AccountStore, Guards, TaskQueue, StatsStore, ConsoleStore, SampleStore, RelayStore {
  readonly kind: string;
  /**
   * True when other processes may use the same state at once (Redis): several API nodes and
   * workers. The server then leaves leased tasks alone at startup, since their workers may be alive.
   */
  readonly shared: boolean;
  /**
   * What only this adapter can tell about itself, for /health: SQLite reports its group commit
   * (`groupCommit: { syncs, writes }`: writes per fsync show it at work).
   */
  diagnostics?(): Readonly<Record<string, unknown>>;
  /**
   * The desk of tasks waiting for a person (the `human` solver and the console). One per process;
   * shared between processes where the storage is (Redis).
   */
  openDesk(): HumanDesk;
  /** Throws StorageError when the store cannot be reached; for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** An infrastructure fault (locked or broken database, lost connection). Never a domain outcome. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError || (err instanceof Error && err.name === 'StorageError');
}
