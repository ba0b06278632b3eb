/** API keys and task ids: how they are made, stored and recognised. */
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** A new API key: 32 lowercase hex characters (128 random bits), the format CaptchaAI uses. */
export function newApiKey(): string {
  return randomBytes(16).toString('hex');
}

/** Keys are stored only as this hash; 128 random bits need no slow password hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What `keys list` shows of a key: enough to tell keys apart, far too little to use one. */
export function keyHint(key: string): string {
  return `${key.slice(0, 6)}…`;
}

const ID_FLOOR = 1_000_000_000_000_000; // 10^15: every id has 16 digits
const ID_HIGH_PARTS = 8_000_000; // ids stay below 9 * 10^15 < 2^53, exact in JSON clients
const ID_LOW_PARTS = 1_000_000_000;

/** A task id: 16 random digits, neither sequential nor guessable, and exact as a JSON number. */
export function newTaskId(): string {
  return String(ID_FLOOR + randomInt(ID_HIGH_PARTS) * ID_LOW_PARTS + randomInt(ID_LOW_PARTS));
}

/**
 * The canonical form of a task id from a request, or undefined when no task can have it:
 * digits only (checked by the caller), no leading zeros, and within the range ids are made in.
 */
export function canonicalTaskId(digits: string): string | undefined {
  if (digits.length !== 16) return undefined;
  const n = Number(digits);
  return n >= ID_FLOOR && n < ID_FLOOR + ID_HIGH_PARTS * ID_LOW_PARTS ? digits : undefined;
}
