import type { CheckSpec } from '../../checks/types.js';
import type { CgroupLimits } from '../host/cgroup.js';
import type { OutputSpec } from '../host/output.js';

/** The `to` of a transition, and the state an instance is in (ARCHITECTURE.md "The instance state machine"). */
export type InstanceState =
  | 'scheduled'
  | 'starting'
  | 'healthy'
  | 'unhealthy'
  | 'timed-out'
  | 'crashed'
  | 'destroying'
  | 'destroyed'
  | 'claimed'
  | 'given-up';

/** `oneshot`: one `healthcheck --mode=once` process per round, as Diego probed before sidecars. */
export type ProbeStrategy = 'sidecar' | 'native' | 'oneshot';
export type DriverName = 'process' | 'netns' | 'docker';

export interface AppUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** How a changed app is rolled (Kubernetes' RollingUpdate): instances over, and healthy instances under, its count. */
export interface RolloutPolicy {
  /** Replacements started beyond the desired count at once (default 1). */
  readonly maxSurge: number;
  /** How far the healthy count may drop below the desired count (default 0); never both 0. */
  readonly maxUnavailable: number;
}

/** Diego's restart policy; every number configurable. */
export interface RestartPolicy {
  /** Crashes restarted at once before backoff starts. */
  readonly immediate: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Restarts after which the instance is given up. */
  readonly maxRestarts: number;
  /** A healthy stretch this long resets the crash count. */
  readonly resetAfterMs: number;
}

/**
 * An app's `routing` section (README "Routing"): checks that decide whether a healthy instance is in the app's
 * endpoints, never whether it lives. They run in the supervisor over the check engine whatever the app's probe
 * strategy, from the moment the instance is healthy, in a loop that never ends the instance.
 */
export interface RoutingPlan {
  /** Empty: a healthy member is routable. */
  readonly checks: readonly CheckSpec[];
  readonly intervalMs: number;
  /** Failures in a row of one check that make the instance unroutable. */
  readonly failureThreshold: number;
  /** Passes in a row of every check that make it routable (again). */
  readonly successThreshold: number;
  /** A requested destroy of a routable instance leaves the endpoints at once, then waits this long before the driver's destroy. */
  readonly drainMs: number;
}

/** One app, with every default already applied (the config layer does that). */
export interface AppSpec {
  readonly name: string;
  /** argv, never a shell string. Required for process/netns; for docker, the container's command. */
  readonly command?: readonly string[];
  /** The app's working directory (process and netns drivers); a relative command is found from it. Absent: the supervisor's. */
  readonly cwd?: string;
  /** Run as this user (process and netns drivers; the supervisor must be root). Absent: the supervisor's own. */
  readonly user?: AppUser;
  readonly image?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly instances: number;
  /** Container ports; the process driver maps each to a free host port and sets PORT to the first. */
  readonly ports: readonly number[];
  /** Liveness checks, with `port` a container port and `host` unset (the driver supplies the address). */
  readonly checks: readonly CheckSpec[];
  /** Readiness checks; the liveness checks when the definition gives none. */
  readonly readinessChecks: readonly CheckSpec[];
  readonly startupTimeoutMs: number;
  /** Readiness: passes in a row before a check counts as passed (default 1). */
  readonly successThreshold?: number;
  readonly startupIntervalMs: number;
  readonly livenessIntervalMs: number;
  readonly probe: ProbeStrategy;
  readonly driver: DriverName;
  readonly gracePeriodMs: number;
  readonly prewarm: number;
  readonly restart: RestartPolicy;
  /** How a change of this app's spec is rolled out; absent: DEFAULT_ROLLOUT. */
  readonly rollout?: RolloutPolicy;
  /** memory.max, cpu.max, pids.max of each instance's cgroup (process and netns drivers); absent: none. */
  readonly limits?: CgroupLimits;
  /** Where the app's stdout and stderr go (process and netns drivers); absent: DEFAULT_OUTPUT. */
  readonly output?: OutputSpec;
  /** Probe rounds kept per instance for /status and the status page; absent: DEFAULT_CHECK_HISTORY. */
  readonly checkHistory?: number;
  /** Absent: no routing checks (a healthy member is routable) and no drain. */
  readonly routing?: RoutingPlan;
}

/**
 * Why a transition happened, as a field that log readers, metrics and tests match on instead of the prose:
 * `backfill` and `restart` schedule an instance; `crashed`, `timed-out`, `unhealthy` and `agent-lost` (the probe
 * itself broke) end one; `asked` and `stopping` (the supervisor stops) destroy one on request; `restart-limit`
 * gives one up. A `destroying` and `destroyed` carry the cause of the failure or request that led to them.
 * `permanent` is a start that no retry can fix (no such command, no such image): it crashes the instance, and gives
 * it up at once. A config applied to a running supervisor (README "Reload and apply") schedules replacements with
 * `roll`, destroys with `rolled` (replaced by a rolling update), `scaled-down` or `removed` (its app left the config),
 * and gives up with `roll-halted` the replacement that never became healthy, which halts the roll.
 */
export type TransitionCause =
  | 'backfill'
  | 'restart'
  | 'crashed'
  | 'timed-out'
  | 'unhealthy'
  | 'agent-lost'
  | 'asked'
  | 'stopping'
  | 'restart-limit'
  | 'permanent'
  | 'roll'
  | 'rolled'
  | 'scaled-down'
  | 'removed'
  | 'roll-halted';

/** The facts a transition may carry beside its message. */
export interface TransitionFacts {
  readonly cause?: TransitionCause;
  /** A replacement: the instance it replaces. */
  readonly replaces?: string;
  /** A replacement: its lineage's restart number, and the most the restart policy allows. */
  readonly restart?: number;
  readonly restartLimit?: number;
}

/**
 * Whether an instance is in its app's endpoints: a second small state machine beside InstanceState, for apps with
 * routing checks only (without them, `healthy` is routable and the log says nothing more). Its first verdict
 * comes from null; it goes back and forth on its routing checks' verdicts, and to `unroutable` when a routable
 * instance leaves `healthy`.
 */
export type RoutingState = 'routable' | 'unroutable';

/**
 * Why an instance's routability changed: its routing checks' verdict (`checks-passed`, `checks-failed`), or the
 * cause of the transition that took a routable instance out of `healthy` (`unhealthy`, `crashed`, `asked`, ...).
 */
export type RoutingCause = 'checks-passed' | 'checks-failed' | TransitionCause;

/** What every line of the transition log has. */
interface TransitionLine {
  /** ISO 8601. */
  readonly time: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly app: string;
  readonly instance: string;
  readonly msg: string;
  readonly reason?: string;
}

/** A move of the instance state machine. */
export interface StateTransition extends TransitionLine, TransitionFacts {
  readonly from: InstanceState | null;
  readonly to: InstanceState;
}

/** A move of the routing state machine. */
export interface RoutingTransition extends TransitionLine {
  readonly from: RoutingState | null;
  readonly to: RoutingState;
  readonly cause: RoutingCause;
  /** The instance machine's facts, never on a routing move (so that readers of the log need not tell the two apart to read them). */
  readonly replaces?: undefined;
  readonly restart?: undefined;
  readonly restartLimit?: undefined;
}

export type Transition = StateTransition | RoutingTransition;

export function isRoutingTransition(t: Transition): t is RoutingTransition {
  return t.to === 'routable' || t.to === 'unroutable';
}

export interface InstanceStatus {
  readonly id: string;
  readonly state: InstanceState;
  /** host:port of the first port, once assigned. */
  readonly address: string | null;
  readonly pid: number | null;
  readonly restarts: number;
  /** ISO 8601 time of the last transition. */
  readonly since: string;
  /** Its last probe rounds, oldest first (the supervisor's instances; `lifeguard watch` keeps none). */
  readonly checks?: readonly CheckRecord[];
  /** In its app's endpoints now (the supervisor's instances; `lifeguard watch` routes nothing). */
  readonly routable?: boolean;
}

/** One probe round of an instance, as /status shows it. */
export interface CheckRecord {
  /** ISO 8601. */
  readonly time: string;
  readonly phase: CheckEvent['phase'];
  readonly passed: boolean;
  readonly latencyMs: number;
}

export interface AppStatus {
  readonly name: string;
  readonly desired: number;
  /** The prewarm pool's size; 0: the app cannot be claimed from. */
  readonly prewarmDesired: number;
  readonly instances: readonly InstanceStatus[];
  readonly prewarm: readonly InstanceStatus[];
  /** A rolling update under way or halted; absent: every instance runs the app's current spec. */
  readonly rollout?: RolloutStatus;
}

export interface RolloutStatus {
  readonly state: 'rolling' | 'halted';
  /** Member instances on the current spec, and on an earlier one. */
  readonly updated: number;
  readonly outdated: number;
  /** Why it halted. */
  readonly reason?: string;
}

export interface SupervisorStatus {
  readonly apps: readonly AppStatus[];
  /** What contains the process and netns drivers' instances; absent with a custom driver. */
  readonly containment?: ContainmentStatus;
  /** The config file `lifeguard run` reloads on SIGHUP (absolute): its own, or the last one applied; absent elsewhere. */
  readonly config?: string;
}

/** Which containment is in force (README "Drivers"). */
export interface ContainmentStatus {
  /** A cgroup per instance (v1: one per hierarchy), or the environment marker alone. */
  readonly kind: 'cgroup v1' | 'cgroup v2' | 'environ';
  /** Where instance cgroups are made (v1: the freezer hierarchy's); once the first is. */
  readonly path?: string;
  /** The controllers limits can use there; once the first instance cgroup is made. */
  readonly controllers?: readonly string[];
  /** Why no cgroup, for `environ`. */
  readonly reason?: string;
}

/** A routable instance, as GET /apps/<name>/endpoints lists it. */
export interface RoutedEndpoint {
  readonly instance: string;
  /** host:port of the instance's first port. */
  readonly address: string;
}

/** An app's routable instances, sorted by instance id. */
export interface AppEndpoints {
  readonly app: string;
  readonly endpoints: readonly RoutedEndpoint[];
}

export interface Claim {
  readonly id: string;
  readonly address: string;
}

/** One probe round's outcome. */
export interface CheckEvent {
  readonly app: string;
  readonly instance: string;
  readonly passed: boolean;
  readonly latencyMs: number;
  /** `routing`: a routing check round (README "Routing"), which never ends the instance. */
  readonly phase: 'readiness' | 'liveness' | 'prewarm' | 'routing';
  /** How far behind its schedule the round started (native and oneshot probing, where the supervisor keeps the clock). */
  readonly lateMs?: number;
}

/** Events a Supervisor emits (it is an EventEmitter). */
export interface SupervisorEvents {
  transition: [Transition];
  /** A check result under native probing or a report line from a sidecar, for metrics; never logged. */
  check: [CheckEvent];
  /** An app's routable instances changed (told once per change, in the turn of the transition that made it). */
  endpoints: [AppEndpoints];
  /** stop() is done: every instance is gone. */
  stopped: [];
  /** start() killed the processes (these pids) a previous supervisor on the same state directory left running. */
  reaped: [pids: readonly number[]];
}
