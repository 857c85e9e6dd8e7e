/**
 * Diego's restart policy: its fields, their schema and defaults (an app's `restart`, and `lifeguard watch`'s),
 * and the decision as pure arithmetic: the controller asks what to do after an unasked-for exit and gets a delay
 * or a give-up, so the numbers can be tested without processes or clocks.
 */
import { z } from 'zod';
import { count, duration } from './config-fields.js';

/** Diego's restart policy; every number configurable. */
export interface RestartPolicy {
  /** Crashes restarted at once before backoff starts. */
  readonly immediate: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Restarts after which the instance is given up. */
  readonly maxRestarts: number;
  /** A healthy stretch this long resets the crash count. */
  readonly resetAfterMs: number;
}

/** What a policy gets for each field it leaves out (`lifeguard run`'s apps and `lifeguard watch` alike). Durations in ms. */
export const RESTART_DEFAULTS = { immediate: 3, backoffMinMs: 30_000, backoffMaxMs: 16 * 60_000, maxRestarts: 200, resetAfterMs: 5 * 60_000 } as const satisfies RestartPolicy;

export const restartSchema = z.strictObject({
  immediate: count(0).default(RESTART_DEFAULTS.immediate),
  backoffMin: duration(true).default(RESTART_DEFAULTS.backoffMinMs),
  backoffMax: duration(true).default(RESTART_DEFAULTS.backoffMaxMs),
  maxRestarts: count(0).default(RESTART_DEFAULTS.maxRestarts),
  resetAfter: duration(false).default(RESTART_DEFAULTS.resetAfterMs),
}, { error: 'expected an object' });

type RawRestart = z.infer<typeof restartSchema>;

/** A `restart` section's own rule, beyond each field's: `fail` is told with the path within the section. */
export function checkRestart(raw: RawRestart, fail: (path: PropertyKey[], message: string) => void): void {
  if (raw.backoffMax < raw.backoffMin) fail(['backoffMax'], 'expected at least backoffMin');
}

/** The policy a parsed `restart` section says. */
export function toRestartPolicy(raw: RawRestart): RestartPolicy {
  return { immediate: raw.immediate, backoffMinMs: raw.backoffMin, backoffMaxMs: raw.backoffMax, maxRestarts: raw.maxRestarts, resetAfterMs: raw.resetAfter };
}

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number; readonly restarts: number }
  | { readonly kind: 'give-up'; readonly restarts: number };

/**
 * `restarts` is how many times this instance's lineage was already restarted; `healthyForMs` how long the
 * instance that just ended had been healthy without interruption (0 if it never was). A long enough healthy
 * stretch forgives the past, as Diego resets its crash count.
 */
export function decideRestart(policy: RestartPolicy, restarts: number, healthyForMs: number): RestartDecision {
  const counted = healthyForMs >= policy.resetAfterMs ? 0 : restarts;
  if (counted >= policy.maxRestarts) return { kind: 'give-up', restarts: counted };
  return { kind: 'restart', delayMs: restartDelay(policy, counted), restarts: counted + 1 };
}

/** 0 for the first `immediate` restarts, then backoffMin doubling per restart, capped at backoffMax. */
export function restartDelay(policy: RestartPolicy, restarts: number): number {
  if (restarts < policy.immediate) return 0;
  return backoffMs(policy.backoffMinMs, policy.backoffMaxMs, restarts - policy.immediate);
}

/**
 * Exponential backoff, the one rule of it: `minMs` doubled `doublings` times, capped at `maxMs` — restarts after
 * their immediate ones, and `lifeguard watch`'s reconnections to the engine.
 */
export function backoffMs(minMs: number, maxMs: number, doublings: number): number {
  // 2^doublings overflows to Infinity long after the cap is reached; Math.min keeps that harmless.
  return Math.min(minMs * 2 ** doublings, maxMs);
}
