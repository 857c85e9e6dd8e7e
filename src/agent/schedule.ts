/**
 * The rounds' clock. Rounds are due at origin + n × interval, so a slow check does not push every later round
 * back (no drift). A round that ends after the next one was due is followed at once, never overlapped; the
 * ticks it missed are dropped rather than run back to back, as Go's time.Ticker (which the Cloud Foundry binary
 * uses) drops them, so that a slow app is not hammered to catch up.
 */
export class TickClock {
  /** The tick the round just run belongs to. */
  private tick = 0;

  constructor(
    private readonly origin: number,
    private readonly intervalMs: number,
  ) {}

  /** How long to wait, from `now`, before the next round. */
  delayToNextRound(now: number): number {
    if (this.intervalMs <= 0) return 0;
    const due = this.origin + (this.tick + 1) * this.intervalMs;
    if (due > now) {
      this.tick += 1;
      return due - now;
    }
    this.tick = Math.floor((now - this.origin) / this.intervalMs);
    return 0;
  }
}
