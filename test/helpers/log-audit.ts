/**
 * Audits a transition log against its own contract (README "The transition log"), for the reliability tests
 * and the soak run: one line per transition, so each instance's lines chain (`from` is the previous `to`, the
 * first from null; routing lines chain among themselves, the routing state machine's own); every failure (crashed, unhealthy, timed-out) reaches `destroyed`; and every failed instance's
 * `destroyed` is followed by a reschedule or a give-up, unless the supervisor was stopping by then.
 */
import { isRoutingTransition, type Transition } from '../../src/shared/transition.js';

const FAILURES: ReadonlySet<string> = new Set(['crashed', 'unhealthy', 'timed-out']);

/**
 * The violations, none when the log is sound. `complete`: the run has ended, so a failure still on its way to
 * `destroyed` is a violation too (mid-run it is only in progress).
 */
export function auditLog(transitions: readonly Transition[], complete: boolean): string[] {
  const violations: string[] = [];
  const last = new Map<string, Transition>();
  const lastRouting = new Map<string, Transition>();
  const failed = new Set<string>();
  const replaced = new Set<string>();
  const destroyedAt = new Map<string, number>();
  let stoppingAt = Infinity;
  transitions.forEach((t, index) => {
    const chain = isRoutingTransition(t) ? lastRouting : last;
    const previous = chain.get(t.instance);
    if ((previous?.to ?? null) !== t.from) violations.push(`${t.instance}: ${t.from} -> ${t.to} after ${previous?.to ?? 'nothing'}`);
    chain.set(t.instance, t);
    if (FAILURES.has(t.to)) failed.add(t.instance);
    if (t.to === 'destroyed') destroyedAt.set(t.instance, index);
    if (t.cause === 'stopping') stoppingAt = Math.min(stoppingAt, index);
    if (t.replaces !== undefined) replaced.add(t.replaces);
    if (t.to === 'given-up') replaced.add(t.instance);
  });
  for (const instance of failed) {
    const end = last.get(instance)?.to;
    if (end !== 'destroyed' && end !== 'given-up') {
      if (complete) violations.push(`${instance}: failed, but its last state is ${end}`);
    } else if (!replaced.has(instance) && (destroyedAt.get(instance) ?? 0) < stoppingAt) {
      violations.push(`${instance}: destroyed after a failure, never rescheduled`);
    }
  }
  return violations;
}
