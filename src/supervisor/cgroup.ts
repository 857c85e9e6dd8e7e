/**
 * Containment: each app instance in a cgroup v2 of its own, so that whatever it forks — a `setsid` daemon, a
 * double fork — is found and killed with it (cgroup.kill), and so that per-app limits (memory.max, cpu.max,
 * pids.max) and the OOM killer's verdict (memory.events) are the kernel's, not guessed.
 *
 * The tree is `<own cgroup>/lifeguard/<owner>/<instance>`, as runc and systemd nest their units under the
 * cgroup they were given. cgroup v2 lets only leaves hold processes once controllers are enabled ("no internal
 * processes"), so a supervisor that is not in the root cgroup first moves itself into the leaf
 * `<own>/lifeguard/<owner>/supervisor`, as systemd moves itself into init.scope. Where no cgroup can be made
 * (no cgroup2 mount, not root and nothing delegated) `openCgroupTree` says why and the drivers fall back to the
 * instance's environment marker (containment.ts).
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Per-app limits, in the units the kernel files take. */
export interface CgroupLimits {
  /** memory.max, bytes. */
  readonly memoryBytes?: number;
  /** cpu.max: this many microseconds of CPU per 100ms period (100000 = one core). */
  readonly cpuQuotaUs?: number;
  /** pids.max. */
  readonly pids?: number;
}

/** cpu.max's period; a quota of one period is one core. */
export const CPU_PERIOD_US = 100_000;
const SUPERVISOR_LEAF = 'supervisor';
const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];
const LIMIT_CONTROLLER: Readonly<Record<keyof CgroupLimits, Controller>> = { memoryBytes: 'memory', cpuQuotaUs: 'cpu', pids: 'pids' };
const EMPTY_WAIT_MS = 5000;
const EMPTY_POLL_MS = 10;

/** The cgroup2 mount point, from /proc/self/mountinfo; undefined when there is none. */
export function cgroup2Mount(): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    // `id parent major:minor root mountpoint options ... - fstype source superoptions`
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] === 'cgroup2') return before?.split(' ')[4];
  }
  return undefined;
}

/** This process's cgroup v2 path (`0::/path` in /proc/self/cgroup). */
function ownCgroup(): string | undefined {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3);
}

/** One owner's subtree: where its instances' cgroups are made, found again by a successor, and removed. */
export class CgroupTree {
  private constructor(
    readonly path: string,
    /** The controllers the instance cgroups get (enabled down the tree), for limits. */
    readonly controllers: ReadonlySet<Controller>,
  ) {}

  /** The owner's subtree, made if need be; a string saying why not where cgroups cannot be used here. */
  static open(owner: string): CgroupTree | string {
    const mount = cgroup2Mount();
    if (mount === undefined) return 'no cgroup2 file system is mounted';
    const own = ownCgroup();
    if (own === undefined) return 'this process is in no cgroup v2';
    const base = join(mount, own);
    const lifeguard = join(base, 'lifeguard');
    const path = join(lifeguard, owner);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      return `cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
    if (own !== '/') {
      // Out of the cgroup that will now have children; back to it is never needed (it is not a leaf any more).
      try {
        mkdirSync(join(path, SUPERVISOR_LEAF), { recursive: true });
        writeFileSync(join(path, SUPERVISOR_LEAF, 'cgroup.procs'), String(process.pid));
      } catch (error) {
        return `cannot move the supervisor into ${join(path, SUPERVISOR_LEAF)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      }
    }
    const controllers = new Set<Controller>();
    for (const controller of CONTROLLERS) if (enableDown(controller, [base, lifeguard, path])) controllers.add(controller);
    return new CgroupTree(path, controllers);
  }

  /** A new, empty cgroup for one instance; throws when it cannot be made. */
  create(instance: string): InstanceCgroup {
    const path = join(this.path, instance);
    mkdirSync(path);
    return new InstanceCgroup(path);
  }

  /** Which of `limits` this tree cannot apply, as the controller each needs. */
  missing(limits: CgroupLimits): Controller[] {
    return (Object.keys(limits) as (keyof CgroupLimits)[]).filter((k) => limits[k] !== undefined).map((k) => LIMIT_CONTROLLER[k]).filter((c) => !this.controllers.has(c));
  }

  /** Kills and removes every instance cgroup left under this owner (a crashed predecessor's). */
  async reap(): Promise<void> {
    for (const name of readdirSync(this.path, { withFileTypes: true })) {
      if (!name.isDirectory() || name.name === SUPERVISOR_LEAF) continue;
      await new InstanceCgroup(join(this.path, name.name)).killAndRemove();
    }
  }

  /** Removes the owner's subtree once no instance is left in it (the supervisor's own leaf stays while it runs). */
  removeIfEmpty(): void {
    for (const dir of [this.path, join(this.path, '..')]) {
      try {
        rmdirSync(dir);
      } catch {
        return; // still holds something: an instance, or this process, or another owner's subtree
      }
    }
  }
}

