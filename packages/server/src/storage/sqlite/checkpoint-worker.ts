/**
 * The checkpointer's thread (checkpointer.ts): a connection of its own that copies the write-ahead
 * log into the database file with passive checkpoints, which never wait for the committing
 * connection and never make it wait. Each result goes back to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointSetup {
  readonly file: string;
  readonly intervalMs: number;
  /** Past this many frames in the log, checkpoint sooner than every `intervalMs`. */
  readonly catchUpPages: number;
}

/** What `PRAGMA wal_checkpoint` answers: frames in the log, and how many of them are now in the database file. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

const { file, intervalMs, catchUpPages } = workerData as CheckpointSetup;
const db = new Database(file);
// Passive checkpoints take no lock that a writer holds; nothing here should wait.
db.pragma('busy_timeout = 0');
/** While the log is long, passes come this many times as often (each also syncs the database file, so not back to back). */
const BEHIND_SPEEDUP = 4;
let timer: NodeJS.Timeout | undefined;
/**
 * One passive checkpoint, then the next: after `intervalMs`, or sooner while the log is long, so
 * that a pass soon falls between two commits, copies everything, and the log restarts
 * (checkpointer.ts).
 */
function pass(): void {
  let log = 0;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (result) {
      log = result.log;
      parentPort?.postMessage(result);
    }
  } catch {
    // Busy or locked now (another process checkpointing, a migration): the next turn tries again.
  }
  timer = setTimeout(pass, log > catchUpPages ? intervalMs / BEHIND_SPEEDUP : intervalMs);
}
timer = setTimeout(pass, intervalMs);
parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort?.close();
});
