import type { LifeguardError } from '../checks/errors.js';
import { timedOutAfter } from '../checks/run-check.js';
import { formatTarget } from '../checks/target.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';
import type { CheckReport } from './types.js';

/**
 * One check's counters, in the manner of the Kubernetes prober worker: told each result, it keeps what the
 * modes decide on. It runs nothing and knows nothing of modes.
 */
export class CheckCounter {
  /** Made when a report first asks for it: a supervisor holds one counter per instance for months. */
  private targetText: string | undefined;
  /** Readiness needs each check to pass once (successThreshold times in a row, Consul's success_before_passing). */
  passedOnce = false;
  successesInARow = 0;
  /** Liveness ends when this reaches the failure threshold. */
  failuresInARow = 0;
  /** When the last failure arrived, so that a readiness timeout reports the most recent one. */
  lastFailedAt = -Infinity;
  private last: CheckResult | undefined;
  /** When the attempt in flight began, so that one cut short by the loop can still be reported. */
  private inFlightSince: number | undefined;

  constructor(
    readonly spec: CheckSpec,
    private readonly successThreshold: number,
  ) {}

  get target(): string {
    this.targetText ??= formatTarget(this.spec);
    return this.targetText;
  }

  /** The passes in a row reach the success threshold now (routing's way back to a pass). */
  get atSuccessThreshold(): boolean {
    return this.successesInARow >= this.successThreshold;
  }

  get lastResult(): CheckResult | undefined {
    return this.last;
  }

  began(now: number): void {
    this.inFlightSince = now;
  }

  record(result: CheckResult, now: number): void {
    this.inFlightSince = undefined;
    this.last = result;
    if (result.passed) {
      this.failuresInARow = 0;
      this.successesInARow += 1;
      if (this.successesInARow >= this.successThreshold) this.passedOnce = true;
    } else {
      this.successesInARow = 0;
      this.failuresInARow += 1;
      this.lastFailedAt = now;
    }
  }

  /**
   * The error to report: the last failure, or, when no attempt ever finished because the loop gave up first,
   * the timeout of the check's kind after as long as the check had been waited for.
   */
  lastError(now: number, loopStarted: number): LifeguardError | undefined {
    if (this.last !== undefined) return this.last.passed ? undefined : this.last.error;
    return timedOutAfter(this.spec, now - (this.inFlightSince ?? loopStarted));
  }

  /** `sticky`: one pass is for good (readiness); otherwise the last results decide (liveness, once). */
  report(sticky: boolean, now: number, loopStarted: number): CheckReport {
    const passed = sticky ? this.passedOnce : this.last?.passed === true;
    const lastError = passed ? undefined : this.lastError(now, loopStarted);
    const report: { -readonly [K in keyof CheckReport]: CheckReport[K] } = { target: this.target, kind: this.spec.kind, passed };
    if (lastError !== undefined) report.lastError = lastError;
    if (this.last !== undefined) report.lastLatencyMs = this.last.latencyMs;
    return report;
  }
}
