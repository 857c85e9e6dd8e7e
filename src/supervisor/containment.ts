/**
 * How the process and netns drivers make sure that nothing an instance started outlives it: its own cgroup where
 * one can be made (cgroup.ts), else its environment marker — every process it forks inherits
 * `LIFEGUARD_STATE_DIR` and `LIFEGUARD_INSTANCE`, whatever session or group it moved to, and /proc/<pid>/environ
 * finds it. (A process that rewrites its own environment escapes the marker; it cannot escape a cgroup.)
 */
import { CgroupTree, type CgroupLimits, type InstanceCgroup } from './cgroup.js';
import { ownerTag } from './drivers/owner.js';
import { marked, signal, STATE_DIR_ENV, waitGone } from './state-dir.js';

/** `auto`: a cgroup where one can be made, else the marker; `environ`: the marker only (tests force it). */
export type ContainmentMode = 'auto' | 'environ';

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
    this.opened ??= this.mode === 'auto' ? CgroupTree.open(ownerTag(this.stateDir)) : 'the environ marker was asked for';
    return typeof this.opened === 'string' ? undefined : this.opened;
  }

  /** Why there is no cgroup tree (the marker is used), or undefined when there is one. */
  get fallbackReason(): string | undefined {
    return this.tree === undefined ? (this.opened as string) : undefined;
  }

  /** What keeps `limits` from being applied here (no cgroup, a controller missing), or undefined. */
  cannotLimit(limits: CgroupLimits): string | undefined {
    if (Object.values(limits).every((v) => v === undefined)) return undefined;
    if (this.tree === undefined) return `limits need a cgroup v2 of its own per instance, and there is none: ${this.fallbackReason}`;
    const missing = this.tree.missing(limits);
    return missing.length === 0 ? undefined : `limits need the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}, not enabled for ${this.tree.path}`;
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
