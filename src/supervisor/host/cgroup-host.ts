/**
 * Which cgroups this host has, read without touching them: the cgroup2 (unified) mount, each cgroup v1 hierarchy
 * and the directory of this process's own cgroup in each. A host is unified (v2 only: Debian 11+, Ubuntu 21.10+),
 * legacy (v1 only) or hybrid (v1 controllers plus an empty unified hierarchy for systemd: Ubuntu 20.04, RHEL 7
 * and 8, Amazon Linux 2, Garden's cells). Containment picks its flavour from this, as runc does: the unified
 * hierarchy where it has the controllers, else the v1 hierarchies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The controllers limits and containment use. */
export const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
export type Controller = (typeof CONTROLLERS)[number];
/** v1 has no cgroup.kill: ending every process of an instance takes its freezer cgroup. */
export type V1Hierarchy = Controller | 'freezer';
const V1_HIERARCHIES: readonly V1Hierarchy[] = ['freezer', ...CONTROLLERS];

export interface CgroupHost {
  /** This process's cgroup directory in the unified hierarchy; undefined without a cgroup2 mount. */
  readonly unified?: string;
  /** This process's cgroup directory in each mounted v1 hierarchy we use. */
  readonly v1: ReadonlyMap<V1Hierarchy, string>;
}

interface Mount {
  /** The cgroup path the mount shows at its mount point (not `/` in a container given part of the tree). */
  readonly root: string;
  readonly point: string;
}

/** The host's cgroup mounts and this process's place in them. */
export function readCgroupHost(): CgroupHost {
  const mounts = cgroupMounts();
  const own = ownCgroups();
  const at = (mount: Mount | undefined, path: string | undefined): string | undefined => {
    if (mount === undefined || path === undefined) return undefined;
    const inside = mount.root === '/' ? path : path.startsWith(mount.root) ? path.slice(mount.root.length) || '/' : undefined;
    return inside === undefined ? undefined : join(mount.point, inside).replace(/(.)\/$/, '$1');
  };
  const v1 = new Map<V1Hierarchy, string>();
  for (const hierarchy of V1_HIERARCHIES) {
    const dir = at(mounts.v1.get(hierarchy), own.get(hierarchy));
    if (dir !== undefined) v1.set(hierarchy, dir);
  }
  const unified = at(mounts.unified, own.get(''));
  return unified === undefined ? { v1 } : { unified, v1 };
}

/** The controllers the unified hierarchy offers this process's cgroup (its cgroup.controllers). */
export function unifiedControllers(host: CgroupHost): Set<string> {
  return new Set(host.unified === undefined ? [] : readQuiet(join(host.unified, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean));
}

function cgroupMounts(): { unified?: Mount; v1: Map<string, Mount> } {
  const v1 = new Map<string, Mount>();
  let unified: Mount | undefined;
  for (const line of readQuiet('/proc/self/mountinfo').split('\n')) {
    // `id parent major:minor root mountpoint options ... - fstype source superoptions`
    const [before, after] = line.split(' - ');
    const fields = before?.split(' ') ?? [];
    const [fstype, , superOptions] = after?.split(' ') ?? [];
    const mount = { root: fields[3] ?? '/', point: unescapeMount(fields[4] ?? '') };
    if (fstype === 'cgroup2') unified ??= mount;
    // A v1 hierarchy names its controllers among its options: `rw,cpu,cpuacct`.
    if (fstype === 'cgroup') for (const option of superOptions?.split(',') ?? []) if (!v1.has(option)) v1.set(option, mount);
  }
  return unified === undefined ? { v1 } : { unified, v1 };
}

/** Each hierarchy's path of this process, by controller (`` for the unified one), from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of readQuiet('/proc/self/cgroup').split('\n')) {
    // `id:controllers:path`; the path may itself hold colons.
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    for (const controller of line.slice(first + 1, second).split(',')) own.set(controller, path);
  }
  return own;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(point: string): string {
  return point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function readQuiet(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function writeIfPresent(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
