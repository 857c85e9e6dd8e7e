/**
 * The command line the supervisor gives an agent (sidecar and oneshot probing), written here and read by the
 * agent's own parser (src/cli/healthcheck.ts); a round-trip test holds the two together.
 *
 * Each check travels as a `--check` URL. The agent takes one --timeout, and one set of HTTP options, for all its
 * checks: the longest timeout keeps every check's own budget, and the HTTP options are the first HTTP check's
 * (a Diego CheckDefinition cannot give two checks different ones).
 */
import { formatTarget } from '../checks/target.js';
import type { CheckSpec, HttpCheckSpec, StatusRange } from '../checks/types.js';
import type { AgentMode } from '../engine/types.js';

export interface AgentRequest {
  readonly mode: AgentMode;
  readonly checks: readonly CheckSpec[];
  /** Lifecycle: the readiness phase's checks, when not `checks`. */
  readonly readinessChecks?: readonly CheckSpec[];
  /** Absent for `once`, which has no rounds after the first. */
  readonly intervalMs?: number;
  /** Lifecycle: the readiness phase's period. */
  readonly startupIntervalMs?: number;
  readonly startupTimeoutMs?: number;
  readonly initialDelayMs?: number;
  readonly failureThreshold?: number;
  readonly successThreshold?: number;
  /** The inherited descriptor the heartbeat goes to. */
  readonly heartbeatFd?: number;
}

export function agentArgv(request: AgentRequest): string[] {
  const { checks, readinessChecks = [] } = request;
  const all = [...checks, ...readinessChecks];
  const args = [`--mode=${request.mode}`, ...checks.flatMap((check) => ['--check', formatTarget(check)])];
  args.push(...readinessChecks.flatMap((check) => ['--readiness-check', formatTarget(check)]));
  args.push(`--timeout=${millis(Math.max(...all.map((check) => check.timeoutMs)))}`);
  if (request.intervalMs !== undefined) args.push(`--interval=${millis(request.intervalMs)}`);
  if (request.startupIntervalMs !== undefined) args.push(`--startup-interval=${millis(request.startupIntervalMs)}`);
  if (request.startupTimeoutMs !== undefined) args.push(`--startup-timeout=${millis(request.startupTimeoutMs)}`);
  if (request.initialDelayMs !== undefined) args.push(`--initial-delay=${millis(request.initialDelayMs)}`);
  if (request.failureThreshold !== undefined) args.push(`--failure-threshold=${request.failureThreshold}`);
  if (request.successThreshold !== undefined) args.push(`--success-threshold=${request.successThreshold}`);
  const http = all.find((check): check is HttpCheckSpec => check.kind === 'http');
  if (http !== undefined) args.push(...httpArgs(http));
  args.push('--json');
  if (request.heartbeatFd !== undefined) args.push(`--heartbeat-fd=${request.heartbeatFd}`);
  return args;
}

function httpArgs(check: HttpCheckSpec): string[] {
  const args = [`--expect-status=${check.expectStatus.map(formatRange).join(',')}`];
  for (const [name, value] of check.headers) args.push('--header', `${name}: ${value}`);
  if (check.followRedirects) args.push('--follow-redirects');
  return args;
}

function formatRange(range: StatusRange): string {
  return range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`;
}

/** Whole milliseconds, which Go's duration syntax takes as they are: exact both ways, unlike `32.66s`. */
function millis(ms: number): string {
  return `${Math.round(ms)}ms`;
}
