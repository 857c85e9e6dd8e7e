import { type Cancel, isCancelled, unwatchCancel, watchCancel } from './cancel.js';
import { monotonicMs } from './clock.js';
import { deferred } from './deferred.js';
import { Dialer, type Resolver } from './dial.js';
import { lifeguardError, type TcpFacts } from './errors.js';
import { checkCancelled } from './reason.js';
import type { CheckResult, TcpCheckSpec } from './types.js';

/**
 * One TCP check: passes when a connection is established within the timeout; the connection is closed at once
 * (destroyed, not ended: the app owes us nothing and a half-closed socket would linger in its accept loop).
 * Never rejects.
 */
export function tcpCheck(spec: TcpCheckSpec, host: string, cancel?: Cancel, resolver?: Resolver): Promise<CheckResult> {
  const { promise, resolve } = deferred<CheckResult>();
  startTcpCheck(spec, host, cancel, resolve, resolver);
  return promise;
}

/** tcpCheck without its promise: `done` is told the result, once (before this returns, when cancelled already). */
export function startTcpCheck(spec: TcpCheckSpec, host: string, cancel: Cancel | undefined, done: (result: CheckResult) => void, resolver?: Resolver): void {
  if (isCancelled(cancel)) done({ passed: false, latencyMs: 0, error: checkCancelled() });
  else new TcpAttempt(spec, host, done, cancel, resolver).start();
}

/** The facts of a TCP check's failure, for whoever reports one (the check, or an agent that gave up on it). */
export function tcpFacts(spec: TcpCheckSpec, host: string): TcpFacts {
  return { host, port: spec.port, ...(spec.portText === undefined ? {} : { portText: spec.portText }) };
}

/**
 * Owns the dial, the deadline timer and the place in the caller's cancel (cancel.ts) of one attempt; `finish` is the only way out
 * and releases all three, whichever event comes first.
 */
class TcpAttempt {
  private state: 'connecting' | 'done' = 'connecting';
  private readonly started = monotonicMs();
  private readonly dialer: Dialer;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly spec: TcpCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly canceller: Cancel | undefined,
    resolver: Resolver | undefined,
  ) {
    this.dialer = new Dialer(
      { host, port: spec.port },
      { connected: () => this.finish('connected'), failed: (_phase, reason) => this.finish('error', reason) },
      undefined,
      resolver,
    );
    this.deadline = setTimeout(() => this.finish('deadline'), spec.timeoutMs);
    watchCancel(canceller, this);
  }

  start(): void {
    this.dialer.start();
  }

  /** Cancelled by its scope, or its signal's abort listener (cancel.ts). */
  cancel(): void {
    this.finish('abort');
  }

  handleEvent(): void {
    this.cancel();
  }

  private finish(event: 'connected' | 'error' | 'deadline' | 'abort', reason = ''): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.dialer.close(true);
    clearTimeout(this.deadline);
    unwatchCancel(this.canceller, this);
    const latencyMs = monotonicMs() - this.started;
    const facts = { ...tcpFacts(this.spec, this.host), ...this.dialer.resolvedFact };
    switch (event) {
      case 'connected':
        return this.resolve({ passed: true, latencyMs });
      case 'error':
        return this.resolve({ passed: false, latencyMs, error: lifeguardError('tcp-failed', { ...facts, reason }) });
      case 'deadline':
        return this.resolve({
          passed: false,
          latencyMs,
          error: lifeguardError('tcp-timeout', { ...facts, timeoutMs: this.spec.timeoutMs }),
        });
      case 'abort':
        return this.resolve({ passed: false, latencyMs, error: checkCancelled() });
    }
  }
}
