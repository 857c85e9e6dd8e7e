/**
 * How the process and netns drivers make sure that nothing an instance started outlives it: its own cgroup where
 * one can be made — cgroup v2 (cgroup-v2.ts), or the v1 hierarchies of a legacy or hybrid host (cgroup-v1.ts) —
 * else its environment marker: every process it forks inherits `LIFEGUARD_STATE_DIR` and `LIFEGUARD_INSTANCE`,
 * whatever session or group it moved to, and /proc/<pid>/environ finds it. (A process that rewrites its own
 * environment escapes the marker; it cannot escape a cgroup.)
 */
import { type CgroupLimits, type CgroupTree, type CgroupVersion, type InstanceCgroup, neededControllers } from './cgroup.js';
import { type CgroupHost, CONTROLLERS, readCgroupHost, unifiedControllers } from './cgroup-host.js';
import { CgroupV1Tree } from './cgroup-v1.js';
import { CgroupV2Tree } from './cgroup-v2.js';
import { ownerTag } from '../../shared/owner.js';
import { marked, STATE_DIR_ENV, waitGone } from './state-dir.js';
import { signal } from '../../shared/signal.js';
import type { ContainmentStatus } from '../../shared/status.js';

/**
 * `auto`: the cgroup flavour this host uses for its controllers, else the marker; `cgroup-v1`, `cgroup-v2`: that
 * flavour or the marker (tests run both on a hybrid host); `environ`: the marker only.
 */
export type ContainmentMode = 'auto' | 'cgroup-v1' | 'cgroup-v2' | 'environ';

export const INSTANCE_ENV = 'LIFEGUARD_INSTANCE';

/** One instance's containment, from before its spawn to after its last process is gone. */
export interface Contained {
  /** Runs the (synchronous) spawn so that the child is born contained. */
  spawn<T>(start: () => T): T;
  /**
   * Applies the app's limits, right after the spawn: the supervisor, inside for the spawn, would count against
   * pids.max and memory.max itself. Throws with the file that refused.
   */
  limit(): void;
  /** Kills every process of the instance that is left and waits until all are gone (bounded). */
  killAll(): Promise<void>;
  /** The kernel's OOM killer killed one of its processes. */
  outOfMemory(): boolean;
  /** The instance's cgroup, where it has one (tests freeze it). */
  readonly cgroup: InstanceCgroup | undefined;
}

export class Containment {
  /** Opened at first use, so that a supervisor that never starts a process makes no cgroup. */
  private opened: CgroupTree | string | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly mode: ContainmentMode = 'auto',
  ) {}

  private get tree(): CgroupTree | undefined {
    this.opened ??= this.open();
    return typeof this.opened === 'string' ? undefined : this.opened;
  }

  private open(): CgroupTree | string {
    const host = readCgroupHost();
    const version = chooseVersion(this.mode, host);
    if (version.reason !== undefined) return version.reason;
    const owner = ownerTag(this.stateDir);
    return version.version === 'v1' ? CgroupV1Tree.open(owner, host) : CgroupV2Tree.open(owner, host);
  }

  /** Why there is no cgroup tree (the marker is used), or undefined when there is one. */
  get fallbackReason(): string | undefined {
    return this.tree === undefined ? (this.opened as string) : undefined;
  }

  /** What contains instances: the opened tree, or, before the first instance, what would be tried. */
  status(): ContainmentStatus {
    if (typeof this.opened === 'object') return { kind: `cgroup ${this.opened.version}`, path: this.opened.path, controllers: [...this.opened.controllers] };
    if (typeof this.opened === 'string') return { kind: 'environ', reason: this.opened };
    const choice = chooseVersion(this.mode, readCgroupHost());
    return choice.reason === undefined ? { kind: `cgroup ${choice.version}` } : { kind: 'environ', reason: choice.reason };
  }

  /** What keeps `limits` from being applied here (no cgroup, a controller missing), or undefined. */
  cannotLimit(limits: CgroupLimits): string | undefined {
    if (neededControllers(limits).length === 0) return undefined;
    if (this.tree === undefined) return noCgroupForLimits(this.fallbackReason as string);
    return missingControllers(neededControllers(limits).filter((c) => !this.tree?.controllers.has(c)), `for ${this.tree.path}`);
  }

  /** Containment for one instance; `env` is what it is spawned with (the marker's values). Throws if its cgroup cannot be made. */
  instance(instance: string, env: Readonly<Record<string, string>>, limits: CgroupLimits): Contained {
    if (this.tree !== undefined) return inCgroup(this.tree.create(instance), limits);
    // The instance id alone is not unique across supervisors: without the state directory there is no marker.
    const stateDir = env[STATE_DIR_ENV];
    return byMarker(stateDir === undefined ? undefined : [`${INSTANCE_ENV}=${instance}`, `${STATE_DIR_ENV}=${stateDir}`]);
  }

  /** A predecessor's instance cgroups (its marked processes are the state directory's to reap). */
  async reap(): Promise<void> {
    await this.tree?.reap();
  }

  /** Removes the owner's subtree once it is empty; a later use opens it again. */
  close(): void {
    if (typeof this.opened === 'object') this.opened.removeIfEmpty();
    this.opened = undefined;
  }
}

