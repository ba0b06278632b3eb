/**
 * 2Captcha's request limits on in.php, which the `2captcha` dialect enforces (protocol.md §3.3):
 * - more than 60 submits within 3 s pause the key for 10 s: MAX_USER_TURN;
 * - more than 120 ERROR_NO_SLOT_AVAILABLE answers within a minute block it for 10 minutes: `ERROR: 1001`;
 * - more than 120 ERROR_ZERO_BALANCE answers within a minute block it for 5 minutes: `ERROR: 1002`.
 * Counted per key in this process's memory: behind several API nodes each counts its own share,
 * which only makes the limits more lenient, never stricter.
 */
import type { ErrorCode } from '@solvebox/protocol';
import { BoundedMap } from './bounded-map.js';

interface Rule {
  readonly count: number;
  readonly windowMs: number;
  readonly blockMs: number;
  readonly code: ErrorCode;
}

export const REQUEST_LIMITS = {
  submits: { count: 60, windowMs: 3_000, blockMs: 10_000, code: 'MAX_USER_TURN' },
  noSlot: { count: 120, windowMs: 60_000, blockMs: 600_000, code: 'ERROR: 1001' },
  zeroBalance: { count: 120, windowMs: 60_000, blockMs: 300_000, code: 'ERROR: 1002' },
} as const satisfies Record<string, Rule>;

type RuleName = keyof typeof REQUEST_LIMITS;

interface KeyState {
  /** The latest event times per rule, at most the rule's count of them. */
  readonly events: Partial<Record<RuleName, number[]>>;
  block?: { readonly until: number; readonly code: ErrorCode };
}

/** Keys tracked at once; the oldest-seen key is forgotten beyond it (its counts restart). */
const TRACKED_KEYS = 100_000;

export class RequestLimits {
  private readonly keys = new BoundedMap<number, KeyState>(TRACKED_KEYS);

  /** The code a blocked key is answered with until its block ends; undefined when not blocked. */
  blocked(accountId: number, now: number): ErrorCode | undefined {
    const block = this.keys.get(accountId)?.block;
    return block !== undefined && block.until > now ? block.code : undefined;
  }

  /**
   * Counts an event. One more than the rule allows within its window blocks the key, and returns
   * the block's code (the event that went over is answered with it too).
   */
  record(accountId: number, rule: RuleName, now: number): ErrorCode | undefined {
    let state = this.keys.get(accountId);
    if (state === undefined) {
      state = { events: {} };
      this.keys.set(accountId, state);
    }
    const { count, windowMs, blockMs, code } = REQUEST_LIMITS[rule];
    const events = state.events[rule] ?? [];
    events.push(now);
    if (events.length > count + 1) events.shift();
    state.events[rule] = events;
    if (events.length > count && now - (events[0] as number) < windowMs) {
      state.block = { until: now + blockMs, code };
      state.events[rule] = [];
      return code;
    }
    return undefined;
  }
}
