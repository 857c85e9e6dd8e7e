/**
 * The command a readiness gate starts once every check has passed (`healthcheck --mode=readiness ... -- ./server`).
 * Node.js has no way to replace its process image (no execve), so the agent stays as the command's parent and
 * behaves like a minimal init: the command runs in a process group of its own with the agent's stdio and
 * environment, every signal an operator or an orchestrator sends the agent (./agent-signals.ts) is passed on to
 * that group once, and the agent
 * ends as the command did: its exit status, or the same signal raised on itself, so that a parent sees what it
 * would have seen after an exec.
 */
import { spawn } from 'node:child_process';
import { lifeguardError, type LifeguardError } from '../checks/errors.js';
import type { AgentSignals } from './agent-signals.js';
import { signalExitCode } from './signals.js';

export type CommandEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'not-started'; readonly error: LifeguardError };

/** Starts the command and resolves when it has ended; `signals` forwards to it from its spawn on. */
export function runCommand(command: readonly string[], signals: AgentSignals): Promise<CommandEnd> {
  const [file = '', ...args] = command;
  return new Promise((resolve) => {
    // Its own group: a terminal's Ctrl-C reaches the agent alone, which passes it on once (not twice, as it would
    // to a child sharing the terminal's foreground group). The price: the command cannot read the terminal.
    const child = spawn(file, args, { stdio: 'inherit', detached: true });
    // No pid: it did not start, and 'error' says why; signals meanwhile still stop the agent.
    if (child.pid !== undefined) signals.forwardTo(child.pid);
    child.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ kind: 'not-started', error: startError(file, err) });
    });
    child.once('exit', (code, signal) => {
      signals.commandEnded();
      resolve(signal !== null ? { kind: 'signalled', signal } : { kind: 'exited', code: code ?? 0 });
    });
  });
}

/** A shell's answers: 127 when there is no such program, 126 when it cannot be executed. */
function startError(file: string, err: NodeJS.ErrnoException): LifeguardError {
  if (err.code === 'ENOENT') return lifeguardError('command-not-found', { command: file, reason: 'no such file or directory (or not on PATH)' });
  if (err.code === 'EACCES') return lifeguardError('command-not-executable', { command: file, reason: 'permission denied' });
  return lifeguardError('command-not-executable', { command: file, reason: err.code ?? err.message });
}

/** Ends this process as the command ended: the same signal raised here (128+n should that not end us), or its code. */
export function endAsCommand(end: Exclude<CommandEnd, { kind: 'not-started' }>): void {
  if (end.kind === 'exited') return process.exit(end.code);
  for (const listener of process.listeners(end.signal)) process.removeListener(end.signal, listener);
  process.kill(process.pid, end.signal);
  // SIGQUIT and the like take a moment; a signal this process cannot die of (none today) still ends it.
  setTimeout(() => process.exit(signalExitCode(end.signal)), 1000).unref();
}
