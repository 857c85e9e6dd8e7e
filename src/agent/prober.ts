import { monotonicMs } from '../checks/clock.js';
import { lifeguardError, type LifeguardError } from '../checks/errors.js';
import { runCheck } from '../checks/run-check.js';
import { formatTarget } from '../checks/target.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';
import type { CheckReport } from './types.js';

/**
 * One check's worker, in the manner of the Kubernetes prober: it runs the check when told and keeps the counters
 * the modes decide on. It knows nothing of modes.
 */
export class Prober {
  readonly target: string;
  /** Readiness needs each check to pass once. */
  passedOnce = false;
  /** Liveness ends when this reaches the failure threshold. */
  failuresInARow = 0;
  /** When the last failure arrived, so that a readiness timeout reports the most recent one. */
  lastFailedAt = -Infinity;
  private last: CheckResult | undefined;
  /** When the attempt in flight began, so that one cut short by the agent can still be reported. */
  private inFlightSince: number | undefined;

  constructor(readonly spec: CheckSpec) {
    this.target = formatTarget(spec);
  }

  get lastResult(): CheckResult | undefined {
    return this.last;
  }

  async probe(signal: AbortSignal): Promise<void> {
    this.inFlightSince = monotonicMs();
    const result = await runCheck(this.spec, signal);
    // A check the agent cancelled says nothing about the app.
    if (signal.aborted) return;
    this.inFlightSince = undefined;
    this.last = result;
    if (result.passed) {
      this.passedOnce = true;
      this.failuresInARow = 0;
    } else {
      this.failuresInARow += 1;
      this.lastFailedAt = monotonicMs();
    }
  }

  /**
   * The error to report: the last failure, or, when no attempt ever finished because the agent gave up first,
   * the timeout of the check's kind after as long as the check had been waited for.
   */
  lastError(now: number, agentStarted: number): LifeguardError | undefined {
    if (this.last !== undefined) return this.last.passed ? undefined : this.last.error;
    const waitedMs = now - (this.inFlightSince ?? agentStarted);
    const { spec } = this;
    return spec.kind === 'tcp'
      ? lifeguardError('tcp-timeout', { host: spec.host ?? '', port: spec.port, timeoutMs: waitedMs })
      : lifeguardError('http-timeout', { uri: spec.path, port: spec.port, timeoutMs: waitedMs });
  }

  /** `sticky`: one pass is for good (readiness); otherwise the last result decides (liveness, once). */
  report(sticky: boolean, now: number, agentStarted: number): CheckReport {
    const passed = sticky ? this.passedOnce : this.last?.passed === true;
    const lastError = passed ? undefined : this.lastError(now, agentStarted);
    const report: { -readonly [K in keyof CheckReport]: CheckReport[K] } = { target: this.target, kind: this.spec.kind, passed };
    if (lastError !== undefined) report.lastError = lastError;
    if (this.last !== undefined) report.lastLatencyMs = this.last.latencyMs;
    return report;
  }
}
