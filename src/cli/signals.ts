/**
 * The signals both programs (`healthcheck`, `lifeguard`) define a reaction to (README "Signals"): every one that
 * a JavaScript runtime lets us catch and whose default action would end the process without cleanup. SIGUSR1
 * is one of them on purpose: left without a listener, Node.js answers it by opening its inspector on
 * 127.0.0.1:9229, which is code execution for anything sharing the network namespace (a pod's neighbours).
 * SIGPIPE is ignored by both runtimes already; SIGSEGV and its kind cannot be handled from JavaScript. The Bun
 * executable never sees SIGPWR (its runtime keeps that signal for itself).
 */
import { lazily } from '../checks/lazily.js';

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

/**
 * Linux's signal numbers, for the exit status 128+n of a process ended by signal n. A table rather than
 * node:os's `constants.signals`, whose module costs the Bun executable's every start about 30 page faults
 * (`npm run bench:agent`); both programs run on Linux only (README), where the numbering is the same on every
 * architecture Node.js and Bun ship for (x86-64, arm64, armv7, ppc64le, s390x). test/cli/signals.test.ts
 * compares it with node:os's. Made when a signal first comes (lazily.ts), not at every start.
 */
export const signalNumbers = lazily((): Readonly<Record<string, number>> => ({
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17,
  SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
}));

/** 128+n for signal n: what a shell reports for a process the signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signalNumbers()[signal] ?? 0);
}

/**
 * Makes `listener` the only one for `signal`, replacing the early SIGUSR1 guard (./early-signals.ts, and the
 * launchers' own) or a previous phase's. It is added before the others go: a signal with no listener at all,
 * even for an instant, gets its default action back (death, or for SIGUSR1 under Node, nothing better).
 */
export function takeSignal(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): void {
  process.on(signal, listener);
  for (const other of process.listeners(signal)) if (other !== listener) process.removeListener(signal, other);
}
