/**
 * Redis storage (ioredis): the state several API nodes and solver workers share. Every state
 * change is one Lua script from `scripts/` beside this file (their headers list KEYS and ARGV), so it is
 * atomic across all processes; plain reads are single commands or pipelines.
 *
 * Faults never hang a request: commands fail at once while the connection is down (no offline
 * queue) and time out when Redis stalls; both surface as StorageError, which the HTTP layer
 * answers with ERROR_SERVER_ERROR. ioredis reconnects by itself, and the scripts are loaded again
 * (EVALSHA falls back to EVAL) when a restarted Redis forgot them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import { TASK_TYPES, type Proxy, type Solution, type TaskSpec, type TaskType } from '@solvebox/protocol';
import { decodeJson, encodeJson } from '../codec.js';
import { FinishedListeners } from '../shared.js';
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
  type Sample,
  type SolvedTask,
  type RelayTicket,
  type ChangeWatcher,
} from '../types.js';
import { MARKS_CACHED, markKey } from '../marks.js';
import { redactUrl } from '../redact.js';
import type { HumanDesk } from '../desk.js';
import { RedisDesk } from './desk.js';
import { KeyTracker } from './tracking.js';
import { TaskCache } from '../task-cache.js';
import { BoundedMap } from '../../bounded-map.js';
import { newTaskId } from '../../identity.js';

export interface RedisStorageOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://` for TLS). */
  readonly url: string;
  /**
   * Prepended to every key; the schema version and a hash tag follow it, so one Redis can hold
   * several deployments and all of a deployment's keys share one cluster slot.
   * @defaultValue 'solvebox:'
   */
  readonly prefix?: string;
  /** A command that takes longer fails with StorageError instead of holding the request. @defaultValue 2000 */
  readonly commandTimeoutMs?: number;
  /** How long `connect` waits for Redis at startup. @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
}

/** Each upstream's daily spend is kept a week (budgets read today's only). */
const SPEND_KEEP_SECONDS = 7 * 86400;

/** Bumped when the key layout changes, so that a new version never misreads an old one's keys. */
export const REDIS_SCHEMA = 'v1';
/** Redis deletes a key this long after it stopped mattering; the stored times decide before that. */
const GRACE_MS = 3_600_000;
/** Items of each kind one sweep call handles at most. */
const SWEEP_LIMIT = 500;
const MINIMUM_REDIS_MAJOR = 6;

/** Admissions one script call takes at most; a longer batch is split. */
const ADMISSIONS_PER_CALL = 128;

const SCRIPTS = [
  'admit-tasks',
  'lease-task',
  'renew-lease',
  'finish-task',
  'requeue-task',
  'sweep',
  'recover-in-flight',
  'record-report',
  'create-account',
  'find-account',
  'record-auth-failure',
  'mark-bad',
  'desk-take',
  'desk-settle',
  'desk-release',
] as const;
type ScriptName = (typeof SCRIPTS)[number];

/**
 * The Lua scripts live beside this file's source (src/storage/redis/scripts/), which ships with the
 * package; found from the package root, so that the depth of the compiled file does not matter.
 */
const LUA_DIR = new URL('src/storage/redis/scripts/', packageRoot(fileURLToPath(import.meta.url)));

