/**
 * One interface for both probing strategies, so that an instance's life does not depend on where its checks run:
 * in-process (native) or in a healthcheck agent beside it (sidecar). A readiness probe ends once, passed or
 * failed; a liveness probe ends only by failing. Both report every completed round, for metrics and for the
 * first check after a prewarm claim.
 */
import type { CheckSpec } from '../../checks/types.js';
import type { AgentRunner } from '../drivers/agent-runner.js';
import type { Endpoint } from '../drivers/driver.js';

export interface ProbeTarget {
  readonly app: string;
  readonly instance: string;
  /** Checks name container ports; this says where each is reachable. */
  endpoint(containerPort: number): Endpoint;
  /** Where a sidecar agent runs, when the driver puts it in the instance's context; absent: a local child. */
  readonly agent?: AgentRunner;
}

export interface ReadinessPlan {
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** 0 = never give up. */
  readonly startTimeoutMs: number;
}

export interface LivenessPlan {
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** Failures in a row of one check that end the probe. */
  readonly failureThreshold: number;
  /**
   * When the first round runs, in ms from the probe's start (default 0: at once); later rounds follow every
   * interval from it. A fleet that became healthy together spreads its rounds over the interval this way.
   */
  readonly firstRoundMs?: number;
}

export type ProbeEnd =
  | { readonly kind: 'passed' }
  /** The checks failed; `reason` carries the check failure messages. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** The probe itself broke (a sidecar agent stopped or stuck): no verdict, which must count as a failure. */
  | { readonly kind: 'lost'; readonly reason: string };

export interface ProbeObserver {
  /** `lateMs`: how far behind its tick the round started, where the supervisor keeps the clock (not sidecar). */
  round(passed: boolean, latencyMs: number, lateMs?: number): void;
  /** Told at most once; never after cancel(). */
  end(outcome: ProbeEnd): void;
}

export interface ProbeHandle {
  /** The agent process beside the instance, for the state directory; null when checks run in-process. */
  readonly agentPid: number | null;
  /** Stops every timer, socket and process of this probe; no observer call follows. */
  cancel(): void;
}

export interface Probe {
  readiness(target: ProbeTarget, plan: ReadinessPlan, observer: ProbeObserver): ProbeHandle;
  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle;
  /** Cancels every probe still running and resolves once their processes are gone. */
  close(): Promise<void>;
}

/** A check aimed at where the driver put its container port. */
export function aimed(check: CheckSpec, target: ProbeTarget): CheckSpec {
  const { host, port } = target.endpoint(check.port);
  return { ...check, host, port };
}
