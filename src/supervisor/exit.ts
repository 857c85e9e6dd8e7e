/** How a process ended on its own: an exit status, a signal, or a start that never happened. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `exited with code 1`, `killed by SIGKILL`: the crash reason an operator reads in the log. */
export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
