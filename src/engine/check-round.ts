import type { Cancel } from '../checks/cancel.js';
import { startCheck } from '../checks/run-check.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';

/** What a round's checks may have to pass through first: a bound on checks in flight (the native probe's Limit). */
export interface Gate {
  /** Runs `begin` now, or in its turn; whoever began leaves once its work is done. */
  enter(begin: () => void): void;
  leave(): void;
}

/**
 * A round run by the check engine in this process (the agent's; the native probe's, through its gate): every
 * check side by side, and `done` told their results in order once all have one. Callbacks, not promises: the
 * supervisor runs a round a second per instance, and the promises, their reactions and the closures around them
 * were a fifth of what a check allocated.
 */
export function checkRound(checks: readonly CheckSpec[], cancel: Cancel, done: (results: readonly CheckResult[]) => void, gate?: Gate): void {
  const results: CheckResult[] = [];
  let left = checks.length;
  if (left === 0) return done(results);
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as CheckSpec;
    const begin = (): void =>
      startCheck(check, cancel, (result) => {
        gate?.leave();
        results[i] = result;
        left -= 1;
        if (left === 0) done(results);
      });
    if (gate === undefined) begin();
    else gate.enter(begin);
  }
}
