import type { CheckSpec } from '../../checks/types.js';
import type { CgroupLimits } from '../host/cgroup.js';
import type { OutputSpec } from '../host/output.js';
import type { RestartPolicy } from '../../shared/restart-policy.js';
import type { RoutableInstances, CheckEvent } from '../../shared/status.js';
import type { Transition } from '../../shared/transition.js';
import type { AppUser } from '../../shared/users.js';

/** `oneshot`: one `healthcheck --mode=once` process per round, as Diego probed before sidecars. */
export type ProbeStrategy = 'sidecar' | 'native' | 'oneshot';
export type DriverName = 'process' | 'netns' | 'docker';

/** How a changed app is rolled (Kubernetes' RollingUpdate): instances over, and healthy instances under, its count. */
export interface RolloutPolicy {
  /** Replacements started beyond the desired count at once (default 1). */
  readonly maxSurge: number;
  /** How far the healthy count may drop below the desired count (default 0); never both 0. */
  readonly maxUnavailable: number;
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

/** Events a Supervisor emits (it is an EventEmitter). */
export interface SupervisorEvents {
  transition: [Transition];
  /** A check result under native probing or a report line from a sidecar, for metrics; never logged. */
  check: [CheckEvent];
  /** An app's routable instances changed (told once per change, in the turn of the transition that made it). */
  endpoints: [RoutableInstances];
  /** stop() is done: every instance is gone. */
  stopped: [];
  /** start() killed the processes (these pids) a previous supervisor on the same state directory left running. */
  reaped: [pids: readonly number[]];
}
