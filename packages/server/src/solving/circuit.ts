/**
 * A per-solver circuit breaker. After `threshold` consecutive crashes the solver is considered
 * down for `cooldownMs`: in.php refuses its task types with ERROR_INTERNAL_SERVER_ERROR instead of
 * accepting tasks that would only burn threads until their deadline. After the cool-down, tasks
 * flow again; one success closes the circuit, one more crash opens it again.
 */
export class Circuit {
  private consecutiveCrashes = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  isOpen(now: number): boolean {
    return now < this.openUntil;
  }

  recordSuccess(): void {
    this.consecutiveCrashes = 0;
    this.openUntil = 0;
  }

  recordCrash(now: number): void {
    this.consecutiveCrashes += 1;
    if (this.consecutiveCrashes >= this.threshold) this.openUntil = now + this.cooldownMs;
  }
}
