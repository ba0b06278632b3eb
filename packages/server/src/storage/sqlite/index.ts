/**
 * SQLite storage (better-sqlite3, WAL). Each Storage method is one transaction; better-sqlite3 is
 * synchronous, so a method runs to completion without interleaving inside this process, and
 * IMMEDIATE transactions keep other processes (the `solvebox keys` CLI) out while it writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Proxy, Solution, TaskSpec, TaskType } from '@solvebox/protocol';
import { decodeJson, decodeSpecWithBlobs, encodeJson, encodeSpecWithBlobs, hasBlobs, packBlobs, packedParts, unpackBlobs } from '../codec.js';
import { OVERDUE_CODE } from '../shared.js';
import {
  StorageError,
  type Completion,
  type Account,
  type AdmitOutcome,
  type BanPolicy,
  type FailOutcome,
  type LeaseRef,
  type LeasedTask,
  type Mark,
  type NewAccount,
  type NewTask,
  type ReportOutcome,
  type SolverStats,
  type Storage,
  type SweepPolicy,
  type SweepResult,
  type TaskState,
  type TaskView,
  type AccountChanges,
  type AuditEntry,
  type Operator,
  type OperatorRole,
  type Sample,
  type RelayTicket,
  type SolvedTask,
} from '../types.js';
import { LocalDesk, type HumanDesk } from '../desk.js';
import { FinishedListeners } from '../shared.js';
import { BoundedMap } from '../../bounded-map.js';
import { TaskCache } from '../task-cache.js';
import { Checkpointer } from './checkpointer.js';
import { GroupSync } from './group-sync.js';
import { ImageLog, type ImageRef } from './image-log.js';
import { MIGRATIONS } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { SequentialTaskIds } from './task-ids.js';
import { MARKS_CACHED, markKey } from '../marks.js';

export interface SqliteOptions {
  readonly file: string;
  /** @defaultValue 1000 */
  readonly busyTimeoutMs?: number;
  /**
   * `full`: a write is acknowledged once it is on disk (one fsync of the WAL per group of writes,
   * see group-sync.ts). `normal`: once it is in the WAL, which survives a process crash but not a
   * power loss. @defaultValue 'full'
   */
  readonly synchronous?: 'normal' | 'full';
  /** How often the worker checkpoints, and past how many log pages this thread finishes one (checkpointer.ts). */
  readonly checkpoints?: { readonly intervalMs?: number; readonly catchUpPages?: number };
  /** Size at which the image log starts a new segment (image-log.ts; tests make it small). @defaultValue 64 MiB */
  readonly imageSegmentBytes?: number;
}

interface AccountRow {
  id: number;
  key_hint: string;
  key_hash: string;
  threads: number;
  balance_micros: number;
  proxies_allowed: number;
  disabled: number;
  created_at: number;
}

interface TaskRow {
  id: number;
  type: TaskType;
  state: TaskState;
  created_at: number;
  attempts: number;
  deadline_at: number;
  expires_at: number | null;
  solution: string | null;
  error_code: string | null;
  price_micros: number | null;
}

interface LeasedRow {
  id: number;
  account_id: number;
  spec: string;
  proxy: string | null;
  pingback: string | null;
  attempts: number;
  deadline_at: number;
}

/** What completing or failing a task returns, to update the cache. */
interface FinishedRow {
  account_id: number;
  type: TaskType;
  created_at: number;
  attempts: number;
  deadline_at: number;
}

const PAGE_CACHE_KIB = 8_192;
/**
 * Specs longer than this live in task_specs (schema 5), and the task's own `spec` is SPEC_ELSEWHERE.
 * Images are not in the spec's JSON (task_blobs, schema 10), so this is now rare: long texts only.
 */
const INLINE_SPEC_CHARS = 1024;
const SPEC_ELSEWHERE = '';
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** Accounts whose busy threads are bounded in memory (the rest are counted on each admission). */
const ACCOUNTS_BOUNDED = 10_000;
/** Tasks the sweep fails, and deletes, per transaction. */
const SWEEP_CHUNK = 500;

