/**
 * Authentication and IP bans, the first three steps of every request: ban, key format, key
 * existence. Failed authentications (missing, malformed or unknown keys) count towards a ban;
 * real keys of disabled or thread-less accounts do not, since their owner is not guessing.
 *
 * Both answers are cached so that a poll costs no storage read for them:
 * - accounts by API key, for `authCacheMs` (a key disabled by `solvebox keys` in another process
 *   stops working within that time; requests that read the balance authenticate afresh);
 * - bans by IP (and their absence), on storage this process has to itself, where every ban is made
 *   here and updates the cache at once; on shared storage only while it reports every ban change
 *   made anywhere (`watchBans`, Redis's client-side caching), and read every time otherwise.
 */
import { isWellFormedKey } from '@solvebox/protocol';
import { BoundedMap } from './bounded-map.js';
import type { ServerConfig } from './config.js';
import { hashApiKey } from './identity.js';
import type { Account, AccountStore, BanPolicy, Guards, Storage } from './storage/types.js';

export type AuthResult =
  | { readonly ok: true; readonly account: Account }
  | { readonly ok: false; readonly code: 'ERROR_WRONG_USER_KEY' | 'ERROR_KEY_DOES_NOT_EXIST' };

/** Distinct keys and IPs remembered; beyond that the oldest are read from storage again. */
const CACHE_ENTRIES = 10_000;

export class Gatekeeper {
  private readonly policy: BanPolicy;
  private readonly accounts = new BoundedMap<string, { readonly account: Account; readonly until: number }>(CACHE_ENTRIES);
  /** IP → ban end (0: not banned). On shared storage, only while its changes are reported (watchBans). */
  private readonly bans = new BoundedMap<string, number>(CACHE_ENTRIES);
  private cacheBans: boolean;
  /** Counts reported ban changes: a read overtaken by one is not cached (see isBanned). */
  private banChanges = 0;
  private readonly authCacheMs: number;
  /** Called when a failure bans an IP (metrics). */
  onBan: (() => void) | undefined;

  constructor(
    private readonly storage: AccountStore & Guards & Pick<Storage, 'shared'>,
    config: Pick<ServerConfig, 'banFailures' | 'banWindowMs' | 'banMs' | 'authCacheMs'>,
    private readonly clock: () => number,
  ) {
    this.policy = { maxFailures: config.banFailures, windowMs: config.banWindowMs, banMs: config.banMs };
    this.cacheBans = !storage.shared;
    this.authCacheMs = config.authCacheMs;
    storage.watchBans?.({
      live: (live) => {
        this.bans.clear();
        this.banChanges++;
        this.cacheBans = live;
      },
      changed: (ip) => {
        this.bans.delete(ip);
        this.banChanges++;
      },
    });
  }

  /** The ban state without I/O: true or false when known, undefined when storage must be asked. */
  knownBan(ip: string, now: number): boolean | undefined {
    const until = this.bans.get(ip);
    return until === undefined ? undefined : until > now;
  }

  /** The account of a key without I/O, when a recent authentication left it in the cache. */
  knownAccount(key: string, now: number): Account | undefined {
    const cached = this.accounts.get(key);
    return cached !== undefined && cached.until > now ? cached.account : undefined;
  }

  async isBanned(ip: string): Promise<boolean> {
    const now = this.clock();
    const known = this.knownBan(ip, now);
    if (known !== undefined) return known;
    const changes = this.banChanges;
    const until = await this.storage.banExpiry(ip, now);
    // On shared storage a change's report may overtake the answer of a read made before it.
    if (this.cacheBans && changes === this.banChanges) this.bans.set(ip, until ?? 0);
    return until !== undefined;
  }

  /** `fresh` skips the cache, for answers that must reflect the account as stored now (the balance). */
  async authenticate(key: string | undefined, ip: string, { fresh = false } = {}): Promise<AuthResult> {
    if (!isWellFormedKey(key)) {
      await this.recordFailure(ip);
      return { ok: false, code: 'ERROR_WRONG_USER_KEY' };
    }
    const now = this.clock();
    let account = fresh ? undefined : this.knownAccount(key, now);
    if (!account) {
      account = await this.storage.findAccount({ keyHash: hashApiKey(key) });
      if (!account) {
        this.accounts.delete(key);
        await this.recordFailure(ip);
        return { ok: false, code: 'ERROR_KEY_DOES_NOT_EXIST' };
      }
      if (this.authCacheMs > 0) this.accounts.set(key, { account, until: now + this.authCacheMs });
    }
    return usable(account) ? { ok: true, account } : { ok: false, code: 'ERROR_KEY_DOES_NOT_EXIST' };
  }

  /** Forgets an account this process remembers (an admin changed it), so the change applies at once. */
  forgetAccount(accountId: number): void {
    this.accounts.deleteWhere((cached) => cached.account.id === accountId);
  }

  /** Forgets what this process knows of an IP's ban (an admin lifted it). */
  forgetBan(ip: string): void {
    this.bans.delete(ip);
  }

  private async recordFailure(ip: string): Promise<void> {
    const bannedUntil = await this.storage.recordAuthFailure(ip, this.clock(), this.policy);
    if (bannedUntil !== undefined) {
      if (this.cacheBans) this.bans.set(ip, bannedUntil);
      this.onBan?.();
    }
  }
}

/** Whether an authenticated account may use the API: enabled, with at least one thread. */
export function usable(account: Account): boolean {
  return !account.disabled && account.threads > 0;
}
