/**
 * The rounds' clock. Rounds are due at origin + n × interval, so a slow check does not push every later round
 * back (no drift). A round that ends after the next one was due is followed at once, never overlapped; the
 * ticks it missed are dropped rather than run back to back, as Go's time.Ticker (which the Cloud Foundry binary
 * uses) drops them, so that a slow app is not hammered to catch up.
 */
export class TickClock {
  /** The tick the round just run belongs to. */
  private tick = 0;
  private readonly origin: number;
  /** When the round about to run was due. */
  private dueAt: number;

  /**
   * `firstDue`: when the first round runs. `shiftMs` (below the interval) brings every later tick that much
   * closer to it, so that probes started together can be spread over the interval after their first round.
   */
  constructor(
    firstDue: number,
    private readonly intervalMs: number,
    shiftMs = 0,
  ) {
    this.origin = firstDue - shiftMs;
    this.dueAt = firstDue;
  }

  /** How long to wait, from `now`, before the next round. */
  delayToNextRound(now: number): number {
    if (this.intervalMs <= 0) {
      this.dueAt = now;
      return 0;
    }
    const due = this.origin + (this.tick + 1) * this.intervalMs;
    if (due > now) {
      this.tick += 1;
      this.dueAt = due;
      return due - now;
    }
    this.tick = Math.floor((now - this.origin) / this.intervalMs);
    this.dueAt = this.origin + this.tick * this.intervalMs;
    return 0;
  }

  /** How far behind its tick a round starting at `now` is: a busy event loop shows here first. */
  lateness(now: number): number {
    return Math.max(0, now - this.dueAt);
  }
}
