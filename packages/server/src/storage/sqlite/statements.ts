/**
 * Every SQL statement of the SQLite adapter, prepared once per connection. The transitions and
 * the batching that use them are in index.ts; the tables are in schema.ts.
 */
import type Database from 'better-sqlite3';
import { OVERDUE_CODE } from '../shared.js';

const ACCOUNT_COLUMNS = 'id, key_hint, key_hash, threads, balance_micros, proxies_allowed, disabled, created_at';

type Statement = Database.Statement;

/** Named so that the module's declarations can name them: one per query. */
export interface Statements {
  readonly insertAccount: Statement;
  readonly accountByHash: Statement;
  readonly accountById: Statement;
  readonly listAccounts: Statement;
  readonly setDisabled: Statement;
  readonly debit: Statement;
  readonly banUntil: Statement;
  readonly insertFailure: Statement;
  readonly countFailures: Statement;
  readonly clearFailures: Statement;
  readonly upsertBan: Statement;
  readonly taskByIdempotencyKey: Statement;
  readonly deleteTask: Statement;
  readonly busyThreads: Statement;
  readonly insertTask: Statement;
  readonly insertSpec: Statement;
  readonly specOf: Statement;
  readonly insertBlobs: Statement;
  readonly imageOf: Statement;
  readonly oldestImageSegment: Statement;
  readonly imageRecords: Statement;
  readonly blobsOf: Statement;
  readonly getTask: Statement;
  readonly complete: Statement;
  readonly fail: Statement;
  readonly requeue: Statement;
  readonly release: Statement;
  readonly recover: Statement;
  readonly renew: Statement;
  readonly requeueStalled: Statement;
  readonly reportState: Statement;
  readonly setReport: Statement;
  readonly countStat: Readonly<Record<'solved' | 'failed' | 'good' | 'bad' | 'declined', Statement>>;
  readonly solverStats: Statement;
  readonly markBad: Statement;
  readonly markUntil: Statement;
  readonly failOverdue: Statement;
  readonly deleteExpired: Statement;
  readonly deleteFailures: Statement;
  readonly deleteBans: Statement;
  readonly deleteMarks: Statement;
}

