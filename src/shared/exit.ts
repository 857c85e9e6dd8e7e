/** How a process ended on its own: an exit status, a signal, or a start that never happened. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The kernel's OOM killer killed a process of the instance (its cgroup's memory.events says so). */
  readonly outOfMemory?: boolean;
  /** The last lines the app wrote to stderr, when it wrote any. */
  readonly stderr?: readonly string[];
}

/**
 * `exited with code 1`, `killed by SIGKILL`, `out of memory`: the crash reason an operator reads in the log, with
 * the end of what the app said on stderr (`exited with code 2; stderr: config.json: no such file`).
 */
export function describeExit(exit: Exit): string {
  const how = exit.outOfMemory === true ? 'out of memory' : exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return exit.stderr === undefined || exit.stderr.length === 0 ? how : `${how}; stderr: ${exit.stderr.join(' | ')}`;
}
