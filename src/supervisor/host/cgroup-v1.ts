/**
 * cgroup v1, for legacy and hybrid hosts, as runc's cgroupfs manager and Garden do it: an instance gets a cgroup
 * in each hierarchy it needs — freezer always, memory, cpu and pids where mounted — at the same relative path
 * `<own cgroup there>/lifeguard/<owner>/<instance>`. v1 has no "no internal processes" rule, so the supervisor
 * stays where it is. v1 has no cgroup.kill either: ending every process of an instance freezes its freezer
 * cgroup (nothing in it can fork any more), SIGKILLs every task in it, and thaws it so that the kills land — a
 * fork bomb cannot outrun that, as it outruns any loop over `tasks`. The OOM killer's verdict is
 * memory.oom_control's `oom_kill` count.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSupervisorOutside, CPU_PERIOD_US, type CgroupLimits, type CgroupTree, type InstanceCgroup } from './cgroup.js';
import { type CgroupHost, type Controller, CONTROLLERS, readQuiet, type V1Hierarchy, writeIfPresent } from './cgroup-host.js';

const EMPTY_WAIT_MS = 5000;
const EMPTY_POLL_MS = 10;
/** How long a freeze may stay FREEZING (a task in uninterruptible sleep) before the kill goes out anyway. */
const FREEZE_WAIT_MS = 1000;

type Dirs = ReadonlyMap<V1Hierarchy, string>;

export class CgroupV1Tree implements CgroupTree {
  readonly version = 'v1';
  readonly path: string;
  readonly controllers: ReadonlySet<Controller>;

  private constructor(
    /** The owner's directory in each hierarchy it has one in; freezer always. */
    private readonly dirs: Dirs,
    /** The supervisor's own cgroup in each, where it returns after a spawn. */
    private readonly home: Dirs,
  ) {
    this.path = dirs.get('freezer') as string;
    this.controllers = new Set(CONTROLLERS.filter((c) => dirs.has(c)));
  }

  /** The owner's directories, made if need be; a string saying why not where the freezer cannot be used. */
  static open(owner: string, host: CgroupHost): CgroupV1Tree | string {
    const freezer = host.v1.get('freezer');
    if (freezer === undefined) return 'no cgroup v1 freezer hierarchy is mounted';
    const dirs = new Map<V1Hierarchy, string>();
    for (const [hierarchy, own] of host.v1) {
      const path = join(own, 'lifeguard', owner);
      try {
        mkdirSync(path, { recursive: true });
        dirs.set(hierarchy, path);
      } catch (error) {
        // Without the freezer nothing is contained; without another hierarchy only its limits are missing.
        if (hierarchy === 'freezer') return `cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      }
    }
    return new CgroupV1Tree(dirs, host.v1);
  }

  create(instance: string): InstanceCgroup {
    const made = new Map<V1Hierarchy, string>();
    try {
      for (const [hierarchy, dir] of this.dirs) {
        const path = join(dir, instance);
        mkdirSync(path);
        made.set(hierarchy, path);
      }
    } catch (error) {
      for (const path of made.values()) rmdirSync(path);
      throw error;
    }
    return new V1InstanceCgroup(made, this.home);
  }

  async reap(): Promise<void> {
    const instances = new Set<string>();
    for (const dir of this.dirs.values()) for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) instances.add(entry.name);
    for (const instance of instances) {
      await new V1InstanceCgroup(new Map([...this.dirs].map(([hierarchy, dir]) => [hierarchy, join(dir, instance)])), this.home).killAndRemove();
    }
  }

  removeIfEmpty(): void {
    for (const dir of this.dirs.values()) {
      for (const level of [dir, join(dir, '..')]) {
        try {
          rmdirSync(level);
        } catch {
          break; // still holds something: an instance, or another owner's subtree
        }
      }
    }
  }
}

class V1InstanceCgroup implements InstanceCgroup {
  private readonly freezer: string;

  constructor(
    private readonly dirs: Dirs,
    private readonly home: Dirs,
  ) {
    this.freezer = dirs.get('freezer') as string;
  }

  spawnInside<T>(start: () => T): T {
    const moved: V1Hierarchy[] = [];
    try {
      for (const [hierarchy, dir] of this.dirs) {
        writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
        moved.push(hierarchy);
      }
      return start();
    } finally {
      for (const hierarchy of moved) writeFileSync(join(this.home.get(hierarchy) as string, 'cgroup.procs'), String(process.pid));
    }
  }

  limit(limits: CgroupLimits): void {
    if (limits.memoryBytes !== undefined) {
      const memory = this.dir('memory');
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // memory+swap at the same bound: no swap to hide in, as memory.swap.max 0 on v2. Absent without swapaccount.
      writeIfPresent(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
    if (limits.cpuQuotaUs !== undefined) {
      const cpu = this.dir('cpu');
      writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(limits.cpuQuotaUs));
    }
    if (limits.pids !== undefined) writeFileSync(join(this.dir('pids'), 'pids.max'), String(limits.pids));
  }

  oomKills(): number {
    const memory = this.dirs.get('memory');
    return memory === undefined ? 0 : Number(/^oom_kill (\d+)$/m.exec(readQuiet(join(memory, 'memory.oom_control')))?.[1] ?? 0);
  }

  pids(): number[] {
    return readQuiet(join(this.freezer, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  }

  freeze(frozen: boolean): void {
    writeFileSync(join(this.freezer, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
  }

  /** Freeze, kill every task, thaw; again while any is left (bounded); then every hierarchy's cgroup goes. */
  async killAndRemove(): Promise<void> {
    assertSupervisorOutside(this, this.freezer);
    if (existsSync(this.freezer)) {
      for (let waited = 0; waited < EMPTY_WAIT_MS && this.tasks().length > 0; waited += EMPTY_POLL_MS) {
        await this.killFrozen();
        await sleep(EMPTY_POLL_MS);
      }
    }
    for (const dir of this.dirs.values()) {
      try {
        rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }

  private async killFrozen(): Promise<void> {
    try {
      this.freeze(true);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile (a concurrent kill)
      throw error;
    }
    const state = join(this.freezer, 'freezer.state');
    for (let waited = 0; waited < FREEZE_WAIT_MS && readQuiet(state).trim() === 'FREEZING'; waited += EMPTY_POLL_MS) await sleep(EMPTY_POLL_MS);
    for (const tid of this.tasks()) {
      try {
        process.kill(tid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    writeIfPresent(state, 'THAWED');
  }

  /** Every thread, unlike cgroup.procs: a thread group whose leader exited is still here. */
  private tasks(): number[] {
    return readQuiet(join(this.freezer, 'tasks')).split('\n').filter(Boolean).map(Number);
  }

  private dir(hierarchy: Controller): string {
    const dir = this.dirs.get(hierarchy);
    if (dir === undefined) throw new Error(`no cgroup v1 ${hierarchy} hierarchy for ${this.freezer}`);
    return dir;
  }
}
