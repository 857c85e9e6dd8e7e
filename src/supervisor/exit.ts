/** How a process ended on its own: an exit status, a signal, or a start that never happened. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The kernel's OOM killer killed a process of the instance (its cgroup's memory.events says so). */
  readonly outOfMemory?: boolean;
}

/** `exited with code 1`, `killed by SIGKILL`, `out of memory`: the crash reason an operator reads in the log. */
export function describeExit(exit: Exit): string {
  if (exit.outOfMemory === true) return 'out of memory';
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
