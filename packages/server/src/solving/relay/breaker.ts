/**
 * A circuit breaker per upstream. `failures` consecutive faults open it: no task goes there for
 * `cooldownMs`. Then it is half-open: one task goes through as a probe; its success closes the
 * circuit, its fault opens it again. Outcomes that say nothing about the upstream's health (an
 * unsolvable captcha, no free thread) neither close nor open it, but free the probe's place.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class Breaker {
  private consecutive = 0;
  private openUntil = 0;
  private probing = false;
  private opened = false;

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
  ) {}

  state(now: number): BreakerState {
    if (!this.opened) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  /** Whether a task may go to the upstream now; a half-open circuit lets one through at a time. */
  tryPass(now: number): boolean {
    switch (this.state(now)) {
      case 'closed':
        return true;
      case 'open':
        return false;
      case 'half-open':
        if (this.probing) return false;
        this.probing = true;
        return true;
    }
  }

  success(): void {
    this.consecutive = 0;
    this.opened = false;
    this.probing = false;
  }

  fault(now: number): void {
    this.consecutive += 1;
    if (this.probing || this.consecutive >= this.failures) {
      this.opened = true;
      this.openUntil = now + this.cooldownMs;
    }
    this.probing = false;
  }

  /** Neither success nor fault. */
  neutral(): void {
    this.probing = false;
  }
}
