/**
 * Containment's cgroup side: each app instance in a cgroup of its own, so that whatever it forks — a `setsid`
 * daemon, a double fork — is found and killed with it, and so that per-app limits and the OOM killer's verdict
 * are the kernel's, not guessed. Two flavours behind one interface: cgroup v2 (cgroup-v2.ts) and the v1
 * hierarchies of legacy and hybrid hosts (cgroup-v1.ts); cgroup-host.ts says which this host has.
 */
import { z } from 'zod';
import { count, size } from '../../shared/config-fields.js';
import type { Controller } from './cgroup-host.js';

/** Per-app limits, in the units the kernel files take. */
export interface CgroupLimits {
  /** memory.max (v1: memory.limit_in_bytes), bytes. */
  readonly memoryBytes?: number;
  /** This many microseconds of CPU per 100ms period (100000 = one core). */
  readonly cpuQuotaUs?: number;
  /** pids.max. */
  readonly pids?: number;
}

/** The CPU period; a quota of one period is one core. */
export const CPU_PERIOD_US = 100_000;

// Per-instance cgroup limits (process and netns drivers): memory.max, cpu.max (in cores), pids.max.
export const limitsSchema = z.strictObject({
  memory: size(4096).optional(),
  cpu: z.number({ error: 'expected a number of cores such as 0.5 or 2' }).min(0.01, { error: 'expected at least 0.01 cores' }).max(1024, { error: 'expected at most 1024 cores' }).optional(),
  pids: count(1).optional(),
}, { error: 'expected an object' });

/** A config's `limits` as the cgroup files take them. */
export function toCgroupLimits(limits: z.output<typeof limitsSchema>): CgroupLimits {
  return {
    ...(limits.memory === undefined ? {} : { memoryBytes: limits.memory }),
    ...(limits.cpu === undefined ? {} : { cpuQuotaUs: Math.round(limits.cpu * CPU_PERIOD_US) }),
    ...(limits.pids === undefined ? {} : { pids: limits.pids }),
  };
}
const LIMIT_CONTROLLER: Readonly<Record<keyof CgroupLimits, Controller>> = { memoryBytes: 'memory', cpuQuotaUs: 'cpu', pids: 'pids' };

export type CgroupVersion = 'v1' | 'v2';

/** One owner's subtree: where its instances' cgroups are made, found again by a successor, and removed. */
export interface CgroupTree {
  readonly version: CgroupVersion;
  /** Where the owner's instance cgroups are (v1: in the freezer hierarchy; the others mirror it). */
  readonly path: string;
  /** The controllers instance cgroups get, for limits. */
  readonly controllers: ReadonlySet<Controller>;
  /** A new, empty cgroup for one instance; throws when it cannot be made. */
  create(instance: string): InstanceCgroup;
  /** Kills and removes every instance cgroup left under this owner (a crashed predecessor's). */
  reap(): Promise<void>;
  /** Removes the owner's subtree once no instance is left in it. */
  removeIfEmpty(): void;
}

/** One instance's cgroup (v1: one per hierarchy, used as one). */
export interface InstanceCgroup {
  /**
   * Runs `start` (a synchronous spawn) with this process inside the cgroup, so that the child is born in it:
   * node cannot spawn into a cgroup (clone3's CLONE_INTO_CGROUP), and moving the child after the fact would let
   * it fork away first. The supervisor returns to where it was before any other code runs.
   */
  spawnInside<T>(start: () => T): T;
  /**
   * Writes the limits; throws with the file that refused. Called once the app is in and the supervisor is out:
   * the supervisor's own threads would count against pids.max, and its allocations against the memory limit.
   */
  limit(limits: CgroupLimits): void;
  /** How many times the OOM killer killed a process in it. */
  oomKills(): number;
  pids(): number[];
  /** Stops (or resumes) every process in it, as `docker pause` does; tests freeze an app with it. */
  freeze(frozen: boolean): void;
  /** SIGKILL to every process in it, a fork bomb's included, then, once it is empty, removes it. */
  killAndRemove(): Promise<void>;
}

/** The controllers `limits` need. */
export function neededControllers(limits: CgroupLimits): Controller[] {
  return (Object.keys(limits) as (keyof CgroupLimits)[]).filter((k) => limits[k] !== undefined).map((k) => LIMIT_CONTROLLER[k]);
}

/** Never while the supervisor is inside (a spawn that failed to step out): killing all would end it too. */
export function assertSupervisorOutside(cgroup: InstanceCgroup, path: string): void {
  if (cgroup.pids().includes(process.pid)) throw new Error(`bug: the supervisor is still in ${path}`);
}
