import { readProcStat } from '../../src/supervisor/host/state-dir.js';

/**
 * The processes a test saw its supervisor run, each a pid and its start time, so that "still running" means the
 * same process. A busy host gives an exited process's pid to another within seconds (pid_max 32768): a teardown
 * that killed every pid it had seen, if running, killed another test's app (CI rehearsal 55). A pid given again to
 * a later process of the same test is a second entry.
 */
export class SeenProcesses implements Iterable<number> {
  /** By `pid start-time`. */
  private readonly seen = new Map<string, { readonly pid: number; readonly startTime: string }>();

  /** `startTime` as recorded when the process began (a state directory's record); else read now, if it runs. */
  add(pid: number, startTime?: string): void {
    const seen = startTime ?? readProcStat(pid)?.startTime;
    if (seen !== undefined) this.seen.set(`${pid} ${seen}`, { pid, startTime: seen });
  }

  addAll(other: SeenProcesses): void {
    for (const [key, process] of other.seen) this.seen.set(key, process);
  }

  get size(): number {
    return this.seen.size;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (const { pid } of this.seen.values()) yield pid;
  }

  /** Those still running, and still the processes seen (not a zombie, not a pid given again). */
  running(): number[] {
    const running: number[] = [];
    for (const { pid, startTime } of this.seen.values()) {
      const stat = readProcStat(pid);
      if (stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X') running.push(pid);
    }
    return running;
  }
}
