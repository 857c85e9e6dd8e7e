/** How a Supervisor is made: its apps, where it keeps records, and what an embedder may swap in. */
import type { Clock } from '../../checks/clock.js';
import type { ContainmentMode } from '../host/containment.js';
import type { Driver } from '../drivers/driver.js';
import type { AppSpec } from '../spec/types.js';

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
  /** Time for instances, probes, restarts and claims; tests pass a fake one. Default: the real clock. */
  readonly clock?: Clock;
  /** How the process and netns drivers contain an instance: `auto` (a cgroup where possible) or `environ`. */
  readonly containment?: ContainmentMode;
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
  /** Sidecar agents allowed to boot at once on this host (default: 2 per core, at least 2). */
  readonly agentStartConcurrency?: number;
  /** How long a booting local sidecar agent holds its turn before the next one boots, if it has not spoken (default 2s). */
  readonly agentStartupAllowanceMs?: number;
}

