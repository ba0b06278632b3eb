/**
 * Group commit for SQLite in WAL mode. Commits run with `synchronous=NORMAL`, which writes the WAL
 * without an fsync; a write that must be durable before it is acknowledged then waits here for one
 * `fdatasync` of the WAL file. Every commit that finished before that fsync began is covered by
 * it, so under load one fsync acknowledges a whole group of writes, and it runs on libuv's thread
 * pool, so the event loop keeps serving requests while the disk works.
 *
 * The guarantee equals `synchronous=FULL` (committed WAL frames are on disk before the answer);
 * checkpoints are unchanged: in NORMAL mode SQLite syncs the WAL before and the database after each.
 */
import { open } from 'node:fs/promises';

interface Waiter {
  /** The writes this flush acknowledges, for the counts. */
  readonly writes: number;
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;
  /** fsyncs done, and writes they covered: how well grouping works, for benchmarks. */
  readonly counts = { syncs: 0, writes: 0 };

  constructor(private readonly walFile: string) {}

  /** Resolves once every commit made before this call is on disk; `writes` is how many it acknowledges. */
  flush(writes = 1): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ writes, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      try {
        await syncFile(this.walFile);
        this.counts.syncs += 1;
        for (const waiter of group) this.counts.writes += waiter.writes;
        for (const waiter of group) waiter.resolve();
      } catch (err) {
        for (const waiter of group) waiter.reject(err);
      }
    }
    this.running = false;
  }
}

/**
 * Opens the file afresh each time rather than keeping a descriptor: SQLite may delete and recreate
 * the WAL, and an fsync of a stale descriptor would silently cover nothing.
 */
async function syncFile(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'r+');
  } catch (err) {
    // No WAL: everything was checkpointed into the database file, which SQLite synced itself.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
