import type { CheckSpec } from '../checks/types.js';
import { type LoopContext, runLoop } from './probe-loop.js';
import type { AgentOutcome, LoopOptions, RunRound } from './types.js';

export interface Phase {
  readonly options: LoopOptions;
  readonly checks: readonly CheckSpec[];
}

export interface LifecycleContext extends LoopContext {
  /** Readiness passed and liveness begins; `elapsedMs` from the start. */
  readonly onReady?: (elapsedMs: number) => void;
}

/**
 * An instance's whole watch, as an executor runs its startup step and then its liveness step: readiness until
 * every check has passed (or its startup timeout), then liveness, with fresh counters, until a check fails for
 * good. The agent's lifecycle mode, native and oneshot probing all run it; only their rounds differ.
 */
export function runLifecycle(readiness: Phase, liveness: Phase, runRound: RunRound, ctx: LifecycleContext = {}): Promise<AgentOutcome> {
  return runLoop(readiness.options, readiness.checks, runRound, ctx).then((ready) => {
    if (!ready.passed) return ready;
    ctx.onReady?.(ready.elapsedMs);
    // Only readiness's two numbers are kept for the months liveness runs: not its report, nor an async frame.
    const { elapsedMs, attempts } = ready;
    return runLoop(liveness.options, liveness.checks, runRound, ctx).then((live) => ({ ...live, elapsedMs: elapsedMs + live.elapsedMs, attempts: attempts + live.attempts }));
  });
}
