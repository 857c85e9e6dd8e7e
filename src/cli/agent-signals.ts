/**
 * The agent's reaction to every signal of TERMINATING_SIGNALS (README "Signals"), one listener per signal for
 * the agent's whole life, in three modes:
 * - checking (every mode, and a gate before its command runs): stop — cancel what is in flight and exit 128+n,
 *   what the signal's default would have told a shell, with the ready file removed on the way out;
 * - forwarding (a gate's command runs): pass the signal on to the command's process group, once;
 * - ending (the command has ended): nothing; the agent ends as the command did (run-command.ts).
 * The mode changes synchronously right after spawn(2) returns, and a listener runs only from the event loop,
 * so a signal that arrives while the command is being started is forwarded to it, never lost. (It once found
 * no listener there: SIGUSR1 opened Node's inspector instead, and the command never got it.)
 */
import { signalExitCode, takeSignal, TERMINATING_SIGNALS } from './signals.js';

/**
 * Whom a signal is for: the agent's checks, the command it gated, or no one once that command has ended (the agent
 * is ending as it did, and the command's group id, reaped, may be given to another process by then).
 */
type SignalTarget = { readonly kind: 'checking' } | { readonly kind: 'forwarding'; readonly group: number } | { readonly kind: 'ending' };

export class AgentSignals {
  private target: SignalTarget = { kind: 'checking' };

  constructor(private readonly cancel: () => void) {
    for (const signal of TERMINATING_SIGNALS) takeSignal(signal, this.received);
  }

  /** From now on signals go to the process group `group` (the command leads it). */
  forwardTo(group: number): void {
    this.target = { kind: 'forwarding', group };
  }

  /** The command has ended and been reaped: nothing is passed on any more. */
  commandEnded(): void {
    this.target = { kind: 'ending' };
  }

  private readonly received = (signal: NodeJS.Signals): void => {
    if (this.target.kind === 'checking') {
      this.cancel();
      process.exit(signalExitCode(signal));
    }
    if (this.target.kind === 'ending') return;
    try {
      process.kill(-this.target.group, signal);
    } catch {
      // The group is gone: the command is ending, and its exit is on its way.
    }
  };
}
