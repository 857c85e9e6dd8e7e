import { monotonicMs } from './clock.js';
import type { Connection } from './connection.js';
// node:net; the Bun build (scripts/lib/bun-compile.mjs) puts connection-bun.ts (Bun.connect) in its place.
import { openConnection } from './connection-node.js';
import { lifeguardError } from './errors.js';
import { CHECK_CANCELLED, socketErrorReason } from './reason.js';
import type { CheckResult, TcpCheckSpec } from './types.js';

/**
 * One TCP check: passes when a connection is established within the timeout; the connection is closed at once
 * (destroyed, not ended: the app owes us nothing and a half-closed socket would linger in its accept loop).
 * Never rejects.
 */
export function tcpCheck(spec: TcpCheckSpec, host: string, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve({ passed: false, latencyMs: 0, error: CHECK_CANCELLED });
    else new TcpAttempt(spec, host, resolve, signal);
  });
}

/**
 * Owns the socket, the deadline timer and the abort listener of one attempt; `finish` is the only way out
 * and releases all three, whichever event comes first.
 */
class TcpAttempt {
  private state: 'connecting' | 'done' = 'connecting';
  private readonly started = monotonicMs();
  private readonly connection: Connection;
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly spec: TcpCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.connection = openConnection(host, spec.port, {
      connected: () => this.finish('connected'),
      // The check ends at `connected`; what could follow it (bytes, the peer's close) is never waited for.
      data: () => {},
      ended: () => this.finish('connected'),
      failed: (err) => this.finish('error', err),
    });
    this.deadline = setTimeout(() => this.finish('deadline'), spec.timeoutMs);
    signal?.addEventListener('abort', this, { once: true });
  }

  /** The abort listener (an EventListener object, so that no closure is made per attempt for it). */
  handleEvent(): void {
    this.finish('abort');
  }

  private finish(event: 'connected' | 'error' | 'deadline' | 'abort', err?: Error): void {
    if (this.state === 'done') return;
    this.state = 'done';
    // Connected: a reset, not a FIN, so that no TIME_WAIT is left behind (see http-check.ts).
    if (event === 'connected') this.connection.reset();
    else this.connection.destroy();
    clearTimeout(this.deadline);
    this.signal?.removeEventListener('abort', this);
    const latencyMs = monotonicMs() - this.started;
    const { host, spec } = this;
    switch (event) {
      case 'connected':
        return this.resolve({ passed: true, latencyMs });
      case 'error':
        return this.resolve({
          passed: false,
          latencyMs,
          error: lifeguardError('tcp-failed', { host, port: spec.port, reason: socketErrorReason(err) }),
        });
      case 'deadline':
        return this.resolve({
          passed: false,
          latencyMs,
          error: lifeguardError('tcp-timeout', { host, port: spec.port, timeoutMs: spec.timeoutMs }),
        });
      case 'abort':
        return this.resolve({ passed: false, latencyMs, error: CHECK_CANCELLED });
    }
  }
}
