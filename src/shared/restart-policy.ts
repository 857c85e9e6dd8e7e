/**
 * Diego's restart policy as pure arithmetic: the controller asks what to do after an unasked-for exit and
 * gets a delay or a give-up, so the numbers can be tested without processes or clocks.
 */
import type { RestartPolicy } from '../supervisor/spec/types.js';

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
  const doublings = restarts - policy.immediate;
  // 2^doublings overflows to Infinity long after the cap is reached; Math.min keeps that harmless.
  return Math.min(policy.backoffMinMs * 2 ** doublings, policy.backoffMaxMs);
}
