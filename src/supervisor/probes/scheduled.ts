/**
 * Probing on the supervisor's own clock: the supervisor decides when each round runs and judges its results,
 * whatever runs the checks — the check engine in-process (native) or one `healthcheck --mode=once` process per
 * round (oneshot). A probe costs one timer and the round in flight.
 * Rounds are ticks from the probe's first round, not sleeps after a round, so they do not drift; a round that
 * overruns the interval is followed at once by the next, never overlapped.
 */
import type { CheckResult, CheckSpec } from '../../checks/types.js';
import { aimed, type LivenessPlan, type Probe, type ProbeHandle, type ProbeObserver, type ProbeTarget, type ReadinessPlan } from './probe.js';

/** Runs one round: every check given, side by side; one result per check, in order. Never rejects. */
export type RunRound = (checks: readonly CheckSpec[], signal: AbortSignal) => Promise<readonly CheckResult[]>;

export class ScheduledProbe implements Probe {
  private readonly running = new Set<Rounds>();

  constructor(private readonly runRound: RunRound) {}

  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle {
    const checks = plan.checks.map((check) => aimed(check, target));
    const pending = new Set(checks);
    const lastErrors = new Map<CheckSpec, string>();
    // The first round at once (an app may be ready already); the later ones at a random phase, so that instances
    // started together (an evacuation) do not check in one burst at every tick, which would make the last checks
    // of each burst late by the time the burst takes.
    const phaseShiftMs = Math.random() * plan.intervalMs;
    const rounds = this.begin(plan.intervalMs, 0, phaseShiftMs, observer, () => [...pending], (due, results) => {
      results.forEach((result, i) => {
        const check = due[i] as CheckSpec;
        if (result.passed) pending.delete(check);
        else lastErrors.set(check, result.error.message);
      });
      return pending.size === 0 ? { kind: 'passed' } : undefined;
    });
    if (plan.startTimeoutMs > 0) {
      rounds.deadline(plan.startTimeoutMs, () => ({
        kind: 'failed',
        reason: [...pending].map((check) => lastErrors.get(check) ?? `no attempt finished in ${plan.startTimeoutMs}ms`).join('; '),
      }));
    }
    return rounds;
  }

  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle {
    const checks = plan.checks.map((check) => aimed(check, target));
    const failuresInARow = checks.map(() => 0);
    return this.begin(plan.intervalMs, plan.firstRoundMs ?? 0, 0, observer, () => checks, (_, results) => {
      for (const [i, result] of results.entries()) {
        failuresInARow[i] = result.passed ? 0 : (failuresInARow[i] as number) + 1;
        if (!result.passed && (failuresInARow[i] as number) >= plan.failureThreshold) return { kind: 'failed', reason: result.error.message };
      }
      return undefined;
    });
  }

  async close(): Promise<void> {
    for (const rounds of this.running) rounds.cancel();
  }

  private begin(intervalMs: number, firstRoundMs: number, phaseShiftMs: number, observer: ProbeObserver, due: () => readonly CheckSpec[], judge: Judge): Rounds {
    const rounds = new Rounds(intervalMs, this.runRound, due, judge, observer, () => this.running.delete(rounds));
    this.running.add(rounds);
    rounds.first(firstRoundMs, phaseShiftMs);
    return rounds;
  }
}

type Verdict = Parameters<ProbeObserver['end']>[0];
type Judge = (due: readonly CheckSpec[], results: readonly CheckResult[]) => Verdict | undefined;

/** One probe's schedule: the next tick, the deadline, the round in flight; cancel() stops all three. */
class Rounds implements ProbeHandle {
  readonly agentPid = null;
  /** When the first round is due. */
  private firstDue = 0;
  /** Every later tick n is due at origin + n × interval. */
  private origin = 0;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private done = false;
  private ticks = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly runRound: RunRound,
    private readonly due: () => readonly CheckSpec[],
    private readonly judge: Judge,
    private readonly observer: ProbeObserver,
    private readonly forget: () => void,
  ) {}

  /** `shiftMs` (below the interval) brings every round after the first that much closer to it. */
  first(delayMs: number, shiftMs: number): void {
    this.firstDue = performance.now() + delayMs;
    this.origin = this.firstDue - shiftMs;
    if (delayMs <= 0) void this.tick();
    else this.timer = setTimeout(this.tick, delayMs);
  }

  deadline(ms: number, verdict: () => Verdict): void {
    this.deadlineTimer = setTimeout(() => this.finish(verdict()), ms);
  }

  private readonly tick = async (): Promise<void> => {
    this.timer = undefined;
    const checks = this.due();
    const roundStart = performance.now();
    // How far behind its tick this round starts: a busy event loop shows here first.
    const lateMs = Math.max(0, roundStart - (this.ticks === 0 ? this.firstDue : this.origin + this.ticks * this.intervalMs));
    const results = await this.runRound(checks, this.abort.signal);
    if (this.done) return;
    this.observer.round(results.every((r) => r.passed), performance.now() - roundStart, lateMs);
    if (this.done) return;
    const verdict = this.judge(checks, results);
    if (verdict !== undefined) return this.finish(verdict);
    const elapsed = performance.now() - this.origin;
    // After an overrun the missed tick runs at once, once: later missed ticks are skipped, not burst.
    this.ticks = Math.max(this.ticks + 1, Math.floor(elapsed / this.intervalMs));
    this.timer = setTimeout(this.tick, Math.max(0, this.ticks * this.intervalMs - elapsed));
  };

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    this.abort.abort();
    this.forget();
  }

  private finish(verdict: Verdict): void {
    if (this.done) return;
    this.cancel();
    this.observer.end(verdict);
  }
}