export function prepareStatements(db: Database.Database): Statements {
  const prepare = (sql: string): Statement => db.prepare(sql);
  return {
    insertAccount: prepare(
      `INSERT INTO accounts (key_hash, key_hint, threads, balance_micros, proxies_allowed, created_at)
       VALUES (@keyHash, @keyHint, @threads, @balanceMicros, @proxiesAllowed, @createdAt) RETURNING ${ACCOUNT_COLUMNS}`,
    ),
    accountByHash: prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE key_hash = ?`),
    accountById: prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`),
    listAccounts: prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY id`),
    setDisabled: prepare('UPDATE accounts SET disabled = ? WHERE id = ?'),
    debit: prepare('UPDATE accounts SET balance_micros = balance_micros - ? WHERE id = ?'),

    banUntil: prepare('SELECT until FROM bans WHERE ip = ? AND until > ?'),
    insertFailure: prepare('INSERT INTO auth_failures (ip, at) VALUES (?, ?)'),
    countFailures: prepare('SELECT count(*) AS n FROM auth_failures WHERE ip = ? AND at > ?'),
    clearFailures: prepare('DELETE FROM auth_failures WHERE ip = ?'),
    upsertBan: prepare('INSERT INTO bans (ip, until) VALUES (?, ?) ON CONFLICT (ip) DO UPDATE SET until = excluded.until'),

    // A task whose result expired may still be in the table until the next sweep; its key is free
    // again, so admission deletes that row rather than replaying it.
    taskByIdempotencyKey: prepare('SELECT id, expires_at FROM tasks WHERE account_id = ? AND idempotency_key = ?'),
    deleteTask: prepare('DELETE FROM tasks WHERE id = ?'),
    // Counts no further than the limit: an account whose threads are all busy costs `threads`
    // index steps, not as many as it has unfinished tasks.
    busyThreads: prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM tasks WHERE account_id = ? AND state IN ('queued', 'active') AND deadline_at > ? LIMIT ?)`),
    insertTask: prepare(
      `INSERT INTO tasks (id, account_id, type, state, spec, proxy, pingback, soft_id, idempotency_key, available_at, deadline_at, created_at,
         image_segment, image_at, image_length)
       VALUES (@id, @accountId, @type, 'queued', @spec, @proxy, @pingback, @softId, @idempotencyKey, @createdAt, @deadlineAt, @createdAt,
         @imageSegment, @imageAt, @imageLength)`,
    ),
    insertSpec: prepare('INSERT INTO task_specs (task_id, spec) VALUES (?, ?)'),
    specOf: prepare('SELECT spec FROM task_specs WHERE task_id = ?').pluck(),
    insertBlobs: prepare('INSERT INTO task_blobs (task_id, bytes) VALUES (?, ?)'),
    blobsOf: prepare('SELECT bytes FROM task_blobs WHERE task_id = ?').pluck(),
    imageOf: prepare('SELECT image_segment AS segment, image_at AS at, image_length AS length FROM tasks WHERE id = ?'),
    oldestImageSegment: prepare('SELECT min(image_segment) FROM tasks WHERE image_segment IS NOT NULL').pluck(),
    imageRecords: prepare('SELECT id, image_segment AS segment, image_at AS at, image_length AS length FROM tasks WHERE image_segment IS NOT NULL'),
    getTask: prepare(
      `SELECT id, type, state, created_at, attempts, deadline_at, expires_at, solution, error_code, price_micros FROM tasks
       WHERE id = ? AND account_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    complete: prepare(
      `UPDATE tasks SET state = 'solved', solution = ?, price_micros = ?, expires_at = ?, solver = ?, lease_id = NULL, lease_until = NULL
       WHERE id = ? AND state = 'active' AND lease_id = ? RETURNING account_id, type, created_at, attempts, deadline_at`,
    ),
    fail: prepare(
      `UPDATE tasks SET state = 'failed', error_code = ?, expires_at = ?, solver = ?, lease_id = NULL, lease_until = NULL
       WHERE id = ? AND state = 'active' AND lease_id = ? RETURNING account_id, type, created_at, attempts, deadline_at`,
    ),
    requeue: prepare(
      `UPDATE tasks SET state = 'queued', available_at = ?, lease_id = NULL, lease_until = NULL WHERE id = ? AND state = 'active' AND lease_id = ?`,
    ),
    release: prepare(
      `UPDATE tasks SET state = 'queued', attempts = attempts - 1, lease_id = NULL, lease_until = NULL WHERE id = ? AND state = 'active' AND lease_id = ?`,
    ),
    recover: prepare(`UPDATE tasks SET state = 'queued', lease_id = NULL, lease_until = NULL WHERE state = 'active'`),
    renew: prepare(`UPDATE tasks SET lease_until = ? WHERE id = ? AND state = 'active' AND lease_id = ?`),
    requeueStalled: prepare(
      `UPDATE tasks SET state = 'queued', lease_id = NULL, lease_until = NULL WHERE state = 'active' AND lease_until <= @now AND deadline_at > @now RETURNING id`,
    ),
    reportState: prepare('SELECT state, report, solver FROM tasks WHERE id = ? AND account_id = ? AND (expires_at IS NULL OR expires_at > ?)'),
    setReport: prepare('UPDATE tasks SET report = ? WHERE id = ?'),
    countStat: {
      solved: prepare(
        'INSERT INTO solver_stats (solver, solved, charged_micros) VALUES (?, 1, ?) ON CONFLICT (solver) DO UPDATE SET solved = solved + 1, charged_micros = charged_micros + excluded.charged_micros',
      ),
      failed: prepare('INSERT INTO solver_stats (solver, failed) VALUES (?, 1) ON CONFLICT (solver) DO UPDATE SET failed = failed + 1'),
      good: prepare('INSERT INTO solver_stats (solver, reported_good) VALUES (?, 1) ON CONFLICT (solver) DO UPDATE SET reported_good = reported_good + 1'),
      bad: prepare('INSERT INTO solver_stats (solver, reported_bad) VALUES (?, 1) ON CONFLICT (solver) DO UPDATE SET reported_bad = reported_bad + 1'),
      declined: prepare('INSERT INTO solver_stats (solver, declined) VALUES (?, 1) ON CONFLICT (solver) DO UPDATE SET declined = declined + 1'),
    },
    solverStats: prepare('SELECT solver, solved, failed, declined, reported_good, reported_bad, charged_micros FROM solver_stats ORDER BY solver'),

    markBad: prepare('INSERT INTO marks (kind, key, until) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET until = excluded.until'),
    markUntil: prepare('SELECT until FROM marks WHERE kind = ? AND key = ?').pluck(),

    // At most @limit rows a call (index order): the sweep goes chunk by chunk, letting requests in between.
    failOverdue: prepare(
      `UPDATE tasks SET state = 'failed', error_code = '${OVERDUE_CODE}', expires_at = deadline_at + @ttl, lease_id = NULL, lease_until = NULL
       WHERE id IN (SELECT id FROM tasks WHERE state IN ('queued', 'active') AND deadline_at <= @now LIMIT @limit) RETURNING id`,
    ),
    deleteExpired: prepare(
      'DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= @now LIMIT @limit) RETURNING id',
    ),
    deleteFailures: prepare('DELETE FROM auth_failures WHERE at <= ?'),
    deleteBans: prepare('DELETE FROM bans WHERE until <= ?'),
    deleteMarks: prepare('DELETE FROM marks WHERE until <= ?'),
  };
}
