/**
 * Probing on the supervisor's own clock: the probe loop (src/engine) runs in the supervisor, whatever runs a
 * round's checks — the check engine in-process (native) or one `healthcheck --mode=once` process per round
 * (oneshot). A probe costs the loop's timer and the round in flight.
 */
import type { CheckSpec } from '../../checks/types.js';
import type { Clock } from '../../engine/clock.js';
import { runLifecycle } from '../../engine/lifecycle.js';
import { runLoop } from '../../engine/probe-loop.js';
import type { AgentOutcome, LoopOptions, RunRound } from '../../engine/types.js';
import { aimed, type LifecyclePlan, type LivenessPlan, loopEnd, type Phase, type Probe, type ProbeHandle, type ProbeObserver, type ProbeTarget } from './probe.js';

export class LoopProbe implements Probe {
  private readonly running = new Set<AbortController>();

  constructor(
    private readonly runRound: RunRound,
    private readonly clock?: Clock,
    /** Where the spread of rounds comes from; tests pin it. */
    private readonly random: () => number = Math.random,
  ) {}

  lifecycle(target: ProbeTarget, plan: LifecyclePlan, observer: ProbeObserver): ProbeHandle {
    const { readiness, liveness } = plan;
    let phase: Phase = 'readiness';
    // The first readiness round at once (an app may be ready already); the later ones at a random phase, and the
    // first liveness round at a random moment of its interval, so that instances started or made healthy
    // together (an evacuation) do not check in one burst at every tick, which would make the burst's last
    // checks late by the time the burst takes.
    const ready: LoopOptions = {
      mode: 'readiness',
      intervalMs: readiness.intervalMs,
      startupTimeoutMs: readiness.startTimeoutMs,
      initialDelayMs: 0,
      failureThreshold: 1,
      ...(readiness.successThreshold === undefined ? {} : { successThreshold: readiness.successThreshold }),
      phaseShiftMs: this.random() * readiness.intervalMs,
    };
    return this.watch(observer, () => phase, (ctx) =>
      runLifecycle({ options: ready, checks: this.aim(readiness.checks, target) }, { options: this.live(liveness, true), checks: this.aim(liveness.checks, target) }, this.runRound, {
        ...ctx,
        onReady: () => {
          phase = 'liveness';
          observer.ready();
        },
      }),
    );
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    return this.watch(observer, () => 'liveness', (ctx) => runLoop(this.live(plan, false), this.aim(plan.checks, target), this.runRound, ctx));
  }

  async close(): Promise<void> {
    for (const controller of this.running) controller.abort();
  }

  /** `spread`: the first round at a random moment of the interval; otherwise at once (a claim wants a verdict). */
  private live(plan: LivenessPlan, spread: boolean): LoopOptions {
    const initialDelayMs = spread ? Math.floor(this.random() * plan.intervalMs) : 0;
    return { mode: 'liveness', intervalMs: plan.intervalMs, startupTimeoutMs: 0, initialDelayMs, failureThreshold: plan.failureThreshold };
  }

  private aim(checks: readonly CheckSpec[], target: ProbeTarget): CheckSpec[] {
    return checks.map((check) => aimed(check, target));
  }

  private watch(
    observer: ProbeObserver,
    phase: () => Phase,
    run: (ctx: { clock?: Clock; signal: AbortSignal; onRound: (round: { passed: boolean; latencyMs: number; lateMs: number }) => void }) => Promise<AgentOutcome>,
  ): ProbeHandle {
    const controller = new AbortController();
    const { signal } = controller;
    this.running.add(controller);
    const ctx = {
      ...(this.clock === undefined ? {} : { clock: this.clock }),
      signal,
      onRound: (round: { passed: boolean; latencyMs: number; lateMs: number }) => observer.round(phase(), round.passed, round.latencyMs, round.lateMs),
    };
    void run(ctx).then((outcome) => {
      this.running.delete(controller);
      // A loop that ended just as it was cancelled says nothing: cancel() promises silence.
      if (!signal.aborted && outcome.end !== 'cancelled') observer.end(loopEnd(phase(), outcome.checks));
    });
    return {
      agentPid: null,
      cancel: () => {
        controller.abort();
        this.running.delete(controller);
      },
    };
  }
}