/**
 * Whether this host could apply `limits`, read from /proc and /sys without creating a cgroup: what the containment
 * tests ask before they try. `lifeguard validate` and preflight ask Containment.cannotLimit instead, from the
 * subtree a run would use (created if missing and left in place: a run's stop removes it).
 */
export function limitsUnsupported(limits: CgroupLimits, mode: ContainmentMode = 'auto'): string | undefined {
  const needed = neededControllers(limits);
  if (needed.length === 0) return undefined;
  const host = readCgroupHost();
  const choice = chooseVersion(mode, host);
  if (choice.reason !== undefined) return noCgroupForLimits(choice.reason);
  if (choice.version === 'v1') return missingControllers(needed.filter((c) => !host.v1.has(c)), 'as a mounted cgroup v1 hierarchy');
  const offered = unifiedControllers(host);
  return missingControllers(needed.filter((c) => !offered.has(c)), `for ${host.unified as string}`);
}

/**
 * The flavour `mode` gets on `host`. `auto` takes the unified hierarchy where it offers every controller (a v2
 * host), else the v1 hierarchies where the freezer is mounted (legacy and hybrid hosts, whose unified hierarchy
 * is empty), else the unified hierarchy for containment without limits.
 */
function chooseVersion(mode: ContainmentMode, host: CgroupHost): { readonly version: CgroupVersion; readonly reason?: undefined } | { readonly reason: string } {
  const v1 = host.v1.has('freezer');
  const v2 = host.unified !== undefined;
  switch (mode) {
    case 'environ':
      return { reason: 'the environ marker was asked for' };
    case 'cgroup-v1':
      return v1 ? { version: 'v1' } : { reason: 'no cgroup v1 freezer hierarchy is mounted' };
    case 'cgroup-v2':
      return v2 ? { version: 'v2' } : { reason: 'no cgroup2 file system is mounted' };
    case 'auto': {
      const offered = unifiedControllers(host);
      if (v2 && CONTROLLERS.every((c) => offered.has(c))) return { version: 'v2' };
      if (v1) return { version: 'v1' };
      return v2 ? { version: 'v2' } : { reason: 'no cgroup file system is mounted' };
    }
  }
}

function noCgroupForLimits(reason: string): string {
  return `limits need a cgroup of its own per instance, and there is none: ${reason}`;
}

function missingControllers(missing: readonly string[], where: string): string | undefined {
  return missing.length === 0 ? undefined : `limits need the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}, not available ${where}`;
}

function inCgroup(cgroup: InstanceCgroup, limits: CgroupLimits): Contained {
  return {
    cgroup,
    spawn: (start) => cgroup.spawnInside(start),
    limit: () => cgroup.limit(limits),
    killAll: () => cgroup.killAndRemove(),
    outOfMemory: () => cgroup.oomKills() > 0,
  };
}

function byMarker(marker: readonly string[] | undefined): Contained {
  return {
    cgroup: undefined,
    spawn: (start) => start(),
    limit: () => {},
    killAll: async () => {
      const pids = marker === undefined ? [] : marked(marker);
      for (const pid of pids) signal(pid, 'SIGKILL');
      await waitGone(pids);
    },
    // Without a cgroup, nothing says it was the OOM killer rather than anyone else's SIGKILL.
    outOfMemory: () => false,
  };
}
