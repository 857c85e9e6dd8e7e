import type { LifeguardError } from '../checks/errors.js';
import type { CheckSpec } from '../checks/types.js';

export type AgentMode = 'readiness' | 'liveness' | 'until-ready' | 'once';

export interface AgentOptions {
  readonly mode: AgentMode;
  /** Every check must pass once for readiness; any one failing failureThreshold times in a row ends liveness. */
  readonly checks: readonly CheckSpec[];
  /** Round period, counted from the start (ticks, not sleeps). */
  readonly intervalMs: number;
  /** Readiness only; 0 = never give up. */
  readonly startupTimeoutMs: number;
  readonly initialDelayMs: number;
  /** Liveness: consecutive failures of one check that end the run. */
  readonly failureThreshold: number;
}

export interface CheckReport {
  /** `tcp://host:port` or `http://host:port/path`, as the operator would write it. */
  readonly target: string;
  readonly kind: CheckSpec['kind'];
  readonly passed: boolean;
  readonly lastError?: LifeguardError;
  readonly lastLatencyMs?: number;
}

export interface AgentOutcome {
  readonly mode: AgentMode;
  readonly passed: boolean;
  readonly exitCode: number;
  readonly elapsedMs: number;
  /** Completed rounds. */
  readonly attempts: number;
  /** Readiness gave up at its startup timeout. */
  readonly timedOut: boolean;
  /** The failure that decided the exit code (the last one seen), if any. */
  readonly failure?: LifeguardError;
  readonly checks: readonly CheckReport[];
}

/** Told after every completed round; the sidecar heartbeat is written from here. */
export interface RoundObserver {
  (round: { readonly attempt: number; readonly passed: boolean; readonly elapsedMs: number }): void;
}
