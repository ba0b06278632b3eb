/**
 * Checkpoints off the committing thread. SQLite's automatic checkpoint runs inside the commit that
 * crosses the threshold: copying the write-ahead log into the database file and syncing it held
 * the event loop for 150 ms every 10 000 pages, the submit p99. With auto-checkpoint off, a worker
 * thread runs passive checkpoints on its own connection (checkpoint-worker.ts) while this thread
 * goes on committing.
 *
 * A passive checkpoint copies the frames that were there when it began; under steady writes new
 * ones arrive meanwhile, and SQLite restarts the log from its beginning only when a write finds
 * every frame copied, so the log would grow without end. When the log is past `catchUpPages`, the
 * worker checkpoints again and again, each pass copying what arrived during the one before, until
 * a pass falls between two commits and leaves nothing behind: the next commit restarts the log.
 * Should writes outrun the worker, this thread copies the rest itself, between two commits, once
 * the log is four times too long. (It did so at `catchUpPages`, which cost it the copy and the
 * database file's fsync: with 10 kB images, 8 µs of every submit and stalls of the event loop.)
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { CheckpointResult, CheckpointSetup } from './checkpoint-worker.js';

/** A log this many times `catchUpPages` long is one the worker does not catch up with alone. */
const OUTRUN_FACTOR = 4;
const WORKER_URL = new URL('./checkpoint-worker.js', import.meta.url);

export interface CheckpointerOptions {
  readonly file: string;
  /** @defaultValue 200 */
  readonly intervalMs?: number;
  /** @defaultValue 4000 (16 MB of 4 kB pages) */
  readonly catchUpPages?: number;
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Passive checkpoints done on the worker, and catch-ups done here: for /health. */
  readonly counts = { checkpoints: 0, catchUps: 0, lastLogPages: 0 };

  constructor(
    private readonly db: Database.Database,
    options: CheckpointerOptions,
  ) {
    const catchUpPages = options.catchUpPages ?? 4000;
    const setup: CheckpointSetup = { file: options.file, intervalMs: options.intervalMs ?? 200, catchUpPages };
    this.worker = new Worker(WORKER_URL, { workerData: setup });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (result: CheckpointResult) => {
      this.counts.checkpoints++;
      this.counts.lastLogPages = result.log;
      if (result.log > OUTRUN_FACTOR * catchUpPages && this.db.open) {
        this.counts.catchUps++;
        try {
          this.db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // The next result asks again.
        }
      }
    });
    // A worker that fails leaves the log to grow until close; the main connection's close checkpoints it.
    this.worker.on('error', () => {});
  }

  async close(): Promise<void> {
    // Unreferenced so that it never keeps a process alive; waited for here so that its connection
    // is closed before the main one, which then checkpoints the rest and removes the log.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
