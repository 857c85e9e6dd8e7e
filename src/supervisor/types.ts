import type { CheckSpec } from '../checks/types.js';
import type { Driver } from './drivers/driver.js';

/** The `to` of a transition, and the state an instance is in (DESIGN.md "Model"). */
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

/** One app, with every default already applied (the config layer does that). */
export interface AppSpec {
  readonly name: string;
  /** argv, never a shell string. Required for process/netns; for docker, the container's command. */
  readonly command?: readonly string[];
  readonly image?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly instances: number;
  /** Container ports; the process driver maps each to a free host port and sets PORT to the first. */
  readonly ports: readonly number[];
  /** Liveness checks, with `port` a container port and `host` unset (the driver supplies the address). */
  readonly checks: readonly CheckSpec[];
  /** Readiness checks; the liveness checks when the definition gives none. */
  readonly readinessChecks: readonly CheckSpec[];
  readonly startTimeoutMs: number;
  readonly startupIntervalMs: number;
  readonly livenessIntervalMs: number;
  readonly probe: ProbeStrategy;
  readonly driver: DriverName;
  readonly gracePeriodMs: number;
  readonly prewarm: number;
  readonly restart: RestartPolicy;
}

export interface Transition {
  /** ISO 8601. */
  readonly time: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly app: string;
  readonly instance: string;
  readonly from: InstanceState | null;
  readonly to: InstanceState;
  readonly msg: string;
  readonly reason?: string;
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
}

export interface AppStatus {
  readonly name: string;
  readonly desired: number;
  readonly instances: readonly InstanceStatus[];
  readonly prewarm: readonly InstanceStatus[];
}

export interface SupervisorStatus {
  readonly apps: readonly AppStatus[];
}

export interface Claim {
  readonly id: string;
  readonly address: string;
}

export interface SupervisorOptions {
  readonly apps: readonly AppSpec[];
  /** Where instance records live, so that a restarted supervisor finds what a killed one left. */
  readonly stateDir: string;
  /** The healthcheck executable the sidecar and oneshot strategies run; defaults to this package's bin/healthcheck.cjs. */
  readonly agentPath?: string;
  /**
   * Runs every app's instances, whatever driver the specs name: an embedder's own driver (a scheduler, a test
   * fixture serving many ports from one process). Absent: each app's `driver` picks a built-in one.
   */
  readonly driver?: Driver;
  /** Where the docker driver finds the engine and what its sidecars run; only read when an app uses it. */
  readonly docker?: DockerSettings;
  /** Numbers a platform rarely changes; tests shorten them. */
  readonly tuning?: SupervisorTuning;
}

export interface DockerSettings {
  /** The Docker Engine API's unix socket (Docker's, or `podman system service`'s); absent: DOCKER_HOST, else /var/run/docker.sock. */
  readonly socketPath?: string;
  /** The single executable bind-mounted into sidecars; default: this package's dist/healthcheck. */
  readonly agentBinary?: string;
  /** The sidecar containers' image (it must run a glibc executable); default: the app's own image. */
  readonly sidecarImage?: string;
}

export interface SupervisorTuning {
  /** How often an unclaimed prewarmed instance is pinged over TCP (OpenWhisk: 3s). */
  readonly prewarmPingIntervalMs?: number;
  /** Failed pings in a row that destroy a prewarmed instance (OpenWhisk: 3). */
  readonly prewarmPingFailures?: number;
  /** Slack on top of interval + check timeout before a silent sidecar agent counts as lost (default 1s). */
  readonly heartbeatGraceMs?: number;
}

/** One probe round's outcome. */
export interface CheckEvent {
  readonly app: string;
  readonly instance: string;
  readonly passed: boolean;
  readonly latencyMs: number;
  readonly phase: 'readiness' | 'liveness' | 'prewarm';
  /** How far behind its schedule the round started (native and oneshot probing, where the supervisor keeps the clock). */
  readonly lateMs?: number;
}

/** Events a Supervisor emits (it is an EventEmitter). */
export interface SupervisorEvents {
  transition: [Transition];
  /** A check result under native probing or a report line from a sidecar, for metrics; never logged. */
  check: [CheckEvent];
}
