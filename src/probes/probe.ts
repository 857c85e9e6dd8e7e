/**
 * One interface for every probing strategy, so that an instance's life does not depend on where its checks run:
 * in the supervisor (native), in one agent process per round (oneshot) or in one agent beside the instance for
 * its whole life (sidecar). A lifecycle probe says `ready` once readiness has passed and goes on with liveness;
 * it ends only by failing. Every completed round is reported, for metrics and for the first check after a
 * prewarm claim.
 */
import type { CheckSpec } from '../checks/types.js';
import type { AgentOutcome } from '../engine/types.js';
import { failureReason } from '../protocol/report.js';
import type { AgentRunner } from './agent-runner.js';
import type { AppUser } from '../shared/users.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ProbeTarget {
  readonly app: string;
  readonly instance: string;
  /** Checks name container ports; this says where each is reachable. */
  endpoint(containerPort: number): Endpoint;
  /** Where a sidecar agent runs, when the driver puts it in the instance's context; absent: a local child. */
  readonly agent?: AgentRunner;
  /** The user the app runs as, when not lifeguard's own: its sidecar agent runs as that user too. */
  readonly user?: AppUser;
}

export interface ReadinessPlan {
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** 0 = never give up. */
  readonly startupTimeoutMs: number;
  /** Passes in a row before a check counts as passed (default 1). */
  readonly successThreshold?: number;
}

export interface LivenessPlan {
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** Failures in a row of one check that end the probe. */
  readonly failureThreshold: number;
}

/** Routing checks (README "Routing"): a verdict after every round, never an end. */
export interface RoutingChecksPlan {
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** Failures in a row of one check that make the verdict unroutable. */
  readonly failureThreshold: number;
  /** Passes in a row of every check that make it routable. */
  readonly successThreshold: number;
}

export interface LifecyclePlan {
  readonly readiness: ReadinessPlan;
  readonly liveness: LivenessPlan;
}

export type Phase = 'readiness' | 'liveness';

/** Why a probe ended; a probe only ends by failing. */
type ProbeCause =
  /** Readiness ran out of time. */
  | 'timed-out'
  /** A check failed for good. */
  | 'unhealthy'
  /** The probe itself broke (a sidecar agent stopped, stuck or gone): no verdict, which must count as a failure. */
  | 'agent-lost';

export interface ProbeEnd {
  readonly phase: Phase;
  readonly cause: ProbeCause;
  /** The failing checks' messages, or what became of the agent. */
  readonly reason: string;
}

export interface ProbeObserver {
  /** `lateMs`: how far behind its tick the round started, where the supervisor keeps the clock (not sidecar). */
  round(phase: Phase, passed: boolean, latencyMs: number, lateMs?: number): void;
  /** Readiness passed; liveness goes on in the same probe. */
  ready(): void;
  /** Told at most once; never after cancel(). */
  end(end: ProbeEnd): void;
  /**
   * The probe's agent process started after the probe did (it waited its turn to boot): `agentPid` has changed,
   * for whoever records the processes to stop after a crash.
   */
  agentStarted?(): void;
}

export interface RoutingObserver {
  round(passed: boolean, latencyMs: number, lateMs?: number): void;
  /** After every round that has a verdict (none until a threshold is first reached); `reason`: the failing checks'. */
  verdict(routable: boolean, reason: string): void;
}

export interface ProbeHandle {
  /** The agent process beside the instance, for the state directory; null when checks run in-process. */
  readonly agentPid: number | null;
  /** Stops every timer, socket and process of this probe; no observer call follows. */
  cancel(): void;
}

export interface Probe {
  lifecycle(target: ProbeTarget, plan: LifecyclePlan, observer: ProbeObserver): ProbeHandle;
  /** Liveness alone: a claimed prewarm instance, watched with its app's checks from the claim on. */
  liveness(target: ProbeTarget, plan: LivenessPlan, observer: ProbeObserver): ProbeHandle;
  /** Cancels every probe still running and resolves once their processes are gone. */
  close(): Promise<void>;
}

/**
 * Routing checks, run where the load balancer stands: in the supervisor, whatever the app's probe strategy
 * (LoopProbe over the check engine). A routing probe never ends on its own; only cancel() stops it.
 */
export interface RoutingProbe {
  routing(target: ProbeTarget, plan: RoutingChecksPlan, observer: RoutingObserver): ProbeHandle;
}

/** A check aimed at where the driver put its container port. */
export function aimed(check: CheckSpec, target: ProbeTarget): CheckSpec {
  const { host, port } = target.endpoint(check.port);
  // Not `{ ...check, host, port }`: V8 (Node 20) gives every object made so a hidden class of its own, and ten
  // thousand instances' specs then cost ten thousand classes (memory) and make every read of a spec's fields in
  // the check engine megamorphic (CPU per check). Object.assign onto a fresh literal shares one class.
  return Object.assign({}, check, { host, port });
}

/** A failed loop's end, the same whoever ran the loop (the supervisor or an agent, whose report this reads too). */
export function loopEnd(phase: Phase, checks: AgentOutcome['checks']): ProbeEnd {
  // Readiness ends failing only when its time is up (or there is nothing to check on, which no time mends).
  return { phase, cause: phase === 'readiness' ? 'timed-out' : 'unhealthy', reason: failureReason(checks) };
}
