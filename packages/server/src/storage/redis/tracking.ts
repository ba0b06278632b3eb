/**
 * Redis's server-assisted client-side caching, in broadcast mode: Redis reports every change to a
 * key under the tracked prefixes, whoever made it (another node, an admin, an expiry), so that
 * what rarely changes and is read on every request (bans, marks) can be cached in each process.
 *
 * Reports go to a subscriber connection of ours that speaks RESP2, where they come as messages on
 * `__redis__:invalidate`. They travel on a connection other than the one that reads, so a report
 * can overtake the answer of a read made before the change: a cache must not keep an answer when
 * a report came in while it was read (`changes` counts them). Whenever either connection
 * reconnects, reports may have been lost: watchers hear `live(false)` until tracking is on again,
 * and from `live(true)` on, nothing learnt before may be trusted.
 */
import type { Redis } from 'ioredis';
import type { ChangeWatcher } from '../types.js';

export class KeyTracker {
  private readonly subscriber: Redis;
  private readonly watchers = new Map<string, Set<ChangeWatcher>>();
  private subscriberId: number | undefined;
  private isLive = false;
  private stopped = false;
  /** Reports received (and reconnects): a read that saw this number change must not be cached. */
  changes = 0;

  constructor(
    private readonly client: Redis,
    private readonly prefixes: readonly string[],
  ) {
    // Subscribed anew after each reconnect, once its new id is known.
    this.subscriber = client.duplicate({ enableOfflineQueue: true, protocol: 2, autoResubscribe: false });
    this.subscriber.on('error', () => {});
    this.subscriber.on('ready', async () => {
      this.setLive(false);
      this.subscriberId = undefined;
      try {
        const id = (await this.subscriber.client('ID')) as number;
        await this.subscriber.subscribe('__redis__:invalidate');
        this.subscriberId = id;
        await this.redirect();
      } catch {
        // Not live; the next reconnect of either connection tries again.
      }
    });
    this.subscriber.on('close', () => {
      this.subscriberId = undefined;
      this.setLive(false);
    });
    this.subscriber.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) => {
      this.changes++;
      // null: the whole database was flushed; nothing cached holds.
      if (keys === null) {
        this.setLive(false);
        return void this.redirect();
      }
      for (const key of keys) this.report(key.toString());
    });
    client.on('close', this.lost);
    client.on('ready', this.ready);
    this.subscriber.connect().catch(() => {});
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
    this.client.off('close', this.lost);
    this.client.off('ready', this.ready);
    this.subscriber.disconnect();
  }

  private readonly lost = (): void => this.setLive(false);
  private readonly ready = (): void => void this.redirect();

  /** Points the main connection's tracking at the subscriber; live once both are in place. */
  private async redirect(): Promise<void> {
    if (this.subscriberId === undefined || this.client.status !== 'ready') return;
    try {
      // Tracking options cannot be changed while on: off first (a no-op when it was off).
      await this.client.call('CLIENT', 'TRACKING', 'off');
      await this.client.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(this.subscriberId), 'BCAST', ...this.prefixes.flatMap((p) => ['PREFIX', p]));
      if (!this.stopped) this.setLive(true);
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
