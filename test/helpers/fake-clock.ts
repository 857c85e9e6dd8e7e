// A clock the test moves by hand, for the timing rules of the probe loop, the instance and the restart pacing.
import type { Clock, Timer } from '../../src/checks/clock.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private time = 0;
  /** Its Unix time starts at the real one, so that stamps read as today's. */
  private readonly epoch = Date.now();
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  now(): number {
    return this.time;
  }

  unixMs(): number {
    return this.epoch + this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + Math.max(0, ms), seq: id, fn });
    return id as unknown as Timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer !== undefined) this.pending.delete(timer as unknown as number);
  }

  /** Timers not yet run. */
  get timers(): number {
    return this.pending.size;
  }

  /** Moves time on by `ms`, running every timer that falls due on the way, in order, with promise chains settled between them. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      await settle();
      let next: [number, Pending] | undefined;
      for (const entry of this.pending) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      }
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
    await settle();
  }

  /** Resolves after `ms` of this clock. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}

/** Lets every promise chain that can run, run (a few turns of the event loop, no time passing). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
