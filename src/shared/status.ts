/** What /status, the status page and the endpoints serve, for `lifeguard run` and `lifeguard watch` alike. */
import type { InstanceState, WatchState } from './transition.js';

/** A state as /status serves it: a supervisor's instance's, or a watched container's (`lifeguard watch`). */
export type ServedState = InstanceState | WatchState;

export interface InstanceStatus<S extends ServedState = InstanceState> {
  readonly id: string;
  readonly state: S;
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

export interface AppStatus<S extends ServedState = InstanceState> {
  readonly name: string;
  readonly desired: number;
  /** The prewarm pool's size; 0: the app cannot be claimed from. */
  readonly prewarmDesired: number;
  readonly instances: readonly InstanceStatus<S>[];
  readonly prewarm: readonly InstanceStatus<S>[];
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

export interface SupervisorStatus<S extends ServedState = InstanceState> {
  readonly apps: readonly AppStatus<S>[];
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
export interface RoutableInstance {
  readonly instance: string;
  /** host:port of the instance's first port. */
  readonly address: string;
}

/** An app's routable instances, sorted by instance id. */
export interface RoutableInstances {
  readonly app: string;
  readonly endpoints: readonly RoutableInstance[];
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
