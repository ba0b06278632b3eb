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
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

/**
 * fsyncs at once. One at a time, a group waits for the one before it and then for the event loop
 * to notice that it ended, which under load took 4 ms for a 0.4 ms fsync; with two, writes that
 * arrive meanwhile start their own at once.
 */
const MAX_IN_FLIGHT = 2;

interface Waiter {
  /** The writes this flush acknowledges, for the counts. */
  readonly writes: number;
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupSync {
  private waiting: Waiter[] = [];
  private inFlight = 0;
  /** The WAL, kept open: one trip to the thread pool per fsync, not three (open, sync, close). */
  private fd: number | undefined;
  private inode = 0;
  /** fsyncs done, and writes they covered: how well grouping works, for benchmarks. */
  readonly counts = { syncs: 0, writes: 0 };

  /** `alsoSync`: files written beside the WAL (the image log), made durable with each group. */
  constructor(
    private readonly walFile: string,
    private readonly alsoSync?: () => Promise<void>,
  ) {}

  /** Resolves once every commit made before this call is on disk; `writes` is how many it acknowledges. */
  flush(writes = 1): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ writes, resolve, reject });
      this.pump();
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      this.inFlight++;
      void this.sync(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** One fsync, started after every commit of the group: it covers them all. */
  private async sync(group: readonly Waiter[]): Promise<void> {
    try {
      const fd = this.currentFd();
      await Promise.all([
        fd === undefined ? undefined : new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
        this.alsoSync?.(),
      ]);
      this.counts.syncs += 1;
      for (const waiter of group) this.counts.writes += waiter.writes;
      for (const waiter of group) waiter.resolve();
    } catch (err) {
      for (const waiter of group) waiter.reject(err);
    }
  }

  /**
   * The open WAL, reopened when the file at its path is another one: SQLite may delete and
   * recreate the WAL, and an fsync of a stale descriptor would silently cover nothing. Undefined
   * when there is no WAL: everything was checkpointed into the database file, which SQLite synced.
   */
  private currentFd(): number | undefined {
    let inode: number;
    try {
      inode = statSync(this.walFile).ino;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (this.fd === undefined || inode !== this.inode) {
      this.close();
      this.fd = openSync(this.walFile, 'r+');
      this.inode = fstatSync(this.fd).ino;
    }
    return this.fd;
  }
}
