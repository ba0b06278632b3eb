/**
 * Task ids on SQLite: tasks are stored under sequential keys (rowids 1, 2, 3, ...), so that a
 * batch of inserts appends to the table's last pages, and published as `TaskIdCipher` ids, keyed
 * permutations of those keys that tell nothing of the order. Tasks stored before schema 9 keep
 * their random ids as keys; all of those are at or above ID_FLOOR, and sequence keys stay below it.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ID_FLOOR, TaskIdCipher } from '../../identity.js';

/** Sequence numbers are reserved this many at a time: one small write per block, none per task. */
const SEQ_BLOCK = 4096;

export class SequentialTaskIds {
  private readonly cipher: TaskIdCipher;
  private next: number;
  private reserved: number;
  /** True while tasks stored under their random ids (before schema 9) remain. */
  private legacy: boolean;
  private readonly legacyLeft: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly reserve: Database.Statement;

  constructor(db: Database.Database) {
    const setting = db.prepare('SELECT value FROM settings WHERE name = ?').pluck();
    const insert = db.prepare('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)');
    this.reserve = db.prepare("UPDATE settings SET value = ? WHERE name = 'task_seq_reserved'");
    this.legacyLeft = db.prepare(`SELECT EXISTS (SELECT 1 FROM tasks WHERE id >= ${ID_FLOOR})`).pluck();
    this.exists = db.prepare('SELECT EXISTS (SELECT 1 FROM tasks WHERE id = ?)').pluck();
    const secret = db
      .transaction(() => {
        // Another process opening the file at once (the keys CLI) must agree on one secret.
        insert.run('task_id_secret', randomBytes(8).toString('hex'));
        insert.run('task_seq_reserved', '1');
        return setting.get('task_id_secret') as string;
      })
      .immediate();
    this.cipher = new TaskIdCipher(Buffer.from(secret, 'hex'));
    // What ran before may have used any number below its reservation: start there. The first id
    // reserves a block (processes that never make tasks, the keys CLI, write nothing).
    this.next = Number(setting.get('task_seq_reserved'));
    this.reserved = this.next;
    this.legacy = this.legacyLeft.get() === 1;
  }

  /**
   * A fresh public id. The reservation, when a block runs out, is written before the id is handed
   * out; the admission's own commit, and its fsync, come after it in the write-ahead log.
   */
  newId(): string {
    for (;;) {
      if (this.next >= this.reserved) {
        if (this.reserved + SEQ_BLOCK > ID_FLOOR) throw new Error('task sequence exhausted');
        this.reserved += SEQ_BLOCK;
        this.reserve.run(String(this.reserved));
      }
      const id = this.cipher.idOf(this.next++);
      // An id that is also a legacy task's random id would name two tasks: skip it (about one in
      // 2^52 / legacy tasks left, and only while they remain).
      if (!this.legacy || this.exists.get(Number(id)) !== 1) return id;
    }
  }

  /**
   * The key a public id is stored under: its sequence number for an id this cipher made, else the
   * id itself (a task stored before schema 9, or one admitted under an id made elsewhere).
   */
  keyOf(id: string): number {
    const seq = this.cipher.seqOf(id);
    if (seq === undefined || seq >= ID_FLOOR || (this.legacy && this.exists.get(Number(id)) === 1)) return Number(id);
    return seq;
  }

  /** Before a task is stored under `key`: a key at or above ID_FLOOR is one more legacy-style task. */
  storing(key: number): void {
    if (key >= ID_FLOOR) this.legacy = true;
  }

  /** The public id of a stored task. */
  idOf(key: number): string {
    return key >= ID_FLOOR ? String(key) : this.cipher.idOf(key);
  }

  /** After the sweep deleted tasks: once the last legacy task is gone, lookups stop checking for them. */
  swept(): void {
    if (this.legacy) this.legacy = this.legacyLeft.get() === 1;
  }
}
