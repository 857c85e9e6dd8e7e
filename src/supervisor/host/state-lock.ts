/**
 * One supervisor per state directory. A second one on the same directory would take the first one's instances
 * for leftovers and kill them, so it is refused with one line instead.
 *
 * The lock is a file, `<stateDir>/lock`, holding the owner's pid and its start time from /proc. An owner that
 * died (SIGKILL included) leaves the file behind, but its pid then names no process, or a process with another
 * start time: such a lock is stale and taken over. The file is made with link(2) from a complete temporary file,
 * so that a reader never sees half of one, and two supervisors starting together cannot both win.
 *
 * The same call checks the directory up front: one that is a file, on a read-only file system or not writable
 * is refused here with one line, rather than found out by every instance failing to record itself.
 */
import { accessSync, constants, linkSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LifeguardFailure, usageError } from '../../checks/errors.js';
import { makeDirectory } from '../../shared/make-directory.js';
import { readProcStat } from './state-dir.js';

interface LockOwner {
  readonly pid: number;
  readonly startTime: string;
}

export class StateLock {
  private held = false;

  private constructor(private readonly file: string) {}

  /** Takes the lock of `dir` (creating the directory), or throws a usage error saying why it cannot. */
  static acquire(dir: string): StateLock {
    try {
      makeDirectory(dir);
    } catch (error) {
      throw unusable(dir, error);
    }
    const lock = new StateLock(join(dir, 'lock'));
    lock.take(dir);
    return lock;
  }

  /**
   * Why a lock could not be taken in `dir` (a usage error's words), or undefined when it could; nothing is left
   * behind (directories made to find out are removed). For `lifeguard validate`, which takes no lock.
   */
  static problem(dir: string): string | undefined {
    let made: string[] = [];
    try {
      made = makeDirectory(dir);
      accessSync(dir, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (error) {
      return unusable(dir, error).message;
    } finally {
      for (const path of made.reverse()) rmdirSync(path);
    }
  }

  /** The pid of the live supervisor holding `dir`'s lock, or undefined when none does. */
  static owner(dir: string): number | undefined {
    const owner = readOwner(join(dir, 'lock'));
    return owner !== undefined && isAlive(owner) ? owner.pid : undefined;
  }

  /** Removes the lock file, if it is still ours. Idempotent. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    const owner = readOwner(this.file);
    if (owner?.pid === process.pid) rmSync(this.file, { force: true });
  }

  private take(dir: string): void {
    const me = readProcStat(process.pid);
    const mine: LockOwner = { pid: process.pid, startTime: me?.startTime ?? '' };
    const temporary = `${this.file}.${process.pid}`;
    try {
      writeFileSync(temporary, `${JSON.stringify(mine)}\n`);
    } catch (error) {
      throw unusable(dir, error);
    }
    try {
      // Once for a free directory; a second time after removing a stale lock.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(temporary, this.file);
          this.held = true;
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(dir, error);
        }
        const owner = readOwner(this.file);
        if (owner !== undefined && isAlive(owner)) {
          throw new LifeguardFailure(usageError(`state directory '${dir}' is in use by another lifeguard (pid ${owner.pid}); give each supervisor its own stateDir`));
        }
        rmSync(this.file, { force: true });
      }
      throw new LifeguardFailure(usageError(`state directory '${dir}': another lifeguard took its lock while this one started`));
    } finally {
      rmSync(temporary, { force: true });
    }
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' && typeof parsed.startTime === 'string' ? { pid: parsed.pid, startTime: parsed.startTime } : undefined;
  } catch {
    // Unreadable or torn: not a live owner's (an owner writes its file whole before linking it in place).
    return undefined;
  }
}

/** The owner runs still: the same pid with the same start time, not a zombie. */
function isAlive(owner: LockOwner): boolean {
  const stat = readProcStat(owner.pid);
  return stat !== undefined && stat.startTime === owner.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

function unusable(dir: string, error: unknown): LifeguardFailure {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOTDIR: 'a file is in the way (it, or a parent, is not a directory)',
    EEXIST: 'a file is in the way (it, or a parent, is not a directory)',
    EROFS: 'on a read-only file system',
    EACCES: 'not writable by this user',
    EPERM: 'not permitted here (EPERM)',
    ENOSPC: 'no space left on its device',
    // mkdir(2) in a directory that exists: a file system that makes nothing there (/proc, /sys).
    ENOENT: 'its file system does not allow making it',
  };
  return new LifeguardFailure(usageError(`state directory '${dir}' cannot be used: ${why[code ?? ''] ?? code ?? String(error)}`));
}
