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

/** 10^15: every id has 16 digits. */
export const ID_FLOOR = 1_000_000_000_000_000;
const ID_HIGH_PARTS = 8_000_000; // ids stay below 9 * 10^15 < 2^53, exact in JSON clients
const ID_LOW_PARTS = 1_000_000_000;

/**
 * A task id: 16 random digits, neither sequential nor guessable, and exact as a JSON number. What
 * Redis and memory storage issue; SQLite issues `TaskIdCipher` ids, which look the same.
 */
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

/** The bits of a task's storage sequence number that `TaskIdCipher` permutes: 2^52 ids above ID_FLOOR, all below 9 * 10^15. */
const SEQ_BITS = 52;
const HALF_BITS = SEQ_BITS / 2;
const HALF = 2 ** HALF_BITS;
const HALF_MASK = HALF - 1;
const FEISTEL_ROUNDS = 10;
/** Sequence numbers run from 0 to below this. */
export const TASK_SEQ_LIMIT = 2 ** SEQ_BITS;

/**
 * Public task ids for tasks stored under sequential keys: `id = ID_FLOOR + E(seq)`, where E is a
 * keyed permutation of [0, 2^52): a balanced Feistel network of ten rounds whose round function is
 * HalfSipHash-2-4 (a keyed pseudo-random function made for short inputs) under a 64-bit secret.
 * Storage appends tasks in order (a batch of inserts shares pages), while an id tells nothing of
 * the order and guessing another task's id is as hopeless as with random ids: without the secret,
 * E(seq + 1) is not predictable from E(seq). Decoding an id is one inverse permutation.
 */
export class TaskIdCipher {
  private readonly k0: number;
  private readonly k1: number;

  /** @param secret 8 bytes, kept where the tasks are. */
  constructor(secret: Uint8Array) {
    if (secret.length !== 8) throw new Error('a task id secret has 8 bytes');
    const view = new DataView(secret.buffer, secret.byteOffset, 8);
    this.k0 = view.getUint32(0, true);
    this.k1 = view.getUint32(4, true);
  }

  /** The public id of sequence number `seq` (0 ≤ seq < TASK_SEQ_LIMIT). */
  idOf(seq: number): string {
    let left = Math.floor(seq / HALF);
    let right = seq % HALF;
    for (let round = 0; round < FEISTEL_ROUNDS; round++) {
      const next = (left ^ (halfSipHash(this.k0, this.k1, round, right) & HALF_MASK)) >>> 0;
      left = right;
      right = next;
    }
    return String(ID_FLOOR + left * HALF + right);
  }

  /** The sequence number behind a canonical id, or undefined for an id this cipher never makes. */
  seqOf(id: string): number | undefined {
    const x = Number(id) - ID_FLOOR;
    if (!(x >= 0 && x < TASK_SEQ_LIMIT)) return undefined;
    let left = Math.floor(x / HALF);
    let right = x % HALF;
    for (let round = FEISTEL_ROUNDS - 1; round >= 0; round--) {
      const previous = (right ^ (halfSipHash(this.k0, this.k1, round, left) & HALF_MASK)) >>> 0;
      right = left;
      left = previous;
    }
    return left * HALF + right;
  }
}

/**
 * HalfSipHash-2-4 with a 32-bit output (Aumasson and Bernstein's reference, halfsiphash.c) of the
 * 8-byte message (m0, m1) as two little-endian words, under the key (k0, k1). Written out flat:
 * it runs ten times per id.
 */
export function halfSipHash(k0: number, k1: number, m0: number, m1: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  // Steps 0-1: the message words, two rounds each; 2: the length block (8 << 24), two rounds;
  // 3: finalization, four rounds.
  for (let step = 0; step < 4; step++) {
    const m = step === 0 ? m0 | 0 : step === 1 ? m1 | 0 : step === 2 ? 8 << 24 : 0;
    v3 ^= m;
    if (step === 3) v2 ^= 0xff;
    for (let i = step === 3 ? 4 : 2; i > 0; i--) {
      v0 = (v0 + v1) | 0;
      v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    v0 ^= m;
  }
  return (v1 ^ v3) >>> 0;
}