/** The folder of the nearest package.json above `file`, as a URL ending in a slash. */
function packageRoot(file: string): URL {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return pathToFileURL(`${dir}/`);
    if (dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}
type Arg = string | number;
type ScriptCommand = (numberOfKeys: number, ...keysAndArgs: Arg[]) => Promise<unknown>;

const ACCOUNT_FIELDS = ['hint', 'threads', 'balance', 'proxies', 'disabled', 'created', 'keyhash'] as const;

export class RedisStorage implements Storage {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly client: Redis;
  private readonly p: string;
  private closed = false;
  private readonly finished = new FinishedListeners();
  private finishedSubscriber: Redis | undefined;
  /** Reports changes to bans and marks (tracking.ts). */
  private readonly tracker: KeyTracker;
  /** Marks as last read, `<kind>:<key>` → until (0: none), kept while the tracker reports their changes. */
  private readonly marks = new BoundedMap<string, number>(MARKS_CACHED);
  /** Task views as last read on the tracker's reader, kept while Redis reports their changes. */
  private readonly tasks = new TaskCache();
  /** Admissions received in this turn of the event loop, sent to Redis together (admitBatch). */
  private admissions: Admission[] = [];

  private constructor(client: Redis, prefix: string) {
    this.client = client;
    this.p = `${prefix}{${REDIS_SCHEMA}}:`;
    this.tracker = new KeyTracker(client, [this.key('ban', ''), this.key('mark', '')]);
    this.tracker.watch(this.key('mark', ''), {
      live: () => this.marks.clear(),
      changed: (name) => this.marks.delete(name),
    });
    this.tracker.watch(this.key('task', ''), {
      live: () => this.tasks.clear(),
      changed: (id) => this.tasks.forget(id),
    });
  }

  /** For /health: whether bans, marks and polled tasks are cached (Redis reports their changes). */
  diagnostics(): Readonly<Record<string, unknown>> {
    return { caching: this.tracker.live };
  }

  /** Connects, checks the server version, and loads the scripts. */
  static async connect(options: RedisStorageOptions): Promise<RedisStorage> {
    const client = new Redis(options.url, clientOptions(options));
    // Without a listener ioredis prints every connection error; the failed commands report them.
    client.on('error', () => {});
    for (const name of SCRIPTS) client.defineCommand(commandName(name), { lua: readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8') });
    try {
      await withTimeout(client.connect(), options.connectTimeoutMs ?? 5000, 'the connection attempt timed out');
      const info = await client.info('server');
      const version = /redis_version:(\d+)\.(\d+)/.exec(info);
      if (version && Number(version[1]) < MINIMUM_REDIS_MAJOR) {
        throw new Error(`Redis ${version[1]}.${version[2]} is too old; Solvebox needs ${MINIMUM_REDIS_MAJOR}.0 or newer`);
      }
    } catch (err) {
      client.disconnect();
      throw new StorageError(`cannot use Redis at ${redactUrl(options.url)}: ${(err as Error).message}`, { cause: err });
    }
    // Only once connected: its tracker opens a connection of its own, which must not outlive a failed start.
    return new RedisStorage(client, options.prefix ?? 'solvebox:');
  }

  /**
   * Calls `onQueued(type)` whenever a task of that type is queued (admitted, retried, requeued) by
   * any process, so that idle workers start at once rather than at their next poll. Uses a second
   * connection, as Redis requires for subscriptions. Returns a function that unsubscribes.
   */
  watchQueue(onQueued: (type: TaskType) => void): () => void {
    const subscriber = this.client.duplicate({ enableOfflineQueue: true });
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel: string, type: string) => onQueued(type as TaskType));
    void subscriber.subscribe(`${this.p}wake`).catch(() => {});
    return () => subscriber.disconnect();
  }

  /**
   * Every process's finished tasks reach this process's listeners through one subscription on
   * `<prefix>finished`, opened with the first listener. A message lost while the subscription
   * reconnects costs a long-poll its early wake-up only: it still answers when its wait ends.
   */
  onTaskFinished(listener: (id: string) => void): () => void {
    if (!this.finishedSubscriber) {
      const subscriber = this.client.duplicate({ enableOfflineQueue: true });
      subscriber.on('error', () => {});
      subscriber.on('message', (_channel: string, id: string) => {
        // This message and Redis's report of the change travel on different connections: a
        // long-poll woken by it must not read the cached view the report has yet to drop.
        this.tasks.forget(id);
        this.finished.emit(id);
      });
      void subscriber.subscribe(`${this.p}finished`).catch(() => {});
      this.finishedSubscriber = subscriber;
    }
    return this.finished.add(listener);
  }

  /**
   * Every change to a ban, from any process, reported through Redis's client-side caching
   * (tracking.ts), so that the gatekeeper may cache bans here as it does on storage of its own.
   */
  watchBans(watcher: ChangeWatcher): () => void {
    return this.tracker.watch(this.key('ban', ''), watcher);
  }

  // ---- accounts -------------------------------------------------------------------------------

  async createAccount(input: NewAccount): Promise<Account> {
    const id = await this.script(
      'create-account',
      [this.key('account-key', input.keyHash), this.key('account:seq'), this.key('accounts')],
      [this.p, input.keyHint, input.threads, input.balanceMicros, input.proxiesAllowed ? 1 : 0, input.createdAt, input.keyHash],
    );
    return {
      id: Number(id),
      keyHint: input.keyHint,
      keyHash: input.keyHash,
      threads: input.threads,
      balanceMicros: input.balanceMicros,
      proxiesAllowed: input.proxiesAllowed,
      disabled: false,
      createdAt: input.createdAt,
    };
  }

  async findAccount(ref: { id: number } | { keyHash: string }): Promise<Account | undefined> {
    if ('keyHash' in ref) {
      const row = (await this.script('find-account', [this.key('account-key', ref.keyHash)], [this.p])) as (string | null)[] | null;
      return row ? accountOf(Number(row[0]), row.slice(1)) : undefined;
    }
    const row = await this.call('read an account', (c) => c.hmget(this.key('account', ref.id), ...ACCOUNT_FIELDS));
    return row[0] === null ? undefined : accountOf(ref.id, row);
  }

  async listAccounts(): Promise<Account[]> {
    const ids = await this.call('list accounts', (c) => c.zrange(this.key('accounts'), '0', '-1'));
    const accounts = await Promise.all(ids.map((id) => this.findAccount({ id: Number(id) })));
    return accounts.filter((a): a is Account => a !== undefined);
  }

  async setAccountDisabled(accountId: number, disabled: boolean): Promise<boolean> {
    // Accounts are never deleted, so checking first cannot race with a deletion.
    return this.call('update an account', async (c) => {
      const key = this.key('account', accountId);
      if ((await c.exists(key)) === 0) return false;
      await c.hset(key, 'disabled', disabled ? 1 : 0);
      return true;
    });
  }

  // ---- bans -----------------------------------------------------------------------------------

  async banExpiry(ip: string, now: number): Promise<number | undefined> {
    const until = await this.call('read bans', (c) => c.get(this.key('ban', ip)));
    return until !== null && Number(until) > now ? Number(until) : undefined;
  }

  async recordAuthFailure(ip: string, now: number, policy: BanPolicy): Promise<number | undefined> {
    const until = await this.script(
      'record-auth-failure',
      [this.key('authfail', ip), this.key('ban', ip)],
      [now, policy.maxFailures, policy.windowMs, policy.banMs, `${now}:${randomUUID()}`, GRACE_MS],
    );
    return until === null ? undefined : Number(until);
  }

  // ---- the console ----------------------------------------------------------------------------

  async createOperator(operator: Operator): Promise<boolean> {
    return this.call('create an operator', async (c) => {
      const [[, created]] = (await c.multi().set(this.key('operator', operator.name), JSON.stringify(operator), 'NX').exec()) as [[unknown, unknown]];
      if (created !== 'OK') return false;
      await c.zadd(this.key('operators'), operator.createdAt, operator.name);
      return true;
    });
  }

  async findOperator(name: string): Promise<Operator | undefined> {
    const stored = await this.call('read an operator', (c) => c.get(this.key('operator', name)));
    return stored === null ? undefined : (JSON.parse(stored) as Operator);
  }

  async listOperators(): Promise<Operator[]> {
    const names = await this.call('list operators', (c) => c.zrange(this.key('operators'), '0', '-1'));
    const found = await Promise.all(names.map((name) => this.findOperator(name)));
    return found.filter((o): o is Operator => o !== undefined);
  }

  async setOperatorDisabled(name: string, disabled: boolean): Promise<boolean> {
    const operator = await this.findOperator(name);
    if (!operator) return false;
    await this.call('update an operator', (c) => c.set(this.key('operator', name), JSON.stringify({ ...operator, disabled })));
    return true;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.call('write the audit log', (c) => c.rpush(this.key('audit'), JSON.stringify(entry)));
  }

  async readAudit(limit: number): Promise<AuditEntry[]> {
    const entries = await this.call('read the audit log', (c) => c.lrange(this.key('audit'), -limit, -1));
    return entries.map((e) => JSON.parse(e) as AuditEntry).reverse();
  }

  async listBans(now: number): Promise<{ ip: string; until: number }[]> {
    return this.call('list bans', async (c) => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await c.scan(cursor, 'MATCH', `${this.key('ban')}:*`, 'COUNT', 500);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      const untils = keys.length === 0 ? [] : await c.mget(...keys);
      return keys
        .map((key, i) => ({ ip: key.slice(this.key('ban').length + 1), until: Number(untils[i]) }))
        .filter((ban) => ban.until > now)
        .sort((a, b) => a.until - b.until);
    });
  }

  async liftBan(ip: string): Promise<boolean> {
    const [[, deleted]] = (await this.call('lift a ban', (c) => c.multi().del(this.key('ban', ip)).del(this.key('authfail', ip)).exec())) as [
      [unknown, number],
    ];
    return deleted === 1;
  }

  async updateAccount(accountId: number, changes: AccountChanges): Promise<boolean> {
    return this.call('update an account', async (c) => {
      const key = this.key('account', accountId);
      if ((await c.exists(key)) === 0) return false;
      const tx = c.multi();
      if (changes.threads !== undefined) tx.hset(key, 'threads', changes.threads);
      if (changes.creditMicros !== undefined) tx.hincrby(key, 'balance', changes.creditMicros);
      await tx.exec();
      return true;
    });
  }

  async queueDepth(_now: number): Promise<Partial<Record<TaskType, { queued: number; active: number }>>> {
    return this.call('count queues', async (c) => {
      const depth: Partial<Record<TaskType, { queued: number; active: number }>> = {};
      const queued = await Promise.all(TASK_TYPES.map((type) => c.zcard(this.key('queue', type))));
      TASK_TYPES.forEach((type, i) => {
        if (queued[i]) depth[type] = { queued: queued[i], active: 0 };
      });
      const active = await c.zrange(this.key('active'), '0', '9999');
      const types = await Promise.all(active.map((id) => c.hget(this.key('task', id), 'type')));
      for (const type of types) {
        if (type === null) continue;
        const entry = depth[type as TaskType] ?? { queued: 0, active: 0 };
        depth[type as TaskType] = { queued: entry.queued, active: entry.active + 1 };
      }
      return depth;
    });
  }

  // ---- samples ------------------------------------------------------------------------------

  async keepSample(sample: Sample, keep: number): Promise<void> {
    await this.call('keep a sample', async (c) => {
      const seq = await c.incr(this.key('sample:seq'));
      await c
        .multi()
        .hset(this.key('sample', sample.id), {
          image: Buffer.from(sample.image).toString('base64'),
          hints: JSON.stringify(sample.hints),
          answer: sample.answer,
          source: sample.source,
          by: sample.answeredBy,
          at: sample.at,
        })
        .zadd(this.key('samples'), seq, sample.id)
        .exec();
      const excess = await c.zrange(this.key('samples'), '0', String(-(keep + 1)));
      if (excess.length > 0) {
        await c
          .multi()
          .zrem(this.key('samples'), ...excess)
          .del(...excess.map((id) => this.key('sample', id)))
          .exec();
      }
    });
  }

  async dropSample(id: string): Promise<void> {
    await this.call('drop a sample', (c) => c.multi().zrem(this.key('samples'), id).del(this.key('sample', id)).exec());
  }

  async listSamples(offset: number, limit: number): Promise<Sample[]> {
    return this.call('read samples', async (c) => {
      const ids = await c.zrange(this.key('samples'), String(offset), String(offset + limit - 1));
      const rows = await Promise.all(ids.map((id) => c.hgetall(this.key('sample', id))));
      return ids.flatMap((id, i) => {
        const row = rows[i];
        if (!row?.image) return [];
        return [
          {
            id,
            image: new Uint8Array(Buffer.from(row.image, 'base64')),
            hints: JSON.parse(row.hints ?? '{}') as Sample['hints'],
            answer: row.answer ?? '',
            source: row.source as Sample['source'],
            answeredBy: row.by ?? '',
            at: Number(row.at),
          },
        ];
      });
    });
  }

  async countSamples(): Promise<number> {
    return this.call('count samples', (c) => c.zcard(this.key('samples')));
  }

  async purgeSamples(): Promise<number> {
    return this.call('purge samples', async (c) => {
      const ids = await c.zrange(this.key('samples'), '0', '-1');
      if (ids.length > 0) await c.del(this.key('samples'), ...ids.map((id) => this.key('sample', id)));
      return ids.length;
    });
  }

  async solvedTask(accountId: number, id: string, now: number): Promise<SolvedTask | undefined> {
    const [account, state, spec, solution, solver, expires] = await this.call('read a solved task', (c) =>
      c.hmget(this.key('task', id), 'account', 'state', 'spec', 'solution', 'solver', 'expires'),
    );
    if (account !== String(accountId) || state !== 'solved' || !spec || !solution || (expires && Number(expires) <= now)) return undefined;
    return { spec: decodeJson<TaskSpec>(spec), solution: decodeJson<Solution>(solution), solver: solver ?? '' };
  }

  // ---- relay -------------------------------------------------------------------------------------

  async saveRelayTicket(taskId: string, ticket: RelayTicket): Promise<void> {
    // A field of the task's hash, so that it expires with the task. The relay holds the task's
    // lease while it writes, and a leased task is never deleted.
    await this.call('save a relay ticket', (c) => c.hset(this.key('task', taskId), 'relay', JSON.stringify(ticket)));
  }

  async relayTicket(taskId: string): Promise<RelayTicket | undefined> {
    const ticket = await this.call('read a relay ticket', (c) => c.hget(this.key('task', taskId), 'relay'));
    return ticket ? (JSON.parse(ticket) as RelayTicket) : undefined;
  }

  async addUpstreamSpend(upstream: string, day: string, micros: number): Promise<number> {
    const key = this.key('upstream-spend', `${upstream}:${day}`);
    const [[, total]] = (await this.call("add to an upstream's spend", (c) => c.multi().incrby(key, micros).expire(key, SPEND_KEEP_SECONDS).exec())) as [
      [unknown, number],
    ];
    return Number(total);
  }

  async upstreamSpend(upstream: string, day: string): Promise<number> {
    return Number((await this.call("read an upstream's spend", (c) => c.get(this.key('upstream-spend', `${upstream}:${day}`)))) ?? 0);
  }

  /** The desk of tasks waiting for a person, shared by every node on this Redis. */
  openDesk(): HumanDesk {
    return new RedisDesk({
      prefix: this.p,
      script: (name, keys, args) => this.script(name, keys, args),
      call: (what, body) => this.call(what, body),
      subscriber: () => {
        const subscriber = this.client.duplicate({ enableOfflineQueue: true });
        subscriber.on('error', () => {});
        return subscriber;
      },
    });
  }

  // ---- tasks ----------------------------------------------------------------------------------

  newTaskId(): string {
    return newTaskId();
  }

  /**
   * Admissions are batched: those that arrive in one turn of the event loop go to Redis as one
   * script call (admit-tasks.lua), in order. One call per submit cost a write to Redis's socket
   * (hence a wake-up of Redis), a script run and a reply each; shared, they cost those once.
   */
  admitTask(task: NewTask, threads: number, now: number): Promise<AdmitOutcome> {
    return new Promise((resolve, reject) => {
      this.admissions.push({ task, threads, now, resolve, reject });
      if (this.admissions.length === 1) setImmediate(() => this.admitBatch());
    });
  }

  private admitBatch(): void {
    const batch = this.admissions;
    this.admissions = [];
    for (let from = 0; from < batch.length; from += ADMISSIONS_PER_CALL) void this.admitSome(batch.slice(from, from + ADMISSIONS_PER_CALL));
  }

  private async admitSome(batch: readonly Admission[]): Promise<void> {
    let replies: [string, string?][];
    try {
      const keys: string[] = [this.key('deadlines')];
      const args: Arg[] = [this.p, batch.length];
      for (const { task, threads, now } of batch) {
        const idem = task.idempotencyKey === undefined ? undefined : this.key('idem', `${task.accountId}:${task.idempotencyKey}`);
        const fields: Arg[] = [];
        if (task.proxy) fields.push('proxy', encodeJson(task.proxy));
        if (task.pingback !== undefined) fields.push('pingback', task.pingback);
        if (task.softId !== undefined) fields.push('soft', task.softId);
        if (idem !== undefined) fields.push('idem', idem);
        keys.push(this.key('task', task.id), this.key('busy', task.accountId), this.key('queue', task.spec.type), idem ?? this.key('idem-none'));
        const ttl = Math.max(1, task.deadlineAt - now) + GRACE_MS;
        args.push(now, threads, task.id, task.spec.type, task.createdAt, task.deadlineAt, ttl, idem === undefined ? 0 : 1);
        args.push(task.accountId, encodeJson(task.spec), fields.length, ...fields);
      }
      replies = (await this.script('admit-tasks', keys, args)) as [string, string?][];
    } catch (err) {
      // Every admission of the batch is answered, whatever failed.
      for (const { reject } of batch) reject(err);
      return;
    }
    for (const [i, { resolve }] of batch.entries()) resolve(admitOutcome(replies[i] ?? ['duplicate-id']));
  }

  /**
   * A task's view while Redis reports every change to it (the tracker's reader read it), checked
   * against its deadline and result expiry as a read from Redis would be: the poll's fast path.
   */
  peekTask(accountId: number, id: string, now: number): TaskView | undefined {
    return this.tracker.live ? this.tasks.peek(accountId, id, now) : undefined;
  }

  async getTasks(accountId: number, ids: readonly string[], now: number): Promise<Map<string, TaskView>> {
    const found = new Map<string, TaskView>();
    const unread: string[] = [];
    for (const id of ids) {
      const cached = this.peekTask(accountId, id, now);
      if (cached) found.set(id, cached);
      else unread.push(id);
    }
    if (unread.length === 0) return found;
    // Read on the tracker's reader, so that Redis reports a change to any of these tasks. Plain
    // commands, not a pipeline of their own: auto-pipelining sends the reads of every poll that
    // arrived in one turn of the event loop in one write (a pipeline per poll was a write, and a
    // wake-up of Redis, per poll).
    const tracked = this.tracker.live;
    const changes = this.tracker.changes;
    const rows = await this.call('read tasks', (c) =>
      Promise.all(
        unread.map((id) =>
          (tracked ? this.tracker.reader : c).hmget(
            this.key('task', id),
            'account',
            'type',
            'state',
            'deadline',
            'solution',
            'error',
            'price',
            'expires',
            'created',
            'attempts',
          ),
        ),
      ),
    );
    // A change reported while these reads were on their way may be newer than what they read.
    const cacheable = tracked && this.tracker.live && changes === this.tracker.changes;
    rows.forEach((row, i) => {
      const [account, type, state, deadline, solution, error, price, expires, created, attempts] = row;
      if (typeof account !== 'string' || Number(account) !== accountId) return;
      if (typeof expires === 'string' && Number(expires) <= now) return;
      const id = unread[i]!;
      const times = { createdAt: Number(created), attempts: Number(attempts ?? 0) };
      const unfinished = state === 'queued' || state === 'active';
      if (unfinished && Number(deadline) <= now) {
        found.set(id, { id, type: type as TaskType, state: 'failed', errorCode: OVERDUE_CODE, ...times });
        return;
      }
      const view: TaskView = {
        id,
        type: type as TaskType,
        state: state as TaskState,
        ...(typeof solution === 'string' ? { solution: decodeJson<Solution>(solution) } : {}),
        ...(typeof error === 'string' ? { errorCode: error } : {}),
        ...(typeof price === 'string' ? { priceMicros: Number(price) } : {}),
        ...times,
        ...(typeof expires === 'string' ? { expiresAt: Number(expires) } : {}),
      };
      found.set(id, view);
      if (cacheable) this.tasks.remember(accountId, view, Number(deadline), typeof expires === 'string' ? Number(expires) : undefined);
    });
    return found;
  }

  async leaseTask(types: readonly TaskType[], now: number, leaseMs: number): Promise<LeasedTask | undefined> {
    if (types.length === 0) return undefined;
    const leaseId = randomUUID();
    const row = (await this.script('lease-task', [this.key('active'), ...types.map((t) => this.key('queue', t))], [this.p, now, leaseId, leaseMs])) as
      | (string | null)[]
      | null;
    if (!row) return undefined;
    const [id, account, spec, proxy, pingback, attempts, deadline] = row;
    return {
      id: String(id),
      leaseId,
      accountId: Number(account),
      spec: decodeJson<TaskSpec>(String(spec)),
      ...(proxy ? { proxy: decodeJson<Proxy>(proxy) } : {}),
      ...(pingback ? { pingback } : {}),
      attempt: Number(attempts),
      deadlineAt: Number(deadline),
    };
  }

  async renewLease(lease: LeaseRef, now: number, leaseMs: number): Promise<boolean> {
    return (await this.script('renew-lease', [this.key('task', lease.id), this.key('active')], [lease.id, lease.leaseId, now + leaseMs])) === 1;
  }

  async completeTask(lease: LeaseRef, { solution, priceMicros, expiresAt, solver }: Completion, now: number): Promise<boolean> {
    return this.finish(lease, 'solved', encodeJson(solution), priceMicros, now, expiresAt, solver);
  }

  async failTask(lease: LeaseRef, outcome: { code: string; expiresAt: number; solver?: string } | { retryAt: number }, now: number): Promise<FailOutcome> {
    if ('retryAt' in outcome) {
      const requeued = await this.script(
        'requeue-task',
        [this.key('task', lease.id), this.key('active')],
        [this.p, lease.id, lease.leaseId, outcome.retryAt, 0],
      );
      return requeued === 1 ? 'requeued' : 'lease-lost';
    }
    return (await this.finish(lease, 'failed', outcome.code, 0, now, outcome.expiresAt, outcome.solver ?? '')) ? 'failed' : 'lease-lost';
  }

  private async finish(
    lease: LeaseRef,
    state: 'solved' | 'failed',
    outcome: string,
    priceMicros: number,
    now: number,
    expiresAt: number,
    solver: string,
  ): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - now) + GRACE_MS;
    const done = await this.script(
      'finish-task',
      [this.key('task', lease.id), this.key('active'), this.key('deadlines'), this.key('expiring'), this.key('solvers')],
      [this.p, lease.id, lease.leaseId, state, outcome, priceMicros, expiresAt, solver, ttl],
    );
    // This node's own change applies to its cache at once, not when Redis's report arrives.
    this.tasks.forget(lease.id);
    return done === 1;
  }

  async releaseTask(lease: LeaseRef): Promise<void> {
    await this.script('requeue-task', [this.key('task', lease.id), this.key('active')], [this.p, lease.id, lease.leaseId, '', 1]);
  }

  async recoverInFlight(): Promise<number> {
    return Number(await this.script('recover-in-flight', [this.key('active')], [this.p]));
  }

  async recordReport(accountId: number, id: string, verdict: 'good' | 'bad', now: number): Promise<ReportOutcome> {
    return (await this.script('record-report', [this.key('task', id)], [this.p, accountId, verdict, now])) as ReportOutcome;
  }

  // ---- solver statistics ----------------------------------------------------------------------

  async recordDecline(solver: string): Promise<void> {
    await this.call('count a decline', (c) => c.multi().hincrby(this.key('stats', solver), 'declined', 1).sadd(this.key('solvers'), solver).exec());
  }

  async solverStats(): Promise<SolverStats[]> {
    return this.call('read solver statistics', async (c) => {
      const solvers = (await c.smembers(this.key('solvers'))).sort();
      const rows = await Promise.all(
        solvers.map((s) => c.hmget(this.key('stats', s), 'solved', 'failed', 'declined', 'reportedGood', 'reportedBad', 'chargedMicros')),
      );
      return solvers.map((solver, i) => {
        const [solved, failed, declined, good, bad, charged] = rows[i]!.map((v) => Number(v ?? 0));
        return { solver, solved: solved!, failed: failed!, declined: declined!, reportedGood: good!, reportedBad: bad!, chargedMicros: charged! };
      });
    });
  }

  // ---- marks ----------------------------------------------------------------------------------

  async markBad(mark: Mark, until: number, now: number): Promise<void> {
    const { kind, key } = markKey(mark);
    const ttl = Math.max(1, until - now) + GRACE_MS;
    await this.script('mark-bad', [this.key('mark', `${kind}:${key}`), this.key('marks')], [`${kind}:${key}`, until, ttl]);
    // Read again next time, rather than when Redis's report of this change arrives.
    this.marks.delete(`${kind}:${key}`);
  }

  /** A submit's check: cached while Redis reports every change to marks (a token submit then costs one round trip). */
  async isMarkedBad(mark: Mark, now: number): Promise<boolean> {
    const { kind, key } = markKey(mark);
    const name = `${kind}:${key}`;
    const cached = this.tracker.live ? this.marks.get(name) : undefined;
    if (cached !== undefined) return cached > now;
    const changes = this.tracker.changes;
    const stored = await this.call('read marks', (c) => c.get(this.key('mark', name)));
    const until = stored === null ? 0 : Number(stored);
    // A change reported while this read was on its way may be newer than what it read.
    if (this.tracker.live && changes === this.tracker.changes) this.marks.set(name, until);
    return until > now;
  }

  // ---- housekeeping ---------------------------------------------------------------------------

  async sweep(now: number, policy: SweepPolicy): Promise<SweepResult> {
    const [overdue, expired, stalled, unmarked] = (await this.script(
      'sweep',
      [this.key('deadlines'), this.key('active'), this.key('expiring'), this.key('marks')],
      [this.p, now, policy.resultTtlMs, SWEEP_LIMIT, OVERDUE_CODE, GRACE_MS],
    )) as [number, number, number, number];
    // This node's own changes apply to its cache at once, not when Redis's report arrives.
    if (unmarked > 0) this.marks.clear();
    return { overdue, expired, stalled };
  }

  async ping(): Promise<void> {
    await this.call('answer a ping', (c) => c.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.finishedSubscriber?.disconnect();
    this.tracker.close();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private key(...parts: (string | number)[]): string {
    return this.p + parts.join(':');
  }

  private script(name: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return this.call(`run ${name}`, (c) => (c as unknown as Record<string, ScriptCommand>)[commandName(name)]!(keys.length, ...keys, ...args));
  }

  /** Runs a command; any client or server error becomes a StorageError naming the operation only. */
  private async call<T>(what: string, body: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await body(this.client);
    } catch (err) {
      throw new StorageError(`Redis could not ${what}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
  }
}

interface Admission {
  readonly task: NewTask;
  readonly threads: number;
  readonly now: number;
  resolve(outcome: AdmitOutcome): void;
  reject(err: unknown): void;
}

/** One task's reply of admit-tasks.lua. */
function admitOutcome(reply: [string, string?]): AdmitOutcome {
  switch (reply[0]) {
    case 'admitted':
      return { kind: 'admitted' };
    case 'replayed':
      return { kind: 'replayed', id: String(reply[1]) };
    case 'no-free-thread':
      return { kind: 'no-free-thread' };
    default:
      return { kind: 'duplicate-id' };
  }
}

function clientOptions(options: RedisStorageOptions): RedisOptions {
  return {
    lazyConnect: true,
    // Fail fast while disconnected: a request must get ERROR_SERVER_ERROR now, not hang in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    // Reconnect forever, backing off to one attempt a second: a node recovers by itself.
    retryStrategy: (times) => Math.min(50 * times, 1000),
    enableAutoPipelining: true,
  };
}

function commandName(script: ScriptName): string {
  return `solvebox_${script.replace(/-/g, '_')}`;
}

function accountOf(id: number, row: readonly (string | null)[]): Account {
  const [hint, threads, balance, proxies, disabled, created, keyHash] = row;
  return {
    id,
    keyHint: String(hint),
    keyHash: keyHash ?? '',
    threads: Number(threads),
    balanceMicros: Number(balance),
    proxiesAllowed: proxies === '1',
    disabled: disabled === '1',
    createdAt: Number(created),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
