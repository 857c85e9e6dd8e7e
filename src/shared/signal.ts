/** Signals a whole process group, SIGCONT included; a group that is already gone is not an error. */
export function signalGroup(pgid: number, name: NodeJS.Signals): void {
  signal(-pgid, name);
}

/**
 * Signals the group of a leader we spawned and have already reaped: what it forked may live on in its group.
 * Once the leader is reaped its pid is free for the kernel to give again, and a busy host (pid_max 32768, a
 * supervisor's fleet) gives it within seconds, to a process that may lead a group of its own: signalling the old
 * id then kills a stranger's group. Linux gives no process a pid that is still some group's id, so a process
 * that holds the leader's pid now is another's and proves the old group emptied: nothing is signalled. Otherwise
 * the group, if any is left, is what the leader forked. (The id could still be given between the look and the
 * signal, once the group is empty; that window is one system call wide.)
 */
export function signalLeaderlessGroup(pgid: number, name: NodeJS.Signals): void {
  if (!pidHeld(pgid)) signalGroup(pgid, name);
}

/** A process holds this pid now, ours to signal or not (EPERM: it runs as another user). */
export function pidHeld(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** process.kill, for a pid or (negative) a group that may be gone already. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
