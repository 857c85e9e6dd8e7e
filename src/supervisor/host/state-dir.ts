/**
 * A record per live instance on disk, so that a supervisor killed with SIGKILL leaves a trail its successor can
 * follow: on start the new supervisor kills every process group the old one left and forgets the records.
 * A PID is trusted only together with its start time (/proc/<pid>/stat field 22): a PID the kernel handed to
 * some unrelated process since then is never signalled.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDirectory } from '../../shared/make-directory.js';
import { signal, signalGroup } from '../../shared/signal.js';

export interface TrackedProcess {
  readonly role: 'app' | 'agent';
  readonly pid: number;
  /** Every tracked process leads its own group (spawned detached); the whole group goes. */
  readonly pgid: number;
  /** Clock ticks since boot, as /proc reports them; a string because it can exceed 2^53 in theory. */
  readonly startTime: string;
}

export interface InstanceRecord {
  readonly app: string;
  readonly instance: string;
  readonly processes: readonly TrackedProcess[];
}

/** How long reapLeftovers() waits for killed processes to disappear. */
const REAP_WAIT_MS = 5000;
const REAP_POLL_MS = 20;

/**
 * Put in the environment of every app the supervisor starts, valued with the state directory's absolute path.
 * A record can only be written once the app's pid is known, after fork: a supervisor killed in between leaves an
 * app that no record names, and its successor finds it by this variable instead.
 */
export const STATE_DIR_ENV = 'LIFEGUARD_STATE_DIR';

export class StateDir {
  private readonly dir: string;
  /** The value of STATE_DIR_ENV for this directory. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.dir = join(root, 'instances');
  }

  /** Replaces the instance's record; synchronous so that the window in which a started process is untracked stays tiny. */
  write(record: InstanceRecord): void {
    makeDirectory(this.dir);
    const file = this.file(record.instance);
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    // rename is atomic: a SIGKILL mid-write leaves the old record or the new one, never half of one.
    renameSync(`${file}.tmp`, file);
  }

  remove(instance: string): void {
    rmSync(this.file(instance), { force: true });
  }

  /**
   * Kills every process group a previous supervisor left, and every process that carries this directory in its
   * environment (started, never recorded), waits until they are gone, and removes the records.
   */
  async reapLeftovers(): Promise<readonly number[]> {
    const records = this.readAll();
    const killed = marked([`${STATE_DIR_ENV}=${this.root}`]);
    // One by one, not by group: what an app forked carries the variable too, whichever group it is in.
    for (const pid of killed) signal(pid, 'SIGKILL');
    if (records.length === 0) {
      await waitGone(killed);
      return killed;
    }
    const groups = processGroups();
    for (const { file, record } of records) {
      for (const tracked of record?.processes ?? []) {
        const members = ours(tracked, groups.get(tracked.pgid) ?? []);
        if (members.length > 0) {
          signalGroup(tracked.pgid, 'SIGKILL');
          killed.push(...members.map((p) => p.pid));
        }
      }
      rmSync(file, { force: true });
    }
    await waitGone(killed);
    // A marked process is often in a recorded group too: each once.
    return [...new Set(killed)];
  }

  private readAll(): { file: string; record: InstanceRecord | undefined }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.map((name) => {
      const file = join(this.dir, name);
      try {
        return { file, record: JSON.parse(readFileSync(file, 'utf8')) as InstanceRecord };
      } catch {
        // A torn .tmp file: nothing to kill from it, but it must not linger either.
        return { file, record: undefined };
      }
    });
  }

  private file(instance: string): string {
    return join(this.dir, `${instance}.json`);
  }
}

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly pgid: number;
  readonly startTime: string;
}

/** /proc/<pid>/stat, or undefined when there is no such process. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; every field after its last ')' is plain.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0] as string, pgid: Number(rest[2]), startTime: rest[19] as string };
}

/** The process's start time, the identity check that makes a PID safe to signal later. */
export function trackProcess(role: TrackedProcess['role'], pid: number): TrackedProcess | undefined {
  const stat = readProcStat(pid);
  return stat === undefined ? undefined : { role, pid, pgid: pid, startTime: stat.startTime };
}

/** Alive and not a zombie: a zombie has exited, it only waits for its parent (or init) to collect it. */
export function isRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && !isZombie(stat);
}

/** A zombie: it has exited and waits for its parent to collect it. False when /proc cannot say (no such process, no /proc). */
export function isExitedChild(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && isZombie(stat);
}

function isZombie(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/**
 * The members of a recorded group that are still ours. While the leader lives, its start time proves the group
 * is the recorded one. Once it is dead, members that remain (what it forked) keep the group id from being reused,
 * so they are ours too; a leader with another start time means the id was reused after the group emptied.
 */
function ours(tracked: TrackedProcess, members: readonly ProcStat[]): readonly ProcStat[] {
  const leader = members.find((p) => p.pid === tracked.pgid);
  if (leader !== undefined && leader.startTime !== tracked.startTime) return [];
  return members;
}

function processGroups(): Map<number, ProcStat[]> {
  const groups = new Map<number, ProcStat[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat === undefined || isZombie(stat)) continue;
    groups.set(stat.pgid, [...(groups.get(stat.pgid) ?? []), stat]);
  }
  return groups;
}

/** Live processes other than this one whose environment holds every one of `entries` (`NAME=value`). */
export function marked(entries: readonly string[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      // NUL-framed on both sides, so that `A=1` never matches `XA=1` or `A=10`.
      const environ = `\0${readFileSync(`/proc/${name}/environ`, 'latin1')}`;
      if (entries.every((entry) => environ.includes(`\0${entry}\0`)) && isRunning(Number(name))) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export async function waitGone(pids: readonly number[]): Promise<void> {
  for (let waited = 0; waited < REAP_WAIT_MS && pids.some(isRunning); waited += REAP_POLL_MS) await sleep(REAP_POLL_MS);
}