/** A database in a file (not `:memory:`, nor `''`, SQLite's temporary one). */
function onDiskFile(file: string): boolean {
  return file !== ':memory:' && file !== '';
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite';
  readonly shared = false;
  private readonly db: Database.Database;
  private readonly statements: Statements;
  private readonly leaseStatements = new Map<string, Database.Statement>();
  /** Public task ids to storage keys and back (task-ids.ts). */
  private readonly ids: SequentialTaskIds;
  /** Absent when writes need not wait for the disk (`synchronous: 'normal'`, or an in-memory database). */
  private readonly groupSync: GroupSync | undefined;
  /** Task images beside the database (image-log.ts); an in-memory database keeps them in task_blobs. */
  private readonly images: ImageLog | undefined;
  /** Absent for an in-memory database. */
  private readonly checkpointer: Checkpointer | undefined;
  diagnostics(): Readonly<Record<string, unknown>> {
    return {
      admissions: { ...this.admissionCounts },
      ...(this.groupSync ? { groupCommit: { ...this.groupSync.counts } } : {}),
      ...(this.checkpointer ? { checkpoints: { ...this.checkpointer.counts } } : {}),
    };
  }
  /** This process is the only one that changes tasks in the file, so their views can be cached. */
  private readonly cache = new TaskCache();
  /** Admission transactions and the tasks they held: how well batching works, for benchmarks. */
  private readonly admissionCounts = { transactions: 0, tasks: 0 };
  /**
   * Per account, at least as many threads as it has busy: the last count read from the database
   * plus the tasks admitted since. Tasks only become busy by being admitted, here (this process
   * is the only writer), and stop being busy by finishing or passing their deadline; so while this
   * bound is below the account's threads a thread is surely free, and the admission needs no
   * count (which reads every unfinished task of the account). Lost entries are counted again.
   */
  private readonly busyAtMost = new BoundedMap<number, number>(ACCOUNTS_BOUNDED);
  /** Marks by `kind:key`, until when (0: none); exact, as this process writes every mark. */
  private readonly marks = new BoundedMap<string, number>(MARKS_CACHED);
  private readonly finished = new FinishedListeners();
  private admissions: { task: NewTask; threads: number; now: number; resolve(outcome: AdmitOutcome): void; reject(err: unknown): void }[] = [];

  constructor(options: SqliteOptions) {
    this.db = wrap('open the database', () => {
      if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
      const db = new Database(options.file);
      db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 1000)}`);
      db.pragma('journal_mode = WAL');
      // Durability comes from GroupSync, not from an fsync inside every commit.
      db.pragma('synchronous = NORMAL');
      // Task ids are random, so inserts land on random pages of the table: beyond SQLite's default
      // 2 MB page cache, a busy node reads pages back from the OS (cheap, but not free). 8 MB holds
      // about 25 000 live tasks; more measured no faster, and would count against flat memory.
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      // Checkpoints run on a worker thread (checkpointer.ts), not inside the commit that crosses a
      // threshold; an in-memory database has no log to checkpoint.
      if (onDiskFile(options.file)) db.pragma('wal_autocheckpoint = 0');
      // Once the log restarts, its file is cut back to this size rather than kept at its largest.
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      return db;
    });
    this.statements = prepareStatements(this.db);
    this.ids = wrap('read the task id settings', () => new SequentialTaskIds(this.db));
    const durable = (options.synchronous ?? 'full') === 'full' && onDiskFile(options.file);
    const images = onDiskFile(options.file) ? wrap('open the image log', () => new ImageLog(`${options.file}-images`, options.imageSegmentBytes)) : undefined;
    this.images = images;
    if (images) wrap('check the image log', () => this.dropTornImages(images));
    this.groupSync = durable ? new GroupSync(`${options.file}-wal`, images && (() => images.sync())) : undefined;
    // Last: a thread of its own, started only once nothing above can fail.
    this.checkpointer = onDiskFile(options.file) ? new Checkpointer(this.db, { file: options.file, ...options.checkpoints }) : undefined;
  }

  newTaskId(): string {
    return wrap('make a task id', () => this.ids.newId());
  }

  async createAccount(input: NewAccount): Promise<Account> {
    const account = wrap('create an account', () =>
      accountOf(this.statements.insertAccount.get({ ...input, proxiesAllowed: input.proxiesAllowed ? 1 : 0 }) as AccountRow),
    );
    await this.onDisk();
    return account;
  }

  async findAccount(ref: { id: number } | { keyHash: string }): Promise<Account | undefined> {
    return wrap('read an account', () => {
      const row = ('id' in ref ? this.statements.accountById.get(ref.id) : this.statements.accountByHash.get(ref.keyHash)) as AccountRow | undefined;
      return row && accountOf(row);
    });
  }

  async listAccounts(): Promise<Account[]> {
    return wrap('list accounts', () => (this.statements.listAccounts.all() as AccountRow[]).map(accountOf));
  }

  async setAccountDisabled(accountId: number, disabled: boolean): Promise<boolean> {
    const changed = wrap('update an account', () => this.statements.setDisabled.run(disabled ? 1 : 0, accountId).changes > 0);
    await this.onDisk();
    return changed;
  }

  async banExpiry(ip: string, now: number): Promise<number | undefined> {
    return wrap('read bans', () => (this.statements.banUntil.get(ip, now) as { until: number } | undefined)?.until);
  }

  async recordAuthFailure(ip: string, now: number, policy: BanPolicy): Promise<number | undefined> {
    return this.transaction('record an authentication failure', () => {
      const s = this.statements;
      s.insertFailure.run(ip, now);
      const { n } = s.countFailures.get(ip, now - policy.windowMs) as { n: number };
      if (n < policy.maxFailures) return undefined;
      const until = now + policy.banMs;
      s.clearFailures.run(ip);
      s.upsertBan.run(ip, until);
      return until;
    });
  }

  /**
   * Admissions are batched: those that arrive in one turn of the event loop share one transaction,
   * then one fsync. A transaction per task would write every page it touches (the row and its
   * index pages) to the WAL per task; shared, pages touched twice are written once. Outcomes are
   * values (a full account is not an error), so one admission cannot fail the others; a fault of
   * the database fails the batch, and every task in it is answered ERROR_SERVER_ERROR.
   */
  admitTask(task: NewTask, threads: number, now: number): Promise<AdmitOutcome> {
    return new Promise((resolve, reject) => {
      this.admissions.push({ task, threads, now, resolve, reject });
      if (this.admissions.length === 1) setImmediate(() => void this.admitBatch());
    });
  }

  private async admitBatch(): Promise<void> {
    const batch = this.admissions;
    this.admissions = [];
    this.admissionCounts.transactions += 1;
    this.admissionCounts.tasks += batch.length;
    let outcomes: AdmitOutcome[];
    try {
      outcomes = this.transaction('admit tasks', () => {
        const outcomes = batch.map(({ task, threads, now }) => this.admitOne(task, threads, now));
        // Before the commit: a task is never on disk with its images still to write.
        this.images?.writePending();
        return outcomes;
      });
      // Into the cache at once, with nothing in between: while the fsync runs, a worker may lease,
      // solve and cache a task, and a later "queued" would hide its answer.
      batch.forEach(({ task }, i) => {
        if (outcomes[i]?.kind === 'admitted')
          this.cache.remember(task.accountId, { id: task.id, type: task.spec.type, state: 'queued', createdAt: task.createdAt, attempts: 0 }, task.deadlineAt);
      });
      // A replayed task may be one whose own admission is still waiting for the disk.
      const stored = outcomes.filter((o) => o.kind === 'admitted' || o.kind === 'replayed').length;
      if (stored > 0) await this.onDisk(stored);
    } catch (err) {
      this.images?.discardPending();
      for (const { reject } of batch) reject(err);
      return;
    }
    for (const [i, { resolve }] of batch.entries()) resolve(outcomes[i] as AdmitOutcome);
  }

  /** One admission, inside the batch's transaction. */
  private admitOne(task: NewTask, threads: number, now: number): AdmitOutcome {
    const s = this.statements;
    if (task.idempotencyKey !== undefined) {
      const previous = s.taskByIdempotencyKey.get(task.accountId, task.idempotencyKey) as { id: number; expires_at: number | null } | undefined;
      if (previous && (previous.expires_at === null || previous.expires_at > now)) return { kind: 'replayed', id: this.ids.idOf(previous.id) };
      if (previous) s.deleteTask.run(previous.id);
    }
    let busy = this.busyAtMost.get(task.accountId);
    if (busy === undefined || busy >= threads) {
      busy = (s.busyThreads.get(task.accountId, now, threads) as { n: number }).n;
      this.busyAtMost.set(task.accountId, busy);
      if (busy >= threads) return { kind: 'no-free-thread' };
    }
    if (!this.insertTask(task)) return { kind: 'duplicate-id' };
    // Counted even if the batch's transaction fails after: an upper bound may be too high.
    this.busyAtMost.set(task.accountId, busy + 1);
    return { kind: 'admitted' };
  }

  /**
   * Inserts a queued task and its spec; false when its id is taken (the primary key says so, no
   * lookup first). A constraint failure undoes only its own statement, not the batch's transaction.
   */
  private insertTask(task: NewTask): boolean {
    const { json: spec, blobs } = encodeSpecWithBlobs(task.spec);
    const inline = spec.length <= INLINE_SPEC_CHARS;
    const key = this.ids.keyOf(task.id);
    this.ids.storing(key);
    const image: ImageRef | undefined = blobs.length > 0 && this.images ? this.images.append(packedParts(blobs)) : undefined;
    try {
      this.statements.insertTask.run({
        id: key,
        accountId: task.accountId,
        type: task.spec.type,
        spec: inline ? spec : SPEC_ELSEWHERE,
        proxy: task.proxy ? encodeJson(task.proxy) : null,
        pingback: task.pingback ?? null,
        softId: task.softId ?? null,
        idempotencyKey: task.idempotencyKey ?? null,
        createdAt: task.createdAt,
        deadlineAt: task.deadlineAt,
        imageSegment: image?.segment ?? null,
        imageAt: image?.at ?? null,
        imageLength: image?.length ?? null,
      });
    } catch (err) {
      if (image) this.images?.unappend(image);
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
      throw err;
    }
    if (!inline) this.statements.insertSpec.run(key, spec);
    if (blobs.length > 0 && !image) this.statements.insertBlobs.run(key, packBlobs(blobs));
    return true;
  }

  async getTasks(accountId: number, ids: readonly string[], now: number): Promise<Map<string, TaskView>> {
    return wrap('read tasks', () => {
      const found = new Map<string, TaskView>();
      for (const id of ids) {
        const cached = this.cache.peek(accountId, id, now);
        if (cached) {
          found.set(id, cached);
          continue;
        }
        const row = this.statements.getTask.get(this.ids.keyOf(id), accountId, now) as TaskRow | undefined;
        if (!row) continue;
        const view = viewOf(id, row, now);
        found.set(id, view);
        // An overdue task not yet swept reads as failed without an expiry: left to the database.
        if (view.state === row.state) this.cache.remember(accountId, view, row.deadline_at, row.expires_at ?? undefined);
      }
      return found;
    });
  }

  peekTask(accountId: number, id: string, now: number): TaskView | undefined {
    return this.cache.peek(accountId, id, now);
  }

  onTaskFinished(listener: (id: string) => void): () => void {
    return this.finished.add(listener);
  }

  async leaseTask(types: readonly TaskType[], now: number, leaseMs: number): Promise<LeasedTask | undefined> {
    const statement = this.leaseStatement(types);
    return this.transaction('lease a task', () => {
      const leaseId = randomUUID();
      const row = statement.get({ leaseId, now, leaseUntil: now + leaseMs }) as LeasedRow | undefined;
      if (!row) return undefined;
      const id = this.ids.idOf(row.id);
      this.cache.moved(id, 'active');
      return {
        id,
        leaseId,
        accountId: row.account_id,
        spec: this.specOf(row.id, row.spec),
        ...(row.proxy ? { proxy: decodeJson<Proxy>(row.proxy) } : {}),
        ...(row.pingback ? { pingback: row.pingback } : {}),
        attempt: row.attempts,
        deadlineAt: row.deadline_at,
      };
    });
  }

  /** A stored task's spec from its row's `spec` column, and the tables beside it where needed. */
  private specOf(key: number, column: string): TaskSpec {
    const json = column === SPEC_ELSEWHERE ? (this.statements.specOf.get(key) as string) : column;
    return decodeSpecWithBlobs(json, hasBlobs(json) ? unpackBlobs(this.imagesOf(key)) : []);
  }

  /** A task's packed images: from the image log, or from task_blobs for tasks stored before it and in memory. */
  private imagesOf(key: number): Uint8Array {
    const ref = this.statements.imageOf.get(key) as { segment: number | null; at: number; length: number } | undefined;
    if (ref?.segment == null) return this.statements.blobsOf.get(key) as Uint8Array;
    if (!this.images) throw new Error('a task refers to the image log of an on-disk database');
    return this.images.read({ segment: ref.segment, at: ref.at, length: ref.length });
  }

  /**
   * Deletes the tasks whose images are not (wholly) on file. Only a crash leaves any: a batch's
   * transaction may reach the disk while its images did not, and then no task of it was
   * acknowledged, since `OK` waits for the fsync of both. The rows are read first and the files'
   * sizes after: a server running beside this process writes a task's images before its row, so
   * every row read here has its record in the files by then.
   */
  private dropTornImages(images: ImageLog): void {
    const records = this.statements.imageRecords.all() as { id: number; segment: number; at: number; length: number }[];
    const sizes = new Map<number, number>();
    for (const { segment } of records) if (!sizes.has(segment)) sizes.set(segment, images.sizeOnFile(segment));
    const torn = records.filter((r) => r.at + r.length > sizes.get(r.segment)!);
    if (torn.length === 0) return;
    this.transaction('drop tasks whose images were lost', () => {
      for (const { id } of torn) this.statements.deleteTask.run(id);
    });
  }

  /** One prepared statement per set of types, so that the partial queue index is used. */
  private leaseStatement(types: readonly TaskType[]): Database.Statement {
    const key = [...types].sort().join(',');
    let statement = this.leaseStatements.get(key);
    if (!statement) {
      const list = types.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ');
      statement = this.db.prepare(
        `UPDATE tasks SET state = 'active', attempts = attempts + 1, lease_id = @leaseId, lease_until = @leaseUntil
         WHERE id = (
           SELECT id FROM tasks
           WHERE state = 'queued' AND type IN (${list}) AND available_at <= @now AND deadline_at > @now
           ORDER BY available_at LIMIT 1
         )
         RETURNING id, account_id, spec, proxy, pingback, attempts, deadline_at`,
      );
      this.leaseStatements.set(key, statement);
    }
    return statement;
  }

  async completeTask(lease: LeaseRef, { solution, priceMicros, expiresAt, solver }: Completion, _now: number): Promise<boolean> {
    const completed = this.transaction('complete a task', () => {
      const row = this.statements.complete.get(encodeJson(solution), priceMicros, expiresAt, solver, this.ids.keyOf(lease.id), lease.leaseId) as
        | FinishedRow
        | undefined;
      if (!row) return false;
      if (priceMicros !== 0) this.statements.debit.run(priceMicros, row.account_id);
      this.statements.countStat.solved.run(solver, priceMicros);
      this.cache.remember(
        row.account_id,
        { id: lease.id, type: row.type, state: 'solved', solution, priceMicros, createdAt: row.created_at, attempts: row.attempts, expiresAt },
        row.deadline_at,
        expiresAt,
      );
      return true;
    });
    if (completed) {
      await this.onDisk();
      this.finished.emit(lease.id);
    }
    return completed;
  }

  async failTask(lease: LeaseRef, outcome: { code: string; expiresAt: number; solver?: string } | { retryAt: number }): Promise<FailOutcome> {
    const result = this.transaction('fail a task', (): FailOutcome => {
      if ('retryAt' in outcome) {
        if (this.statements.requeue.run(outcome.retryAt, this.ids.keyOf(lease.id), lease.leaseId).changes === 0) return 'lease-lost';
        this.cache.moved(lease.id, 'queued');
        return 'requeued';
      }
      const row = this.statements.fail.get(outcome.code, outcome.expiresAt, outcome.solver ?? null, this.ids.keyOf(lease.id), lease.leaseId) as
        | FinishedRow
        | undefined;
      if (!row) return 'lease-lost';
      if (outcome.solver !== undefined) this.statements.countStat.failed.run(outcome.solver);
      this.cache.remember(
        row.account_id,
        {
          id: lease.id,
          type: row.type,
          state: 'failed',
          errorCode: outcome.code,
          createdAt: row.created_at,
          attempts: row.attempts,
          expiresAt: outcome.expiresAt,
        },
        row.deadline_at,
        outcome.expiresAt,
      );
      return 'failed';
    });
    if (result === 'failed') {
      await this.onDisk();
      this.finished.emit(lease.id);
    }
    return result;
  }

  async renewLease(lease: LeaseRef, now: number, leaseMs: number): Promise<boolean> {
    return wrap('renew a lease', () => this.statements.renew.run(now + leaseMs, this.ids.keyOf(lease.id), lease.leaseId).changes > 0);
  }

  async releaseTask(lease: LeaseRef): Promise<void> {
    const released = wrap('release a task', () => this.statements.release.run(this.ids.keyOf(lease.id), lease.leaseId).changes > 0);
    if (released) this.cache.moved(lease.id, 'queued');
  }

  async recoverInFlight(): Promise<number> {
    this.cache.clear();
    return wrap('recover tasks', () => this.statements.recover.run().changes);
  }

  async recordReport(accountId: number, id: string, verdict: 'good' | 'bad', now: number): Promise<ReportOutcome> {
    const outcome = this.transaction('record a report', (): ReportOutcome => {
      const row = this.statements.reportState.get(this.ids.keyOf(id), accountId, now) as
        | { state: TaskState; report: string | null; solver: string | null }
        | undefined;
      if (!row) return 'not-found';
      if (row.state !== 'solved') return 'not-solved';
      if (row.report !== null) return 'duplicate';
      this.statements.setReport.run(verdict, this.ids.keyOf(id));
      if (row.solver !== null) this.statements.countStat[verdict].run(row.solver);
      return 'recorded';
    });
    if (outcome === 'recorded') await this.onDisk();
    return outcome;
  }

  async recordDecline(solver: string): Promise<void> {
    wrap('count a decline', () => this.statements.countStat.declined.run(solver));
  }

  async solverStats(): Promise<SolverStats[]> {
    return wrap('read solver statistics', () =>
      (
        this.statements.solverStats.all() as {
          solver: string;
          solved: number;
          failed: number;
          declined: number;
          reported_good: number;
          reported_bad: number;
          charged_micros: number;
        }[]
      ).map((r) => ({
        solver: r.solver,
        solved: r.solved,
        failed: r.failed,
        declined: r.declined,
        reportedGood: r.reported_good,
        reportedBad: r.reported_bad,
        chargedMicros: r.charged_micros,
      })),
    );
  }

  async markBad(mark: Mark, until: number): Promise<void> {
    const { kind, key } = markKey(mark);
    wrap('mark a proxy or pair', () => this.statements.markBad.run(kind, key, until));
    this.marks.set(`${kind}:${key}`, until);
  }

  /** Read from memory once known: this process writes every mark (until 0: none). */
  async isMarkedBad(mark: Mark, now: number): Promise<boolean> {
    const { kind, key } = markKey(mark);
    const name = `${kind}:${key}`;
    let until = this.marks.get(name);
    if (until === undefined) {
      until = wrap('read marks', () => (this.statements.markUntil.get(kind, key) as number | undefined) ?? 0);
      this.marks.set(name, until);
    }
    return until > now;
  }

  /**
   * In chunks of SWEEP_CHUNK tasks, one transaction each, with other work let in between: when
   * thousands of tasks end at once (a busy node's deadlines, its results' expiry), one transaction
   * for all of them held the event loop for tens of milliseconds, the requests' p99.
   */
  async sweep(now: number, policy: SweepPolicy): Promise<SweepResult> {
    const totals = { overdue: 0, expired: 0, stalled: 0 };
    for (let first = true; ; first = false) {
      const { overdue, stalled, expired } = this.transaction('sweep', () => {
        const s = this.statements;
        const ids = (rows: unknown[]) => (rows as { id: number }[]).map((r) => this.ids.idOf(r.id));
        const overdue = ids(s.failOverdue.all({ ttl: policy.resultTtlMs, now, limit: SWEEP_CHUNK }));
        const expired = ids(s.deleteExpired.all({ now, limit: SWEEP_CHUNK }));
        if (!first) return { overdue, stalled: [], expired };
        const stalled = ids(s.requeueStalled.all({ now }));
        s.deleteFailures.run(now - policy.banWindowMs);
        s.deleteBans.run(now);
        // Rarely any: then the cache, which may hold them, starts again.
        if (s.deleteMarks.run(now).changes > 0) this.marks.clear();
        return { overdue, stalled, expired };
      });
      if (expired.length > 0) this.ids.swept();
      for (const id of stalled) this.cache.moved(id, 'queued');
      for (const id of expired) this.cache.forget(id);
      for (const id of overdue) {
        this.cache.forget(id);
        this.finished.emit(id);
      }
      totals.overdue += overdue.length;
      totals.expired += expired.length;
      totals.stalled += stalled.length;
      if (overdue.length < SWEEP_CHUNK && expired.length < SWEEP_CHUNK) {
        if (totals.expired > 0) this.deleteUnusedImages();
        return totals;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Image segments below the oldest one a task still refers to hold nobody's images. */
  private deleteUnusedImages(): void {
    const images = this.images;
    if (!images) return;
    wrap('delete unused image segments', () => images.deleteBelow((this.statements.oldestImageSegment.get() as number | null) ?? undefined));
  }

  async ping(): Promise<void> {
    wrap('answer a ping', () => this.db.prepare('SELECT 1').get());
  }

  // ---- the console ----------------------------------------------------------------------------

  async createOperator(operator: Operator): Promise<boolean> {
    const created = wrap(
      'create an operator',
      () =>
        this.db
          .prepare('INSERT INTO operators (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
          .run(operator.name, operator.role, operator.passwordHash, operator.disabled ? 1 : 0, operator.createdAt).changes > 0,
    );
    await this.onDisk();
    return created;
  }

  async findOperator(name: string): Promise<Operator | undefined> {
    const row = wrap('read an operator', () => this.db.prepare(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE name = ?`).get(name)) as
      | OperatorRow
      | undefined;
    return row && operatorOf(row);
  }

  async listOperators(): Promise<Operator[]> {
    const rows = wrap('list operators', () => this.db.prepare(`SELECT ${OPERATOR_COLUMNS} FROM operators ORDER BY created_at, name`).all()) as OperatorRow[];
    return rows.map(operatorOf);
  }

  async setOperatorDisabled(name: string, disabled: boolean): Promise<boolean> {
    const changed = wrap(
      'update an operator',
      () => this.db.prepare('UPDATE operators SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name).changes > 0,
    );
    await this.onDisk();
    return changed;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    wrap('write the audit log', () =>
      this.db
        .prepare('INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)')
        .run(entry.at, entry.actor, entry.action, entry.target, entry.detail ?? null),
    );
    await this.onDisk();
  }

  async readAudit(limit: number): Promise<AuditEntry[]> {
    const rows = wrap('read the audit log', () =>
      this.db.prepare('SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?').all(limit),
    ) as (AuditEntry & { detail: string | null })[];
    return rows.map(({ detail, ...entry }) => (detail === null ? entry : { ...entry, detail }));
  }

  async listBans(now: number): Promise<{ ip: string; until: number }[]> {
    return wrap('list bans', () => this.db.prepare('SELECT ip, until FROM bans WHERE until > ? ORDER BY until').all(now)) as { ip: string; until: number }[];
  }

  async liftBan(ip: string): Promise<boolean> {
    const lifted = this.transaction('lift a ban', () => {
      this.statements.clearFailures.run(ip);
      return this.db.prepare('DELETE FROM bans WHERE ip = ?').run(ip).changes > 0;
    });
    await this.onDisk();
    return lifted;
  }

  async updateAccount(accountId: number, changes: AccountChanges): Promise<boolean> {
    const changed = wrap(
      'update an account',
      () =>
        this.db
          .prepare('UPDATE accounts SET threads = coalesce(?, threads), balance_micros = balance_micros + ? WHERE id = ?')
          .run(changes.threads ?? null, changes.creditMicros ?? 0, accountId).changes > 0,
    );
    await this.onDisk();
    return changed;
  }

  async queueDepth(now: number): Promise<Partial<Record<TaskType, { queued: number; active: number }>>> {
    const rows = wrap('count queues', () =>
      this.db.prepare("SELECT type, state, count(*) AS n FROM tasks WHERE state IN ('queued', 'active') AND deadline_at > ? GROUP BY type, state").all(now),
    ) as { type: TaskType; state: 'queued' | 'active'; n: number }[];
    const depth: Partial<Record<TaskType, { queued: number; active: number }>> = {};
    for (const { type, state, n } of rows) {
      const entry = depth[type] ?? { queued: 0, active: 0 };
      depth[type] = state === 'queued' ? { ...entry, queued: n } : { ...entry, active: n };
    }
    return depth;
  }

  openDesk(): HumanDesk {
    return new LocalDesk();
  }

  // ---- samples ------------------------------------------------------------------------------

  async keepSample(sample: Sample, keep: number): Promise<void> {
    this.transaction('keep a sample', () => {
      this.db.prepare('DELETE FROM samples WHERE id = ?').run(sample.id);
      this.db
        .prepare('INSERT INTO samples (id, image, hints, answer, source, answered_by, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(sample.id, Buffer.from(sample.image), JSON.stringify(sample.hints), sample.answer, sample.source, sample.answeredBy, sample.at);
      this.db.prepare('DELETE FROM samples WHERE seq <= (SELECT seq FROM samples ORDER BY seq DESC LIMIT 1 OFFSET ?)').run(keep);
    });
    await this.onDisk();
  }

  async dropSample(id: string): Promise<void> {
    wrap('drop a sample', () => this.db.prepare('DELETE FROM samples WHERE id = ?').run(id));
    await this.onDisk();
  }

  async listSamples(offset: number, limit: number): Promise<Sample[]> {
    const rows = wrap('read samples', () =>
      this.db.prepare('SELECT id, image, hints, answer, source, answered_by, at FROM samples ORDER BY seq LIMIT ? OFFSET ?').all(limit, offset),
    ) as { id: string; image: Buffer; hints: string; answer: string; source: Sample['source']; answered_by: string; at: number }[];
    return rows.map((r) => ({
      id: r.id,
      image: new Uint8Array(r.image),
      hints: JSON.parse(r.hints) as Sample['hints'],
      answer: r.answer,
      source: r.source,
      answeredBy: r.answered_by,
      at: r.at,
    }));
  }

  async countSamples(): Promise<number> {
    return wrap('count samples', () => this.db.prepare('SELECT count(*) FROM samples').pluck().get() as number);
  }

  async purgeSamples(): Promise<number> {
    const deleted = wrap('purge samples', () => this.db.prepare('DELETE FROM samples').run().changes);
    await this.onDisk();
    return deleted;
  }

  async solvedTask(accountId: number, id: string, now: number): Promise<SolvedTask | undefined> {
    return wrap('read a solved task', () => {
      if (!/^[0-9]{1,19}$/.test(id)) return undefined;
      const row = this.db
        .prepare("SELECT spec, solution, solver FROM tasks WHERE id = ? AND account_id = ? AND state = 'solved' AND (expires_at IS NULL OR expires_at > ?)")
        .get(this.ids.keyOf(id), accountId, now) as { spec: string; solution: string | null; solver: string | null } | undefined;
      if (!row?.solution) return undefined;
      return { spec: this.specOf(this.ids.keyOf(id), row.spec), solution: decodeJson<Solution>(row.solution), solver: row.solver ?? '' };
    });
  }

  // ---- relay -------------------------------------------------------------------------------------

  async saveRelayTicket(taskId: string, ticket: RelayTicket): Promise<void> {
    wrap('save a relay ticket', () => {
      if (!/^[0-9]{1,19}$/.test(taskId)) return;
      // Only while the task exists: its row's deletion takes the ticket with it (ON DELETE CASCADE).
      this.db
        .prepare('INSERT OR REPLACE INTO relay_tickets (task_id, ticket) SELECT id, ? FROM tasks WHERE id = ?')
        .run(JSON.stringify(ticket), this.ids.keyOf(taskId));
    });
    // Durable before the upstream hears of the task: a restart must find it.
    await this.onDisk();
  }

  async relayTicket(taskId: string): Promise<RelayTicket | undefined> {
    return wrap('read a relay ticket', () => {
      if (!/^[0-9]{1,19}$/.test(taskId)) return undefined;
      const ticket = this.db.prepare('SELECT ticket FROM relay_tickets WHERE task_id = ?').pluck().get(this.ids.keyOf(taskId)) as string | undefined;
      return ticket === undefined ? undefined : (JSON.parse(ticket) as RelayTicket);
    });
  }

  async addUpstreamSpend(upstream: string, day: string, micros: number): Promise<number> {
    const total = wrap("add to an upstream's spend", () =>
      this.db
        .prepare(
          'INSERT INTO upstream_spend (upstream, day, micros) VALUES (?, ?, ?) ON CONFLICT (upstream, day) DO UPDATE SET micros = micros + excluded.micros RETURNING micros',
        )
        .pluck()
        .get(upstream, day, micros),
    ) as number;
    await this.onDisk();
    return total;
  }

  async upstreamSpend(upstream: string, day: string): Promise<number> {
    return wrap(
      "read an upstream's spend",
      () => (this.db.prepare('SELECT micros FROM upstream_spend WHERE upstream = ? AND day = ?').pluck().get(upstream, day) as number | undefined) ?? 0,
    );
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    this.groupSync?.close();
    this.images?.close();
    if (this.db.open) this.db.close();
  }

  /** Waits until every commit so far is on disk (nothing to wait for with `synchronous: 'normal'`). */
  private async onDisk(writes = 1): Promise<void> {
    if (!this.groupSync) return;
    try {
      await this.groupSync.flush(writes);
    } catch (err) {
      throw new StorageError(`SQLite could not sync the write-ahead log: ${(err as Error).message}`, { cause: err });
    }
  }

  private transaction<T>(what: string, body: () => T): T {
    return wrap(what, () => this.db.transaction(body).immediate());
  }
}

/** Runs a database operation; any driver error becomes a StorageError that names the operation only. */
function wrap<T>(what: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    throw new StorageError(`SQLite could not ${what}: ${(err as Error).message}`, { cause: err });
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`the database schema (version ${version}) is newer than this Solvebox (version ${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

const OPERATOR_COLUMNS = 'name, role, password_hash, disabled, created_at';

interface OperatorRow {
  name: string;
  role: OperatorRole;
  password_hash: string;
  disabled: number;
  created_at: number;
}

function operatorOf(row: OperatorRow): Operator {
  return { name: row.name, role: row.role, passwordHash: row.password_hash, disabled: row.disabled === 1, createdAt: row.created_at };
}

function accountOf(row: AccountRow): Account {
  return {
    id: row.id,
    keyHint: row.key_hint,
    keyHash: row.key_hash,
    threads: row.threads,
    balanceMicros: row.balance_micros,
    proxiesAllowed: row.proxies_allowed === 1,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}

function viewOf(id: string, row: TaskRow, now: number): TaskView {
  const unfinished = row.state === 'queued' || row.state === 'active';
  const times = { createdAt: row.created_at, attempts: row.attempts };
  if (unfinished && row.deadline_at <= now) return { id, type: row.type, state: 'failed', errorCode: OVERDUE_CODE, ...times };
  return {
    id,
    type: row.type,
    state: row.state,
    ...(row.solution ? { solution: decodeJson<Solution>(row.solution) } : {}),
    ...(row.error_code ? { errorCode: row.error_code } : {}),
    ...(row.price_micros !== null ? { priceMicros: row.price_micros } : {}),
    ...times,
    ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
  };
}
