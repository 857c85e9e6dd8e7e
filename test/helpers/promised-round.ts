import type { CancelScope } from '../../src/checks/cancel.js';
import type { CheckResult, CheckSpec } from '../../src/checks/types.js';
import type { RunRound } from '../../src/engine/types.js';

/** A round written as an async function, as the tests script them, in the loop's callback form. */
export function promisedRound(round: (checks: readonly CheckSpec[], scope: CancelScope) => Promise<readonly CheckResult[]>): RunRound {
  return (checks, scope, done) => void round(checks, scope).then(done);
}
