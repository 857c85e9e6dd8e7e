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

/** Resolves after `ms` on `clock`, or at once when `signal` is (or becomes) aborted. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
