/**
 * Redis's server-assisted client-side caching, so that what is read on every request and changes
 * rarely (bans, marks, a polled task) can be cached in each process and still be exact:
 *
 * - the main connection tracks prefixes in broadcast mode: Redis reports every change to a key
 *   under them (bans, marks), whoever made it (another node, an admin, an expiry);
 * - `reader`, a connection of its own, tracks key by key: Redis reports a change to any key that
 *   was read on it (the task hashes a node's clients poll), and only to those.
 *
 * Reports go to a subscriber connection of ours that speaks RESP2, where they come as messages on
 * `__redis__:invalidate`. They travel on a connection other than the one that reads, so a report
 * can overtake the answer of a read made before the change: a cache must not keep an answer when
 * a report came in while it was read (`changes` counts them). Whenever any of the connections
 * reconnects, reports may have been lost: watchers hear `live(false)` until tracking is on again,
 * and from `live(true)` on, nothing learnt before may be trusted.
 */
import type { Redis } from 'ioredis';
import type { ChangeWatcher } from '../types.js';

interface Tracked {
  readonly connection: Redis;
  /** The options of its CLIENT TRACKING after REDIRECT. */
  readonly options: readonly string[];
  /** Tracking is on and redirected to the current subscriber. */
  on: boolean;
  /** Its 'close' listener: tracking is lost with the connection. */
  readonly closed: () => void;
}

export class KeyTracker {
  /** Every key read on this connection is tracked. Use it only while `live`. */
  readonly reader: Redis;
  private readonly subscriber: Redis;
  private readonly tracked: readonly Tracked[];
  private readonly watchers = new Map<string, Set<ChangeWatcher>>();
  private subscriberId: number | undefined;
  private isLive = false;
  /** The redirect in progress, if any (redirect). Never rejects. */
  private redirecting: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Reports received (and reconnects): a read that saw this number change must not be cached. */
  changes = 0;

  constructor(client: Redis, prefixes: readonly string[]) {
    // Subscribed anew after each reconnect, once its new id is known.
    this.subscriber = client.duplicate({ enableOfflineQueue: true, protocol: 2, autoResubscribe: false });
    this.reader = client.duplicate();
    const track = (connection: Redis, options: readonly string[]): Tracked => {
      const t: Tracked = { connection, options, on: false, closed: () => this.lost(t) };
      connection.on('close', t.closed);
      connection.on('ready', this.ready);
      return t;
    };
    this.tracked = [track(client, ['BCAST', ...prefixes.flatMap((p) => ['PREFIX', p])]), track(this.reader, [])];
    this.subscriber.on('error', () => {});
    this.reader.on('error', () => {});
    this.subscriber.on('ready', async () => {
      this.subscriberId = undefined;
      this.lost();
      try {
        const id = (await this.subscriber.client('ID')) as number;
        await this.subscriber.subscribe('__redis__:invalidate');
        this.subscriberId = id;
        await this.redirect();
      } catch {
        // Not live; the next reconnect of any connection tries again.
      }
    });
    this.subscriber.on('close', () => {
      this.subscriberId = undefined;
      this.lost();
    });
    this.subscriber.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) => {
      this.changes++;
      // null: the whole database was flushed; nothing cached holds.
      if (keys === null) {
        this.lost();
        return void this.redirect();
      }
      for (const key of keys) this.report(key.toString());
    });
    this.subscriber.connect().catch(() => {});
    this.reader.connect().catch(() => {});
  }

  /** Reports changes under `prefix` (one of those tracked) to `watcher`, and whether they are reported at all. */
  watch(prefix: string, watcher: ChangeWatcher): () => void {
    let set = this.watchers.get(prefix);
    if (!set) this.watchers.set(prefix, (set = new Set()));
    set.add(watcher);
    watcher.live(this.isLive);
    return () => {
      set.delete(watcher);
      watcher.live(false);
    };
  }

  get live(): boolean {
    return this.isLive;
  }

  close(): void {
    this.stopped = true;
    this.setLive(false);
    for (const t of this.tracked) {
      t.connection.off('close', t.closed);
      t.connection.off('ready', this.ready);
    }
    this.subscriber.disconnect();
    this.reader.disconnect();
  }

  private readonly ready = (): void => void this.redirect();

  /** One connection's tracking is gone (or all of them, without `which`): nothing is reported until it is back. */
  private lost(which?: Tracked): void {
    for (const t of this.tracked) if (which === undefined || t === which) t.on = false;
    this.setLive(false);
  }

  /**
   * Points each ready connection's tracking at the subscriber; live once all are in place. One at
   * a time: two at once (a reconnect and a subscriber's ready) could turn tracking off under the
   * other after it went live, and changes made meanwhile would go unreported.
   */
  private redirect(): Promise<void> {
    this.redirecting = this.redirecting.then(() => this.redirectNow());
    return this.redirecting;
  }

  private async redirectNow(): Promise<void> {
    const id = this.subscriberId;
    if (id === undefined) return;
    try {
      for (const t of this.tracked) {
        if (t.on || t.connection.status !== 'ready') continue;
        // Tracking options cannot be changed while on: off first (a no-op when it was off).
        await t.connection.call('CLIENT', 'TRACKING', 'off');
        await t.connection.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), ...t.options);
        t.on = true;
      }
      if (!this.stopped && id === this.subscriberId && this.tracked.every((t) => t.on)) this.setLive(true);
    } catch {
      // As above.
    }
  }

  private setLive(live: boolean): void {
    this.changes++;
    this.isLive = live;
    for (const set of this.watchers.values()) for (const watcher of set) watcher.live(live);
  }

  private report(key: string): void {
    for (const [prefix, set] of this.watchers) {
      if (!key.startsWith(prefix)) continue;
      const name = key.slice(prefix.length);
      for (const watcher of set) watcher.changed(name);
    }
  }
}
