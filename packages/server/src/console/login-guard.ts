/**
 * Login rate limiting: failed logins are counted per client address and per operator name over a
 * window; past the limit, logins from that address or for that name are refused (HTTP 429) until
 * the window has passed, whether or not the password is right, so guessing cannot go on.
 */
import { BoundedMap } from '../bounded-map.js';

export const LOGIN_FAILURES = 5;
export const LOGIN_WINDOW_MS = 5 * 60_000;

export class LoginGuard {
  private readonly failures = new BoundedMap<string, number[]>(10_000);

  constructor(private readonly clock: () => number) {}

  /** Milliseconds until a login may be tried again for this address and name; 0 when it may now. */
  retryAfter(ip: string, name: string): number {
    const now = this.clock();
    return Math.max(this.blockedFor(`ip:${ip}`, now), this.blockedFor(`name:${name}`, now));
  }

  failed(ip: string, name: string): void {
    const now = this.clock();
    for (const key of [`ip:${ip}`, `name:${name}`]) this.failures.set(key, [...this.recent(key, now), now]);
  }

  succeeded(ip: string, name: string): void {
    this.failures.delete(`ip:${ip}`);
    this.failures.delete(`name:${name}`);
  }

  private blockedFor(key: string, now: number): number {
    const recent = this.recent(key, now);
    return recent.length < LOGIN_FAILURES ? 0 : (recent[recent.length - LOGIN_FAILURES] as number) + LOGIN_WINDOW_MS - now;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => at > now - LOGIN_WINDOW_MS);
  }
}