/** One instance's cgroup. */
export class InstanceCgroup {
  constructor(readonly path: string) {}

  /**
   * Runs `start` (a synchronous spawn) with this process inside the cgroup, so that the child is born in it:
   * node cannot spawn into a cgroup (clone3's CLONE_INTO_CGROUP), and moving the child after the fact would let
   * it fork away first. The supervisor returns to where it was before any other code runs.
   */
  spawnInside<T>(start: () => T): T {
    const home = ownCgroup();
    const mount = cgroup2Mount();
    writeFileSync(join(this.path, 'cgroup.procs'), String(process.pid));
    try {
      return start();
    } finally {
      writeFileSync(join(mount as string, home as string, 'cgroup.procs'), String(process.pid));
    }
  }

  /**
   * Writes the limits; throws with the file that refused. Called once the app is in and the supervisor is out:
   * the supervisor's own threads would count against pids.max, and its allocations against memory.max.
   */
  limit(limits: CgroupLimits): void {
    if (limits.memoryBytes !== undefined) {
      writeFileSync(join(this.path, 'memory.max'), String(limits.memoryBytes));
      // No swap to hide in, so that memory.max means what it says and the OOM killer acts at it.
      writeIfPresent(join(this.path, 'memory.swap.max'), '0');
    }
    if (limits.cpuQuotaUs !== undefined) writeFileSync(join(this.path, 'cpu.max'), `${limits.cpuQuotaUs} ${CPU_PERIOD_US}`);
    if (limits.pids !== undefined) writeFileSync(join(this.path, 'pids.max'), String(limits.pids));
  }

  /** How many times the OOM killer killed a process in it (memory.events oom_kill). */
  oomKills(): number {
    return Number(/^oom_kill (\d+)$/m.exec(readQuiet(join(this.path, 'memory.events')))?.[1] ?? 0);
  }

  pids(): number[] {
    return readQuiet(join(this.path, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  }

  freeze(frozen: boolean): void {
    writeFileSync(join(this.path, 'cgroup.freeze'), frozen ? '1' : '0');
  }

  /** SIGKILL to every process in it at once (cgroup.kill), then, once it is empty, removes it. */
  async killAndRemove(): Promise<void> {
    // Never while the supervisor is inside (a spawn that failed to step out): cgroup.kill would end it too.
    if (this.pids().includes(process.pid)) throw new Error(`bug: the supervisor is still in ${this.path}`);
    try {
      writeFileSync(join(this.path, 'cgroup.kill'), '1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // removed already
      throw error;
    }
    for (let waited = 0; waited < EMPTY_WAIT_MS && this.populated(); waited += EMPTY_POLL_MS) await sleep(EMPTY_POLL_MS);
    rmdirSync(this.path);
  }

  private populated(): boolean {
    return /^populated 1$/m.test(readQuiet(join(this.path, 'cgroup.events')));
  }
}

/** Enables a controller for the children of each cgroup on the way down; false where any level refuses. */
function enableDown(controller: Controller, levels: readonly string[]): boolean {
  for (const level of levels) {
    const enabled = readQuiet(join(level, 'cgroup.subtree_control')).split(' ').map((c) => c.trim());
    if (enabled.includes(controller)) continue;
    try {
      writeFileSync(join(level, 'cgroup.subtree_control'), `+${controller}`);
    } catch {
      // Not available to this cgroup, or it holds processes ("no internal processes"): no limits of this kind.
      return false;
    }
  }
  return true;
}

function readQuiet(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function writeIfPresent(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
