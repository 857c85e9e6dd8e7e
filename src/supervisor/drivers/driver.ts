/**
 * Where instances run. A driver starts one instance of an app, says where its ports are reachable and when it
 * exits, and destroys it. The process driver is the embedded default; netns and docker fit the same shape
 * (an address per container port, an optional pid, an exit notification, a graceful destroy).
 */
import type { Exit } from '../../shared/exit.js';
import type { AgentRunner } from '../../probes/agent-runner.js';
import type { Endpoint } from '../../probes/probe.js';
import type { TrackedProcess } from '../host/state-dir.js';
import type { AppSpec } from '../spec/types.js';

export interface LaunchRequest {
  readonly instance: string;
  readonly spec: AppSpec;
  /** Told once, when the instance ends for any reason, asked for or not. */
  readonly onExit: (exit: Exit) => void;
}

export type LaunchResult =
  | { readonly ok: true; readonly running: RunningInstance }
  /** `permanent`: no retry can succeed (no such command, no such image); the instance is given up at once. */
  | { readonly ok: false; readonly reason: string; readonly permanent?: boolean };

export interface DestroyOutcome {
  /** The instance outlived its grace period and was killed. */
  readonly forced: boolean;
  /** What happened, when it is more than a stop within the grace period or a kill at its end. */
  readonly reason?: string;
}

export interface RunningInstance {
  readonly pid: number | null;
  /** host:port where the first container port is reachable. */
  readonly address: string;
  /** What the state directory must remember to clean up after a crashed supervisor. */
  readonly tracked: readonly TrackedProcess[];
  /** Where a container port is reachable from the supervisor (and from a sidecar agent beside it). */
  endpoint(containerPort: number): Endpoint;
  /** Runs sidecar agents in the instance's own context (its namespace, its container's network); absent: locally. */
  readonly agent?: AgentRunner;
  /**
   * The app has exited, and its exit is told through onExit (at once, or after a moment's wait for its last lines
   * of output): a check that fails now failed because the app is gone. Absent: the driver cannot tell before onExit.
   */
  readonly exited?: boolean;
  /** Polite stop, then a forced one after the grace period; resolves when the instance is gone. */
  destroy(gracePeriodMs: number): Promise<DestroyOutcome>;
}

export interface Driver {
  launch(request: LaunchRequest): Promise<LaunchResult>;
  /**
   * Removes what a previous supervisor on the same state directory left that the state directory's process
   * records do not cover (namespaces, containers); called once at start, after those processes are killed.
   */
  cleanup?(): Promise<void>;
}
