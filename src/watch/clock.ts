/**
 * Where `lifeguard watch` gets its time: the rules it applies (a start grace, a minimum unhealthy duration, the
 * restart backoff) are all "act at this moment unless something changes first", so they are written against this
 * interface and tested with a fake clock that jumps, rather than by sleeping.
 *
 * Wall-clock milliseconds, not monotonic: the engine states when a container started as a wall-clock time, and
 * the grace period counts from it.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

/** Opaque: only ever handed back to the clock that made it. */
export type Timer = { readonly __timer: unique symbol };

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout | undefined),
};
