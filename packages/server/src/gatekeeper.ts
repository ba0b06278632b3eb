/**
 * Authentication and IP bans, the first three steps of every request: ban, key format, key
 * existence. Failed authentications (missing, malformed or unknown keys) count towards a ban;
 * real keys of disabled or thread-less accounts do not, since their owner is not guessing.
 */
import { isWellFormedKey } from '@solvebox/protocol';
import type { ServerConfig } from './config.js';
import { hashApiKey } from './identity.js';
import type { Account, BanPolicy, Storage } from './storage/types.js';

export type AuthResult = { readonly ok: true; readonly account: Account } | { readonly ok: false; readonly code: 'ERROR_WRONG_USER_KEY' | 'ERROR_KEY_DOES_NOT_EXIST' };

export class Gatekeeper {
  private readonly policy: BanPolicy;

  constructor(
    private readonly storage: Storage,
    config: Pick<ServerConfig, 'banFailures' | 'banWindowMs' | 'banMs'>,
    private readonly clock: () => number,
  ) {
    this.policy = { maxFailures: config.banFailures, windowMs: config.banWindowMs, banMs: config.banMs };
  }

  async isBanned(ip: string): Promise<boolean> {
    return (await this.storage.banExpiry(ip, this.clock())) !== undefined;
  }

  async authenticate(key: string | undefined, ip: string): Promise<AuthResult> {
    if (!isWellFormedKey(key)) {
      await this.storage.recordAuthFailure(ip, this.clock(), this.policy);
      return { ok: false, code: 'ERROR_WRONG_USER_KEY' };
    }
    const account = await this.storage.findAccountByKeyHash(hashApiKey(key));
    if (!account) {
      await this.storage.recordAuthFailure(ip, this.clock(), this.policy);
      return { ok: false, code: 'ERROR_KEY_DOES_NOT_EXIST' };
    }
    if (account.disabled || account.threads <= 0) return { ok: false, code: 'ERROR_KEY_DOES_NOT_EXIST' };
    return { ok: true, account };
  }
}
