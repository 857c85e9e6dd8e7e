/**
 * Time, in one place: a monotonic reading for latencies within one process, and the `Clock` that every timer of
 * the probe loop, the supervisor, its probes and `lifeguard watch` comes from. Injected, so that the timing rules
 * (ticks, deadlines, thresholds, backoff, heartbeat silence) are tested on a fake clock a test advances by hand
 * (test/helpers/fake-clock.ts); real time is left to the tests of real processes and sockets. The check attempts
 * keep their own timers (no closure per attempt on the hot path) and read `monotonicMs`.
 * Dependency-free and small: the agent loads it at every start.
 */

/** `process` as a global is an accessor (a getter call at every use); a check reads the clock several times. */
const proc = process;

/**
 * Milliseconds on a monotonic clock; the origin is arbitrary, so only differences between two readings mean
 * anything. Not `performance.now()`: its first use loads perf_hooks and the rest of Node's performance timeline
 * (about ten internal modules, ~0.5 ms), which a `once` agent pays at every start. process.hrtime is already loaded.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = proc.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** An opaque timer, as the clock that made it hands it back. */
export type Timer = { readonly __timer: unique symbol };

/** A `now` and one-shot timers. */
export interface Clock {
  /** Milliseconds; only differences mean anything (wallClock's are also Unix time). */
  now(): number;
  /** Milliseconds since the Unix epoch, for stamps a reader sets beside other clocks (logs, status, history). */
  unixMs(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

export const realClock: Clock = {
  now: monotonicMs,
  unixMs: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout | undefined),
};

/**
 * The real clock on wall-clock time, for `lifeguard watch`: the engine states when a container started as a
 * wall-clock time, and the start grace counts from it.
 */
export const wallClock: Clock = { ...realClock, now: () => Date.now() };

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
    unixMs: Date.now,
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
