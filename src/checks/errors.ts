/**
 * Every failure lifeguard reports is made here, from the table below (README "What it says").
 * Call sites pass the facts (address, uri, reason, duration); the wording and the exit code
 * live in one place so that the agent, the Cloud Foundry dialect and the supervisor agree.
 */

import { lazily } from './lazily.js';

/** A host given by name, and the address it resolved to for this check: both go into the message. */
export interface Resolved { name: string; address: string }
/** `portText`: the CF dialect's `-port` as written, named so in that binary's words (types.ts). */
export interface TcpFacts { host: string; port: number; resolved?: Resolved; portText?: string }
/** `wording`: Cloud Foundry's binary names the port only, and its dialect keeps those exact words. */
export interface HttpFacts {
  uri: string;
  host: string;
  port: number;
  portText?: string;
  tls?: boolean;
  resolved?: Resolved;
  wording?: Wording;
}
/** Whose words a message is in: ours by default, or Cloud Foundry's binary's exact text in its dialect. */
export type Wording = 'cloud-foundry';

/** `unixSocket`: the check dialed that socket, and host:port only name the peer. */
export interface GrpcFacts { host: string; port: number; service: string; resolved?: Resolved; unixSocket?: string }

/** The table, made at the first failure (lazily.ts): its 24 rows of an object and a closure each cost a start 0.13 M instructions. */
const errorTable = lazily(() => ({
  usage: { exitCode: 2, format: (p: { detail: string }) => p.detail },
  /** A usage error in grpc-health-probe's dialect, which exits 1 for invalid arguments. */
  'probe-usage': { exitCode: 1, format: (p: { detail: string }) => `error: ${p.detail}` },
  /** `reason`: the system would not list the interfaces at all (getifaddrs needs a socket: EMFILE). */
  'no-interface': {
    exitCode: 3,
    format: (p: { reason?: string } | undefined) =>
      `failure to find suitable interface${p?.reason === undefined ? '' : `: cannot list the network interfaces (${p.reason})`}`,
  },
  'tcp-failed': {
    exitCode: 4,
    format: (p: TcpFacts & { reason: string }) => `${tcpPrefix(p)}: ${goDialOp(p)}${p.reason}`,
  },
  /** A CF `-port` that Go cannot dial (`-1`, `65536`, an unknown service name): it fails before any packet. */
  'tcp-address': {
    exitCode: 4,
    format: (p: TcpFacts & { reason: string }) => `${tcpPrefix(p)}: dial tcp: ${p.reason}`,
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
  /** The status passed, but the response failed an opt-in assertion (body, header). */
  /** A CF `-port` that makes no URL (`-1`, `http`): that binary cannot even build its request. */
  'http-request': {
    exitCode: 6,
    format: (p: HttpFacts) => `failed to create an HTTP request to '${p.uri}' on port ${p.portText ?? p.port}`,
  },
  'http-unexpected': {
    exitCode: 6,
    format: (p: HttpFacts & { detail: string; latencyMs: number }) =>
      `${httpPrefix(p)}: ${p.detail} in ${Math.round(p.latencyMs)}ms`,
  },
  // gRPC is HTTP/2, so its failures share the HTTP exit codes (5 no answer, 6 an answer that fails, 65 timeout);
  // the codes keep the phase apart, which grpc-health-probe's exit codes need.
  'grpc-connect': {
    exitCode: 5,
    format: (p: GrpcFacts & { reason: string }) => `${grpcPrefix(p)}: ${p.reason}`,
  },
  'grpc-tls': {
    exitCode: 5,
    format: (p: GrpcFacts & { reason: string }) => `${grpcPrefix(p)}: ${p.reason}`,
  },
  /** The check's own TLS files (CA, client certificate, key) cannot be used: nothing was asked of the server. */
  'grpc-credentials': {
    exitCode: 5,
    format: (p: GrpcFacts & { reason: string }) => `${grpcPrefix(p)}: ${p.reason}`,
  },
  'grpc-rpc': {
    exitCode: 5,
    format: (p: GrpcFacts & { reason: string }) => `${grpcPrefix(p)}: ${p.reason}`,
  },
  'grpc-status': {
    exitCode: 6,
    format: (p: GrpcFacts & { status: string; latencyMs: number }) =>
      `${grpcPrefix(p)}: status ${p.status} in ${Math.round(p.latencyMs)}ms`,
  },
  'grpc-connect-timeout': {
    exitCode: 65,
    format: (p: GrpcFacts & { timeoutMs: number }) => `${grpcPrefix(p)}: connect ${timedOut(p.timeoutMs)}`,
  },
  'grpc-rpc-timeout': {
    exitCode: 65,
    format: (p: GrpcFacts & { timeoutMs: number }) => `${grpcPrefix(p)}: call ${timedOut(p.timeoutMs)}`,
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
  /** `lifeguard apply`: no supervisor runs on the state directory, or none answered in time. */
  'not-running': { exitCode: 3, format: (p: { detail: string }) => p.detail },
  /** `--mode=is-ready`: the lifecycle agent's ready file does not say that a running agent found the app ready. */
  'not-ready': { exitCode: 1, format: (p: { file: string; reason: string }) => `not ready: ${p.file} ${p.reason}` },
  cancelled: { exitCode: 143, format: () => 'cancelled' },
  internal: { exitCode: 127, format: (p: { detail: string }) => `unexpected error: ${p.detail}` },
  // The command a readiness gate runs (`healthcheck --mode=readiness ... -- ./server`), with a shell's exit codes.
  'command-not-found': {
    exitCode: 127,
    format: (p: { command: string; reason: string }) => `cannot run ${JSON.stringify(p.command)}: ${p.reason}`,
  },
  'command-not-executable': {
    exitCode: 126,
    format: (p: { command: string; reason: string }) => `cannot run ${JSON.stringify(p.command)}: ${p.reason}`,
  },
}) as const);
type ErrorTable = ReturnType<typeof errorTable>;

export type ErrorCode = keyof ErrorTable;
export type ErrorFacts<C extends ErrorCode> = Parameters<ErrorTable[C]['format']>[0];

/** A failure as a value: what kind, the process exit code it maps to, and the operator-facing line. */
export interface LifeguardError {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly message: string;
}

export function lifeguardError<C extends ErrorCode>(code: C, facts: ErrorFacts<C>): LifeguardError {
  const row = errorTable()[code];
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

/**
 * Whether the agent may end with this exit code (besides 0 and 128+signal). Looked up in the table when asked,
 * rather than gathered into a set when the module loads: every start of the agent loads it.
 */
export function isDocumentedExitCode(exitCode: number): boolean {
  const rows = errorTable();
  for (const code in rows) if (rows[code as ErrorCode].exitCode === exitCode) return true;
  return false;
}

function tcpPrefix(p: TcpFacts): string {
  const address = p.portText === undefined ? formatAddress(p.host, p.port) : `${p.host}:${p.portText}`;
  return `failed to make TCP connection to ${address}${via(p.resolved)}`;
}

/** Cloud Foundry's binary prints Go's dial error whole: the address it dialed comes before the syscall's reason. */
function goDialOp(p: TcpFacts): string {
  return p.portText === undefined ? '' : `dial tcp ${formatAddress(p.host, p.port)}: `;
}

/** Where the agent looked: the address, as the TCP message gives it, except in Cloud Foundry's own words. */
function httpPrefix(p: HttpFacts): string {
  // Cloud Foundry's words name the port only; ours say where the agent looked, as the TCP message does.
  const where = p.wording === 'cloud-foundry' ? `port ${p.portText ?? p.port}` : formatAddress(p.host, p.port);
  return `failed to make HTTP${p.tls ? 'S' : ''} request to '${p.uri}' on ${where}${via(p.resolved)}`;
}

function grpcPrefix(p: GrpcFacts): string {
  const service = p.service === '' ? '' : ` for service ${JSON.stringify(p.service)}`;
  const where = p.unixSocket === undefined ? formatAddress(p.host, p.port) : `unix://${p.unixSocket}`;
  return `failed gRPC health check of ${where}${via(p.resolved)}${service}`;
}

/** ` (127.0.0.1)`: the address a name resolved to, so that an operator knows which one was tried. */
function via(resolved: Resolved | undefined): string {
  return resolved === undefined ? '' : ` (${resolved.address})`;
}

/**
 * Seconds to two places, as Cloud Foundry's binary prints them; a timeout under 10ms, which two places would
 * show as 0.00, with two significant digits instead (`0.001 seconds` for 1ms).
 */
function timedOut(timeoutMs: number): string {
  const seconds = timeoutMs / 1000;
  const text = timeoutMs < 10 ? String(Number(seconds.toPrecision(2))) : seconds.toFixed(2);
  return `timed out after ${text} seconds`;
}

/** host:port, with IPv6 literals bracketed as in a URL. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
