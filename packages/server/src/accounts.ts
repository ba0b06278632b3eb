/** Account administration shared by the CLI and the first-start bootstrap. */
import { hashApiKey, keyHint, newApiKey } from './identity.js';
import type { Account, AccountStore } from './storage/types.js';

export interface CreatedAccount {
  readonly account: Account;
  /** The only time the key exists in clear: it is stored as a hash. */
  readonly key: string;
}

export async function createAccount(
  storage: Pick<AccountStore, 'createAccount'>,
  options: { threads: number; balanceMicros: number; proxiesAllowed: boolean },
  now: number = Date.now(),
): Promise<CreatedAccount> {
  const key = newApiKey();
  const account = await storage.createAccount({ keyHash: hashApiKey(key), keyHint: keyHint(key), createdAt: now, ...options });
  return { account, key };
}
