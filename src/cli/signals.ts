/**
 * The signals both programs (`healthcheck`, `lifeguard`) define a reaction to (README "Signals"): every one that
 * a JavaScript runtime lets us catch and whose default action would end the process without cleanup. SIGUSR1
 * is one of them on purpose: left without a listener, Node.js answers it by opening its inspector on
 * 127.0.0.1:9229, which is code execution for anything sharing the network namespace (a pod's neighbours).
 * SIGPIPE is ignored by both runtimes already; SIGSEGV and its kind cannot be handled from JavaScript. The Bun
 * executable never sees SIGPWR (its runtime keeps that signal for itself).
 */
export const TERMINATING_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGVTALRM',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGPWR',
  'SIGTRAP',
  'SIGSYS',
  'SIGIO',
] as const;

export type TerminatingSignal = (typeof TERMINATING_SIGNALS)[number];

/**
 * Makes `listener` the only one for `signal`, replacing the early SIGUSR1 guard (./early-signals.ts, and the
 * launchers' own) or a previous phase's. It is added before the others go: a signal with no listener at all,
 * even for an instant, gets its default action back (death, or for SIGUSR1 under Node, nothing better).
 */
export function takeSignal(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): void {
  process.on(signal, listener);
  for (const other of process.listeners(signal)) if (other !== listener) process.removeListener(signal, other);
}
