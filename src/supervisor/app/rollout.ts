/**
 * One step of a rolling update, as a pure decision over counts (Kubernetes' RollingUpdate, Diego's desired-LRP
 * update): which outdated instances to destroy now, and how many replacements to start. The app controller asks
 * again after every change that matters (a replacement became available, an instance was destroyed), so the roll
 * advances as fast as replacements become healthy and no faster.
 *
 * Instances being destroyed are not counted: they serve no more and will be gone within their grace period, as
 * Kubernetes leaves terminating pods out of its surge.
 */
import { z } from 'zod';
import { count } from '../../shared/config-fields.js';
import type { RolloutPolicy } from '../spec/types.js';

export const DEFAULT_ROLLOUT: RolloutPolicy = { maxSurge: 1, maxUnavailable: 0 };

// How a changed app is rolled: Kubernetes' RollingUpdate numbers, as counts of instances.
export const rolloutSchema = z.strictObject({
  maxSurge: count(0).default(DEFAULT_ROLLOUT.maxSurge),
  maxUnavailable: count(0).default(DEFAULT_ROLLOUT.maxUnavailable),
}, { error: 'expected an object' });

export interface RolloutCounts<T> {
  readonly desired: number;
  readonly policy: RolloutPolicy;
  /** Member instances on the current spec, whatever their state. */
  readonly updated: number;
  /** Of those, the ones that serve (healthy, and routable where the app has routing checks). */
  readonly updatedAvailable: number;
  /** Member instances on an earlier spec, oldest first. */
  readonly outdated: readonly { readonly instance: T; readonly available: boolean }[];
}

export interface RolloutStep<T> {
  readonly destroy: readonly T[];
  readonly create: number;
}

export function planRollout<T>({ desired, policy, updated, updatedAvailable, outdated }: RolloutCounts<T>): RolloutStep<T> {
  const minAvailable = Math.max(0, desired - policy.maxUnavailable);
  // What does not serve can go at once: destroying it costs no availability.
  const destroy = outdated.filter((o) => !o.available).map((o) => o.instance);
  let available = updatedAvailable + outdated.length - destroy.length;
  for (const o of outdated) {
    if (!o.available || available - 1 < minAvailable) continue;
    destroy.push(o.instance);
    available--;
  }
  const total = updated + outdated.length - destroy.length;
  const create = Math.max(0, Math.min(desired - updated, desired + policy.maxSurge - total));
  return { destroy, create };
}
