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
}

/** What `PRAGMA wal_checkpoint` answers: frames in the log, and how many of them are now in the database file. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

const { file, intervalMs } = workerData as CheckpointSetup;
const db = new Database(file);
// Passive checkpoints take no lock that a writer holds; nothing here should wait.
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (result) parentPort?.postMessage(result);
  } catch {
    // Busy or locked now (another process checkpointing, a migration): the next turn tries again.
  }
}, intervalMs);
parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
