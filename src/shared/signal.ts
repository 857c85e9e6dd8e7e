/** Signals a whole process group, SIGCONT included; a group that is already gone is not an error. */
export function signalGroup(pgid: number, name: NodeJS.Signals): void {
  signal(-pgid, name);
}

/** process.kill, for a pid or (negative) a group that may be gone already. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
