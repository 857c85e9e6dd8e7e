/**
 * cgroup v2: the tree is `<own cgroup>/lifeguard/<owner>/<instance>`, as runc and systemd nest their units under
 * the cgroup they were given. cgroup v2 lets only leaves hold processes once controllers are enabled ("no
 * internal processes"), so a supervisor that is not in the root cgroup first moves itself into the leaf
 * `<own>/lifeguard/<owner>/supervisor`, as systemd moves itself into init.scope. Everything an instance forked is
 * killed at once by cgroup.kill; the OOM killer's verdict is memory.events'.
 */
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSupervisorOutside, CPU_PERIOD_US, type CgroupLimits, type CgroupTree, type InstanceCgroup } from './cgroup.js';
import { type CgroupHost, type Controller, CONTROLLERS, readCgroupHost, readQuiet, writeIfPresent } from './cgroup-host.js';

const SUPERVISOR_LEAF = 'supervisor';
const EMPTY_WAIT_MS = 5000;
const EMPTY_POLL_MS = 10;

export class CgroupV2Tree implements CgroupTree {
  readonly version = 'v2';

  private constructor(
    readonly path: string,
    readonly controllers: ReadonlySet<Controller>,
  ) {}

  /** The owner's subtree, made if need be; a string saying why not where cgroups cannot be used here. */
  static open(owner: string, host: CgroupHost): CgroupV2Tree | string {
    const base = host.unified;
    if (base === undefined) return 'no cgroup2 file system is mounted';
    const lifeguard = join(base, 'lifeguard');
    const path = join(lifeguard, owner);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      return `cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
    if (!isRoot(base)) {
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
    return new CgroupV2Tree(path, controllers);
  }

  create(instance: string): InstanceCgroup {
    const path = join(this.path, instance);
    mkdirSync(path);
    return new V2InstanceCgroup(path);
  }

  async reap(): Promise<void> {
    for (const name of readdirSync(this.path, { withFileTypes: true })) {
      if (!name.isDirectory() || name.name === SUPERVISOR_LEAF) continue;
      await new V2InstanceCgroup(join(this.path, name.name)).killAndRemove();
    }
  }

  /** The supervisor's own leaf stays while it runs. */
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

/** The root cgroup has no cgroup.type, and is exempt from "no internal processes". */
function isRoot(dir: string): boolean {
  return readQuiet(join(dir, 'cgroup.type')) === '';
}

class V2InstanceCgroup implements InstanceCgroup {
  constructor(readonly path: string) {}

  spawnInside<T>(start: () => T): T {
    const home = readCgroupHost().unified as string;
    writeFileSync(join(this.path, 'cgroup.procs'), String(process.pid));
    try {
      return start();
    } finally {
      writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
    }
  }

  limit(limits: CgroupLimits): void {
    if (limits.memoryBytes !== undefined) {
      writeFileSync(join(this.path, 'memory.max'), String(limits.memoryBytes));
      // No swap to hide in, so that memory.max means what it says and the OOM killer acts at it.
      writeIfPresent(join(this.path, 'memory.swap.max'), '0');
    }
    if (limits.cpuQuotaUs !== undefined) writeFileSync(join(this.path, 'cpu.max'), `${limits.cpuQuotaUs} ${CPU_PERIOD_US}`);
    if (limits.pids !== undefined) writeFileSync(join(this.path, 'pids.max'), String(limits.pids));
  }

  oomKills(): number {
    return Number(/^oom_kill (\d+)$/m.exec(readQuiet(join(this.path, 'memory.events')))?.[1] ?? 0);
  }

  pids(): number[] {
    return readQuiet(join(this.path, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  }

  freeze(frozen: boolean): void {
    writeFileSync(join(this.path, 'cgroup.freeze'), frozen ? '1' : '0');
  }

  /** cgroup.kill: one write, every process, frozen or not. */
  async killAndRemove(): Promise<void> {
    assertSupervisorOutside(this, this.path);
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
