import { monotonicMs } from '../checks/clock.js';

/** An opaque timer, as the clock that made it hands it back. */
export type Timer = { readonly __timer: unique symbol };

/**
 * Time as the probe loop, the instance and the restart pacing see it: a monotonic `now` and one-shot timers.
 * Injected, so that the timing rules (ticks, deadlines, thresholds, backoff) are tested on a fake clock that a
 * test advances by hand, and real time is left to the tests of real processes and sockets.
 */
export interface Clock {
  /** Milliseconds; only differences mean anything. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

export const realClock: Clock = {
  now: monotonicMs,
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout | undefined),
};

/**
 * The real clock with timers rounded up to a grid of `quantumMs`: timers due within one quantum fire together,
 * from one libuv timer. A supervisor running thousands of probe loops at random phases would otherwise wake
 * once per check; on the grid it wakes once per quantum and runs every round due, at the price of starting a
 * round up to one quantum late (which the loop reports as lateness).
 */
export function coarseClock(quantumMs: number): Clock {
  const slots = new Map<number, Set<() => void>>();
  const fire = (slot: number): void => {
    const due = slots.get(slot);
    slots.delete(slot);
    if (due !== undefined) for (const fn of due) fn();
  };
  return {
    now: monotonicMs,
    setTimeout: (fn, ms) => {
      const slot = Math.ceil((monotonicMs() + ms) / quantumMs) * quantumMs;
      let due = slots.get(slot);
      if (due === undefined) {
        due = new Set();
        slots.set(slot, due);
        setTimeout(fire, slot - monotonicMs(), slot);
      }
      due.add(fn);
      return { slot, fn } as unknown as Timer;
    },
    clearTimeout: (timer) => {
      if (timer === undefined) return;
      const { slot, fn } = timer as unknown as { slot: number; fn: () => void };
      slots.get(slot)?.delete(fn);
    },
  };
}
