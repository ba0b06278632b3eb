/**
 * Task images outside SQLite: append-only segment files in a folder beside the database
 * (`<file>-images/00000001.images`, …), each task's images one record, its place in the task's row.
 *
 * Why: in SQLite a 10 kB image is written twice (the WAL, then the checkpoint into the database
 * file), a page at a time, with b-tree work on overflow pages in between; that cost a submit about
 * 90 µs of the server thread, more than everything else it does. Here a batch of admissions
 * writes its images with one `writev`, once.
 *
 * Durability is the WAL's: the images of a batch are written before its transaction commits, and
 * the group commit (GroupSync) fsyncs the segments written since its last fsync together with the
 * WAL, so `OK|id` still means the task, image and all, is on disk. After a crash, a task may be in
 * the database while its image never reached the disk; such a task was never acknowledged, and
 * opening the store deletes it (SqliteStorage: `dropTornImages`).
 *
 * Segments are never rewritten. A new one starts at SEGMENT_BYTES and with the first image after
 * every start; one is deleted once no task refers to it (the sweep calls `deleteBelow`).
 */
import { closeSync, fdatasync, fstatSync, fsync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';

export interface ImageRef {
  readonly segment: number;
  /** Byte offset of the record in its segment. */
  readonly at: number;
  readonly length: number;
}

/** A segment grows to about this size before the next one starts. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;
/** The kernel's page: the unit of writeback. */
const PAGE_BYTES = 4096;
const NAME = /^(\d{8})\.images$/;

interface Segment {
  readonly number: number;
  readonly fd: number;
  /** Bytes on file (written), and promised to pending records (size). */
  written: number;
  size: number;
  /** Written since the last fsync began. */
  dirty: boolean;
  /** fsyncs in flight. */
  syncing: number;
}

export class ImageLog {
  private readonly segments = new Map<number, Segment>();
  /** The segment appended to; none until the first image after opening. */
  private current: Segment | undefined;
  private nextNumber: number;
  /** The parts of the records appended since the last `writePending`, in order. */
  private pending: Uint8Array[] = [];
  /** How many of those parts each pending record has, in order. */
  private pendingRecords: number[] = [];
  private readonly dirFd: number;
  /** A segment was created since the last fsync: the folder's entry must reach the disk too. */
  private dirDirty = false;
  /** The latest fsync, which waits for those before it. */
  private synced: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {
    mkdirSync(dir, { recursive: true });
    this.dirFd = openSync(dir, 'r');
    let last = 0;
    for (const name of readdirSync(dir)) {
      const number = Number(NAME.exec(name)?.[1] ?? NaN);
      if (!Number.isInteger(number)) continue;
      const fd = openSync(join(dir, name), 'r+');
      const size = fstatSync(fd).size;
      this.segments.set(number, { number, fd, written: size, size, dirty: false, syncing: 0 });
      last = Math.max(last, number);
    }
    // Segments of earlier runs are never appended to: their tails may be torn.
    this.nextNumber = last + 1;
  }

  /**
   * A segment's size on file now, 0 when there is no such file: what opening the store checks its
   * tasks' records against. Asked of the file, not remembered: another process (the server, while
   * an admin command opens the store) may be appending to it, or have started it since.
   */
  sizeOnFile(number: number): number {
    const segment = this.segments.get(number);
    try {
      return segment ? fstatSync(segment.fd).size : statSync(this.path(number)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** A place for the record made of `parts` (kept, not copied, until written by the next `writePending`). */
  append(parts: readonly Uint8Array[]): ImageRef {
    let length = 0;
    for (const part of parts) length += part.length;
    let current = this.current;
    if (current === undefined || (current.size > 0 && current.size + length > this.segmentBytes)) {
      this.writePending();
      current = this.current = this.create(this.nextNumber++);
    }
    if (this.pendingRecords.length === 0) {
      // Each batch starts on a page of its own: the page before may be under writeback by the
      // last group's fdatasync, and the kernel makes a write into such a page wait for it.
      current.size = current.written = Math.ceil(current.written / PAGE_BYTES) * PAGE_BYTES;
    }
    const ref = { segment: current.number, at: current.size, length };
    this.pending.push(...parts);
    this.pendingRecords.push(parts.length);
    current.size += length;
    return ref;
  }

  /** Takes back the last `append`, whose task was not stored after all. */
  unappend(ref: ImageRef): void {
    const current = this.current;
    const parts = this.pendingRecords.at(-1);
    if (current === undefined || parts === undefined || ref.segment !== current.number || ref.at + ref.length !== current.size) {
      throw new Error('unappend: not the last record');
    }
    this.pending.length -= parts;
    this.pendingRecords.pop();
    current.size -= ref.length;
  }

  /** Writes the pending records, in one call; throws (the batch's transaction then fails) if the disk refuses. */
  writePending(): void {
    const segment = this.current;
    if (this.pendingRecords.length === 0 || segment === undefined) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingRecords = [];
    let expected = 0;
    for (const part of parts) expected += part.length;
    try {
      const done = writevSync(segment.fd, parts, segment.written);
      // A regular file takes a writev whole, short of errors; should it not, the rest goes on.
      if (done < expected) {
        const rest = Buffer.concat(parts).subarray(done);
        for (let at = 0; at < rest.length; ) {
          const written = writeSync(segment.fd, rest, at, rest.length - at, segment.written + done + at);
          if (written === 0) throw new Error('the image log took no bytes');
          at += written;
        }
      }
    } catch (err) {
      segment.size = segment.written;
      throw err;
    }
    segment.written += expected;
    segment.dirty = true;
  }

  /** Forgets the pending records: their batch's transaction failed. */
  discardPending(): void {
    this.pending = [];
    this.pendingRecords = [];
    if (this.current) this.current.size = this.current.written;
  }

  /**
   * Resolves once every record written before this call is on disk: an fdatasync of each segment
   * written since the last call (and of the folder when a segment was created), after the fsyncs
   * still running, which cover what was written before them.
   */
  sync(): Promise<void> {
    const dirty = [...this.segments.values()].filter((s) => s.dirty);
    const work: Promise<void>[] = dirty.map((segment) => {
      segment.dirty = false;
      segment.syncing++;
      return new Promise<void>((resolve, reject) => fdatasync(segment.fd, (err) => (err ? reject(err) : resolve()))).finally(() => segment.syncing--);
    });
    if (this.dirDirty) {
      this.dirDirty = false;
      work.push(new Promise<void>((resolve, reject) => fsync(this.dirFd, (err) => (err ? reject(err) : resolve()))));
    }
    const mine = Promise.all([this.synced, ...work]).then(() => undefined);
    this.synced = mine.catch(() => undefined);
    return mine;
  }

  /** A record's bytes; throws when the segment does not hold them (a storage fault). */
  read(ref: ImageRef): Buffer {
    const segment = this.segments.get(ref.segment);
    if (!segment || ref.at + ref.length > segment.written) throw new Error(`image record ${ref.segment}:${ref.at}+${ref.length} is not on file`);
    const bytes = Buffer.allocUnsafe(ref.length);
    for (let done = 0; done < ref.length; ) {
      const read = readSync(segment.fd, bytes, done, ref.length - done, ref.at + done);
      if (read === 0) throw new Error(`image record ${ref.segment}:${ref.at}+${ref.length} is cut short`);
      done += read;
    }
    return bytes;
  }

  /** Deletes the segments numbered below `oldestInUse` (all but the current one when undefined): no task refers to them. Returns how many. */
  deleteBelow(oldestInUse: number | undefined): number {
    let deleted = 0;
    for (const segment of [...this.segments.values()]) {
      if (segment === this.current || (oldestInUse !== undefined && segment.number >= oldestInUse)) continue;
      if (segment.dirty || segment.syncing > 0) continue;
      closeSync(segment.fd);
      unlinkSync(this.path(segment.number));
      this.segments.delete(segment.number);
      deleted++;
    }
    return deleted;
  }

  close(): void {
    for (const segment of this.segments.values()) closeSync(segment.fd);
    this.segments.clear();
    closeSync(this.dirFd);
  }

  private create(number: number): Segment {
    const segment: Segment = { number, fd: openSync(this.path(number), 'wx+'), written: 0, size: 0, dirty: false, syncing: 0 };
    this.segments.set(number, segment);
    this.dirDirty = true;
    return segment;
  }

  private path(number: number): string {
    return join(this.dir, `${String(number).padStart(8, '0')}.images`);
  }
}
