/**
 * Native probing: the check engine runs in the supervisor for every instance, as Diego's NetCheckAction
 * proposes. A probe costs one timer and the sockets of its checks in flight, never a process.
 * Rounds are ticks from the probe's start, not sleeps after a round, so they do not drift; a round that
 * overruns the interval is followed at once by the next, never overlapped.
 */
import { runCheck } from '../../checks/run-check.js';
import type { CheckResult, CheckSpec } from '../../checks/types.js';
import { aimed, type LivenessPlan, type Probe, type ProbeHandle, type ProbeObserver, type ProbeTarget, type ReadinessPlan } from './probe.js';

export class NativeProbe implements Probe {
  private readonly running = new Set<Rounds>();

  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle {
    const checks = plan.checks.map((check) => aimed(check, target));
    const pending = new Set(checks);
    const lastErrors = new Map<CheckSpec, string>();
    const rounds = this.begin(plan.intervalMs, observer, () => [...pending], (results) => {
      results.forEach(([check, result]) => {
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
    const failuresInARow = new Map<CheckSpec, number>();
    return this.begin(plan.intervalMs, observer, () => checks, (results) => {
      for (const [check, result] of results) {
        failuresInARow.set(check, result.passed ? 0 : (failuresInARow.get(check) ?? 0) + 1);
        if (!result.passed && (failuresInARow.get(check) as number) >= plan.failureThreshold) {
          return { kind: 'failed', reason: result.error.message };
        }
      }
      return undefined;
    });
  }

  async close(): Promise<void> {
    for (const rounds of this.running) rounds.cancel();
  }

  private begin(intervalMs: number, observer: ProbeObserver, due: () => readonly CheckSpec[], judge: Judge): Rounds {
    const rounds = new Rounds(intervalMs, due, judge, observer, () => this.running.delete(rounds));
    this.running.add(rounds);
    rounds.tick();
    return rounds;
  }
}

type Verdict = Parameters<ProbeObserver['end']>[0];
type Judge = (results: readonly (readonly [CheckSpec, CheckResult])[]) => Verdict | undefined;

/** One probe's schedule: the next tick, the deadline, the checks in flight; cancel() stops all three. */
class Rounds implements ProbeHandle {
  readonly agentPid = null;
  private readonly startedAt = performance.now();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private done = false;
  private ticks = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly due: () => readonly CheckSpec[],
    private readonly judge: Judge,
    private readonly observer: ProbeObserver,
    private readonly forget: () => void,
  ) {}

  deadline(ms: number, verdict: () => Verdict): void {
    this.deadlineTimer = setTimeout(() => this.finish(verdict()), ms);
  }

  readonly tick = async (): Promise<void> => {
    this.timer = undefined;
    const checks = this.due();
    const roundStart = performance.now();
    const results = await Promise.all(checks.map(async (check) => [check, await runCheck(check, this.abort.signal)] as const));
    if (this.done) return;
    this.observer.round(results.every(([, r]) => r.passed), performance.now() - roundStart);
    if (this.done) return;
    const verdict = this.judge(results);
    if (verdict !== undefined) return this.finish(verdict);
    const elapsed = performance.now() - this.startedAt;
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
