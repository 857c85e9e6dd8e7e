/**
 * Every failure lifeguard reports is made here, from the table below (README "What it says").
 * Call sites pass the facts (address, uri, reason, duration); the wording and the exit code
 * live in one place so that the agent, the Cloud Foundry dialect and the supervisor agree.
 */

export interface TcpFacts { host: string; port: number }
export interface HttpFacts { uri: string; port: number }

const ERROR_TABLE = {
  usage: { exitCode: 2, format: (p: { detail: string }) => p.detail },
  'no-interface': { exitCode: 3, format: () => 'failure to find suitable interface' },
  'tcp-failed': {
    exitCode: 4,
    format: (p: TcpFacts & { reason: string }) => `${tcpPrefix(p)}: ${p.reason}`,
  },
  'http-failed': {
    exitCode: 5,
    format: (p: HttpFacts & { reason: string }) => `${httpPrefix(p)}: ${p.reason}`,
  },
  'http-status': {
    exitCode: 6,
    format: (p: HttpFacts & { status: number; latencyMs: number }) =>
      `${httpPrefix(p)}: received status code ${p.status} in ${Math.round(p.latencyMs)}ms`,
  },
  'tcp-timeout': {
    exitCode: 64,
    format: (p: TcpFacts & { timeoutMs: number }) => `${tcpPrefix(p)}: ${timedOut(p.timeoutMs)}`,
  },
  'http-timeout': {
    exitCode: 65,
    format: (p: HttpFacts & { timeoutMs: number }) => `${httpPrefix(p)}: ${timedOut(p.timeoutMs)}`,
  },
  // Not a verdict on the app: the caller stopped the check. 143 is what a process ended by SIGTERM exits with.
  cancelled: { exitCode: 143, format: () => 'cancelled' },
  internal: { exitCode: 127, format: (p: { detail: string }) => `unexpected error: ${p.detail}` },
} as const;

export type ErrorCode = keyof typeof ERROR_TABLE;
export type ErrorFacts<C extends ErrorCode> = Parameters<(typeof ERROR_TABLE)[C]['format']>[0];

/** A failure as a value: what kind, the process exit code it maps to, and the operator-facing line. */
export interface LifeguardError {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly message: string;
}

export function lifeguardError<C extends ErrorCode>(code: C, facts: ErrorFacts<C>): LifeguardError {
  const row = ERROR_TABLE[code];
  const format = row.format as (f: ErrorFacts<C>) => string;
  return { code, exitCode: row.exitCode, message: format(facts) };
}

export function usageError(detail: string): LifeguardError {
  return lifeguardError('usage', { detail });
}

/** Carries a LifeguardError through a throw, for the few places (argument parsing) where unwinding is natural. */
export class LifeguardFailure extends Error {
  constructor(readonly error: LifeguardError) {
    super(error.message);
    this.name = 'LifeguardFailure';
  }
}

/** Turns anything thrown into a LifeguardError, so that no stack trace ever reaches an operator. */
export function asLifeguardError(thrown: unknown): LifeguardError {
  if (thrown instanceof LifeguardFailure) return thrown.error;
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return lifeguardError('internal', { detail: detail.split('\n')[0] ?? '' });
}

/** Every exit code the agent may end with, besides 0 and 128+signal. */
export const DOCUMENTED_EXIT_CODES: ReadonlySet<number> = new Set(
  Object.values(ERROR_TABLE).map((row) => row.exitCode),
);

export function isTimeout(error: LifeguardError): boolean {
  return error.code === 'tcp-timeout' || error.code === 'http-timeout';
}

function tcpPrefix(p: TcpFacts): string {
  return `failed to make TCP connection to ${formatAddress(p.host, p.port)}`;
}

function httpPrefix(p: HttpFacts): string {
  return `failed to make HTTP request to '${p.uri}' on port ${p.port}`;
}

function timedOut(timeoutMs: number): string {
  return `timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
}

/** host:port, with IPv6 literals bracketed as in a URL. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
