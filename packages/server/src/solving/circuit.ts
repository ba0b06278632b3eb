/**
 * A circuit breaker, per solver (the runner) and per upstream (the relay). After `threshold`
 * consecutive crashes it is open for `cooldownMs`: in.php refuses the solver's task types with
 * ERROR_INTERNAL_SERVER_ERROR instead of accepting tasks that would only burn threads until their
 * deadline, and the relay sends no task to that upstream. Then it is half-open: tasks flow again
 * (the relay lets one through at a time, as a probe, with tryPass); one success closes the
 * circuit, one more crash opens it again. Outcomes that say nothing about health (an unsolvable
 * captcha, an upstream with no free thread) are neutral: they only free the probe's place.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export class Circuit {
  private consecutiveCrashes = 0;
  private openUntil = 0;
  private tripped = false;
  private probing = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  state(now: number): CircuitState {
    if (!this.tripped) return 'closed';
    return now < this.openUntil ? 'open' : 'half-open';
  }

  isOpen(now: number): boolean {
    return this.state(now) === 'open';
  }

  /** Whether a task may go through now; a half-open circuit lets one through until its outcome is recorded. */
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

  recordSuccess(): void {
    this.consecutiveCrashes = 0;
    this.tripped = false;
    this.probing = false;
  }

  recordCrash(now: number): void {
    this.consecutiveCrashes += 1;
    if (this.probing || this.consecutiveCrashes >= this.threshold) {
      this.tripped = true;
      this.openUntil = now + this.cooldownMs;
    }
    this.probing = false;
  }

  /** Neither a success nor a crash. */
  recordNeutral(): void {
    this.probing = false;
  }
}
