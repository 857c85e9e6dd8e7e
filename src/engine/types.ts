import type { LifeguardError } from '../checks/errors.js';
import type { InterfaceRule } from '../checks/host.js';
import type { CancelScope } from '../checks/cancel.js';
import type { CheckResult, CheckSpec } from '../checks/types.js';

/** `lifecycle`: readiness, then liveness in the same process (one agent per instance life). */
export type AgentMode = 'readiness' | 'liveness' | 'until-ready' | 'once' | 'lifecycle';
/**
 * The modes one loop runs; lifecycle is two of them in a row. `routing` is the supervisor's alone (an agent is
 * never given it): it never ends, and tells each round's verdict instead (see `LoopContext.onVerdict`).
 */
export type LoopMode = Exclude<AgentMode, 'lifecycle'> | 'routing';

export interface LoopOptions {
  readonly mode: LoopMode;
  /** Round period, counted from the first round (ticks, not sleeps). */
  readonly intervalMs: number;
  /** Readiness only; 0 = never give up. Counts from the loop's start, initial delay included. */
  readonly startupTimeoutMs: number;
  readonly initialDelayMs: number;
  /** Liveness: consecutive failures of one check that end the run; routing: that make the verdict a failure. */
  readonly failureThreshold: number;
  /** Readiness: consecutive passes before a check counts as passed (default 1); routing: of every check, before the verdict is a pass. */
  readonly successThreshold?: number;
  /** Brings every round after the first this much closer to it (below the interval); default 0. */
  readonly phaseShiftMs?: number;
  /**
   * Ticks count from this long before the loop began (default 0). Its first round still runs at once, on the last
   * tick at or before it (the ticks that passed are not made up for), and its startup timeout and elapsed times
   * still count from its start. The CF dialect puts the ticks' origin at the process's start, where the Go
   * binary's ticker starts.
   */
  readonly ticksFromMsAgo?: number;
}

export interface AgentOptions extends Omit<LoopOptions, 'mode' | 'phaseShiftMs' | 'ticksFromMsAgo'> {
  readonly mode: AgentMode;
  /** Every check must pass once for readiness; any one failing failureThreshold times in a row ends liveness. */
  readonly checks: readonly CheckSpec[];
  /** Lifecycle: the readiness phase's checks, when not `checks`. */
  readonly readinessChecks?: readonly CheckSpec[];
  /** Lifecycle: the readiness phase's period (`intervalMs` is the liveness phase's). */
  readonly startupIntervalMs?: number;
  /** How checks without a host find this machine's address; `lifeguard` when not given. */
  readonly interfaceRule?: InterfaceRule;
  /**
   * Rounds fall due on ticks from the process's start (the runtime's, before any of our code ran), not from the
   * first round: the CF dialect's, so that a slow start-up does not push every round back.
   */
  readonly fromProcessStart?: boolean;
}

/**
 * Runs one round: every check given, side by side; `done` is told one result per check, in order, once (it may
 * be before the round returns). A callback rather than a promise: the supervisor runs one per instance each
 * interval (see check-round.ts).
 */
export type RunRound = (checks: readonly CheckSpec[], cancel: CancelScope, done: (results: readonly CheckResult[]) => void) => void;

export interface CheckReport {
  /** `tcp://host:port` or `http://host:port/path`, as the operator would write it. */
  readonly target: string;
  readonly kind: CheckSpec['kind'];
  readonly passed: boolean;
  readonly lastError?: LifeguardError;
  readonly lastLatencyMs?: number;
}

/** How a loop ended: every check passed, one failed for good, readiness ran out of time, or its caller stopped it. */
export type LoopEnd = 'passed' | 'failed' | 'timed-out' | 'cancelled';

export interface AgentOutcome {
  /** The loop that ended: a lifecycle agent ends in its readiness or its liveness phase. */
  readonly mode: LoopMode;
  readonly end: LoopEnd;
  readonly passed: boolean;
  /** Readiness gave up at its startup timeout. */
  readonly timedOut: boolean;
  readonly exitCode: number;
  readonly elapsedMs: number;
  /** Completed rounds. */
  readonly attempts: number;
  /** The failure that decided the exit code (the last one seen), when the loop failed or timed out. */
  readonly failure?: LifeguardError;
  readonly checks: readonly CheckReport[];
}

export interface Round {
  readonly attempt: number;
  readonly passed: boolean;
  /** From the loop's start, initial delay included. */
  readonly elapsedMs: number;
  /** How long this round's checks took. */
  readonly latencyMs: number;
  /** How far behind its tick the round started. */
  readonly lateMs: number;
}

/** Told after every completed round; the sidecar heartbeat is written from here. */
export type RoundObserver = (round: Round) => void;

/**
 * A routing loop's verdict after a round: `passed` once every check has passed successThreshold times in a row,
 * failed once one check has failed failureThreshold times in a row, else the verdict before (none before the first).
 * `checks` are the per-check reports of the round, for the failure's reason.
 */
interface RoundVerdict {
  readonly passed: boolean;
  readonly checks: readonly CheckReport[];
}

export type VerdictObserver = (verdict: RoundVerdict) => void;
