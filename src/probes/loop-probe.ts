/**
 * Probing on the supervisor's own clock: the probe loop (src/engine) runs in the supervisor, whatever runs a
 * round's checks — the check engine in-process (native) or one `healthcheck --mode=once` process per round
 * (oneshot). A probe costs the loop's timer and the round in flight.
 */
import { CancelScope } from '../checks/cancel.js';
import type { CheckSpec } from '../checks/types.js';
import { type Clock, realClock } from '../checks/clock.js';
import { runLifecycle } from '../engine/lifecycle.js';
import { type LoopContext, runLoop } from '../engine/probe-loop.js';
import type { AgentOutcome, LoopOptions, RoundObserver, RunRound } from '../engine/types.js';
import { failureReason } from '../protocol/report.js';
import {
  aimed, type LifecyclePlan, type LivenessPlan, loopEnd, type Phase, type Probe, type ProbeHandle, type ProbeObserver, type ProbeTarget,
  type ReadinessPlan, type RoutingChecksPlan, type RoutingObserver, type RoutingProbe,
} from './probe.js';

export class LoopProbe implements Probe, RoutingProbe {
  private readonly running = new Set<CancelScope>();

  constructor(
    private readonly runRound: RunRound,
    /** The loops' time; a sidecar hand-off (handoff.ts) counts its readiness deadline on it too. */
    readonly clock: Clock = realClock,
    /** Where the spread of rounds comes from; tests pin it. */
    private readonly random: () => number = Math.random,
  ) {}

  lifecycle(target: ProbeTarget, plan: LifecyclePlan, observer: ProbeObserver): ProbeHandle {
    const { readiness, liveness } = plan;
    let phase: Phase = 'readiness';
    const ready = this.ready(readiness);
    const readinessChecks = this.aim(readiness.checks, target);
    // The same checks (the usual case) are aimed once: one spec per check for the instance's whole life.
    const livenessChecks = sameChecks(readiness.checks, liveness.checks) ? readinessChecks : this.aim(liveness.checks, target);
    const onReady = (): void => {
      phase = 'liveness';
      observer.ready();
    };
    return this.watch(
      (ctx) => runLifecycle({ options: ready, checks: readinessChecks }, { options: this.live(liveness, true), checks: livenessChecks }, this.runRound, { clock: ctx.clock, signal: ctx.signal, onRound: ctx.onRound, onReady }),
      (round) => observer.round(phase, round.passed, round.latencyMs, round.lateMs),
      (outcome) => observer.end(loopEnd(phase, outcome.checks)),
    );
  }

  /**
   * Readiness alone: `ready` when it passed, `end` when it timed out, and nothing after. A sidecar's readiness
   * while its agent waits its turn to boot (handoff.ts); the agent goes on with liveness.
   */
  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle {
    return this.watch(
      (ctx) => runLoop(this.ready(plan), this.aim(plan.checks, target), this.runRound, ctx),
      (round) => observer.round('readiness', round.passed, round.latencyMs, round.lateMs),
      (outcome) => (outcome.passed ? observer.ready() : observer.end(loopEnd('readiness', outcome.checks))),
    );
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    return this.watch(
      (ctx) => runLoop(this.live(plan, false), this.aim(plan.checks, target), this.runRound, ctx),
      (round) => observer.round('liveness', round.passed, round.latencyMs, round.lateMs),
      (outcome) => observer.end(loopEnd('liveness', outcome.checks)),
    );
  }

  /** The routing loop: the first round at once (a healthy instance may be routable already), later ones at a random phase. */
  routing(target: ProbeTarget, plan: RoutingChecksPlan, observer: RoutingObserver): ProbeHandle {
    const options: LoopOptions = {
      mode: 'routing',
      intervalMs: plan.intervalMs,
      startupTimeoutMs: 0,
      initialDelayMs: 0,
      failureThreshold: plan.failureThreshold,
      successThreshold: plan.successThreshold,
      phaseShiftMs: this.random() * plan.intervalMs,
    };
    return this.watch(
      (ctx) => runLoop(options, this.aim(plan.checks, target), this.runRound, { clock: ctx.clock, signal: ctx.signal, onRound: ctx.onRound, onVerdict: (verdict) => observer.verdict(verdict.passed, failureReason(verdict.checks)) }),
      (round) => observer.round(round.passed, round.latencyMs, round.lateMs),
    );
  }

  async close(): Promise<void> {
    for (const scope of [...this.running]) scope.cancel();
  }

  /**
   * The first readiness round at once (an app may be ready already); the later ones at a random phase, and the
   * first liveness round at a random moment of its interval (live()), so that instances started or made healthy
   * together (an evacuation) do not check in one burst at every tick, which would make the burst's last checks
   * late by the time the burst takes.
   */
  private ready(readiness: ReadinessPlan): LoopOptions {
    return {
      mode: 'readiness',
      intervalMs: readiness.intervalMs,
      startupTimeoutMs: readiness.startupTimeoutMs,
      initialDelayMs: 0,
      failureThreshold: 1,
      ...(readiness.successThreshold === undefined ? {} : { successThreshold: readiness.successThreshold }),
      phaseShiftMs: this.random() * readiness.intervalMs,
    };
  }

  /** `spread`: the first round at a random moment of the interval; otherwise at once (a claim wants a verdict). */
  private live(plan: LivenessPlan, spread: boolean): LoopOptions {
    const initialDelayMs = spread ? Math.floor(this.random() * plan.intervalMs) : 0;
    return { mode: 'liveness', intervalMs: plan.intervalMs, startupTimeoutMs: 0, initialDelayMs, failureThreshold: plan.failureThreshold };
  }

  private aim(checks: readonly CheckSpec[], target: ProbeTarget): CheckSpec[] {
    return checks.map((check) => aimed(check, target));
  }

  /** Runs a loop under a cancel scope of its own; `onEnd` hears how it ended unless it was cancelled (a routing loop has none). */
  private watch(run: (ctx: LoopContext) => Promise<AgentOutcome>, onRound: RoundObserver, onEnd?: (outcome: AgentOutcome) => void): ProbeHandle {
    const scope = new CancelScope();
    this.running.add(scope);
    void run({ clock: this.clock, signal: scope, onRound }).then((outcome) => {
      this.running.delete(scope);
      // A loop that ended just as it was cancelled says nothing: cancel() promises silence.
      if (!scope.cancelled && outcome.end !== 'cancelled') onEnd?.(outcome);
    });
    return {
      agentPid: null,
      cancel: () => {
        scope.cancel();
        this.running.delete(scope);
      },
    };
  }
}

/** Two lists of the same checks, in the same order (an app's readiness checks default to its liveness checks). */
function sameChecks(a: readonly CheckSpec[], b: readonly CheckSpec[]): boolean {
  return a === b || (a.length === b.length && a.every((check, i) => check === b[i]));
}
