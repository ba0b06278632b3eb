/**
 * Schema migrations, applied in order; PRAGMA user_version records how many ran. Append new
 * migrations, never edit a released one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    key_hash        TEXT    NOT NULL UNIQUE,
    key_hint        TEXT    NOT NULL,
    threads         INTEGER NOT NULL,
    balance_micros  INTEGER NOT NULL,
    proxies_allowed INTEGER NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
  );

  CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL,
    type          TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'active', 'solved', 'failed')),
    spec          TEXT    NOT NULL,
    proxy         TEXT,
    pingback      TEXT,
    soft_id       INTEGER,
    idempotency_key TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  INTEGER NOT NULL,
    deadline_at   INTEGER NOT NULL,
    lease_id      TEXT,
    solution      TEXT,
    error_code    TEXT,
    price_micros  INTEGER,
    report        TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER
  );
  -- Threads in use per account, and the deadline sweep: only unfinished tasks.
  CREATE INDEX tasks_unfinished ON tasks (account_id, deadline_at) WHERE state IN ('queued', 'active');
  CREATE INDEX tasks_deadline ON tasks (deadline_at) WHERE state IN ('queued', 'active');
  -- The queue: oldest due task per type.
  CREATE INDEX tasks_queue ON tasks (type, available_at) WHERE state = 'queued';
  CREATE INDEX tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
  CREATE UNIQUE INDEX tasks_idempotency ON tasks (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

  CREATE TABLE auth_failures (
    ip TEXT    NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX auth_failures_ip ON auth_failures (ip, at);

  CREATE TABLE bans (
    ip    TEXT    PRIMARY KEY,
    until INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE marks (
    kind  TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
  `,
  `
  -- 2: which solver answered each task, and lifetime counts per solver (tasks expire; counts stay).
  ALTER TABLE tasks ADD COLUMN solver TEXT;
  CREATE TABLE solver_stats (
    solver        TEXT    PRIMARY KEY,
    solved        INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    reported_good INTEGER NOT NULL DEFAULT 0,
    reported_bad  INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
  `
  -- 3: declines per solver (the OCR model doubted its reading), answered by a fallback or not.
  ALTER TABLE solver_stats ADD COLUMN declined INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- 4: leases run out unless renewed, so that a task whose worker died goes back to the queue.
  ALTER TABLE tasks ADD COLUMN lease_until INTEGER;
  CREATE INDEX tasks_leases ON tasks (lease_until) WHERE state = 'active';
  `,
  `
  -- 5: large specs (an image task's carries the image) in a table of their own, written once; the
  -- task's own spec is then ''. SQLite rewrites a whole row on every update, so inline, each
  -- change of a task's state (leased, solved, failed, overdue) rewrote a 10 kB image too. Small
  -- specs stay inline: a second row per task would cost token submits a second random page write.
  CREATE TABLE task_specs (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    spec    TEXT    NOT NULL
  );
  `,
  `
  -- 6: the console's operators, and the append-only audit log of admin actions.
  CREATE TABLE operators (
    name          TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'solver')),
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT
  );
  CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  `
  -- 7: confirmed answers of image tasks, kept to adapt the OCR model (solvebox ocr adapt); the image as bytes.
  CREATE TABLE samples (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    image        BLOB    NOT NULL,
    hints        TEXT    NOT NULL,
    answer       TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    answered_by  TEXT    NOT NULL,
    at           INTEGER NOT NULL
  );
  `,
  `
  -- 8: the relay backend. Each relayed task's ticket (which upstream has it, under which id),
  -- written before the first poll so that a restart resumes polling rather than submitting again;
  -- it goes with the task. And what each upstream cost per UTC day, for daily budgets.
  CREATE TABLE relay_tickets (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    ticket  TEXT    NOT NULL
  );
  ALTER TABLE solver_stats ADD COLUMN charged_micros INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE upstream_spend (
    upstream TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    micros   INTEGER NOT NULL,
    PRIMARY KEY (upstream, day)
  ) WITHOUT ROWID;
  `,
  `
  -- 9: tasks are stored under sequential keys and published as keyed permutations of them
  -- (identity.ts, TaskIdCipher; task-ids.ts): inserts append to the table's last page instead of
  -- landing on a random one. The permutation's secret and the sequence's high-water mark live here.
  -- Tasks made before keep their random ids as keys (all at or above 10^15; sequence keys stay below).
  CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- 10: images as they came, not base64 inside the spec's JSON: a task with images keeps a small
  -- spec inline, each image replaced by {"$blob": n} (codec.ts), and the images here, packed.
  -- Specs written before stay where they are (inline, or in task_specs) and read as before.
  CREATE TABLE task_blobs (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    bytes   BLOB    NOT NULL
  );
  `,
  `
  -- 11: images in segment files beside the database (image-log.ts), written once instead of
  -- twice: a task's record is bytes image_at to image_at + image_length of segment image_segment.
  -- Tasks stored before keep their images in task_blobs; an in-memory database keeps using it.
  -- The index finds the oldest segment still in use, below which segments are deleted.
  ALTER TABLE tasks ADD COLUMN image_segment INTEGER;
  ALTER TABLE tasks ADD COLUMN image_at INTEGER;
  ALTER TABLE tasks ADD COLUMN image_length INTEGER;
  CREATE INDEX tasks_image_segment ON tasks (image_segment) WHERE image_segment IS NOT NULL;
  `,
];
