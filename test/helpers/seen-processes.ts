import { readProcStat } from '../../src/supervisor/host/state-dir.js';

/**
 * The processes a test saw its supervisor run, each pid with its start time, so that "still running" means the
 * same process. A busy host gives an exited process's pid to another within seconds (pid_max 32768): a teardown
 * that killed every pid it had seen, if running, killed another test's app (CI rehearsal 55).
 */
export class SeenProcesses implements Iterable<number> {
  private readonly started = new Map<number, string>();

  /** `startTime` as recorded when the process began (a state directory's record); else read now, if it runs. */
  add(pid: number, startTime?: string): void {
    if (this.started.has(pid)) return;
    const seen = startTime ?? readProcStat(pid)?.startTime;
    if (seen !== undefined) this.started.set(pid, seen);
  }

  addAll(other: SeenProcesses): void {
    for (const [pid, startTime] of other.started) this.add(pid, startTime);
  }

  get size(): number {
    return this.started.size;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.started.keys();
  }

  /** Those still running, and still the processes seen (not a zombie, not a pid given again). */
  running(): number[] {
    return [...this.started].filter(([pid, startTime]) => {
      const stat = readProcStat(pid);
      return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
    }).map(([pid]) => pid);
  }
}
