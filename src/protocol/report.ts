/**
 * The `--json` report: one object on the agent's stdout when it ends, written from the loop's outcome and read
 * back by the supervisor's probes (sidecar and oneshot) through this module only. Absent values are null rather
 * than missing, so that consumers see one shape; times are whole milliseconds except latencies, kept to 0.1 ms.
 */
import { isDocumentedExitCode, type ErrorCode, type LifeguardError } from '../checks/errors.js';
import type { AgentOutcome, CheckReport, LoopMode } from '../engine/types.js';
import { tenths } from './heartbeat.js';

interface JsonCheckReport {
  readonly target: string;
  readonly kind: CheckReport['kind'];
  readonly passed: boolean;
  readonly lastError: LifeguardError | null;
  readonly lastLatencyMs: number | null;
}

export interface JsonReport {
  readonly mode: LoopMode;
  readonly passed: boolean;
  readonly exitCode: number;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly checks: readonly JsonCheckReport[];
}

export function toJsonReport(outcome: AgentOutcome): JsonReport {
  return {
    mode: outcome.mode,
    passed: outcome.passed,
    exitCode: outcome.exitCode,
    elapsedMs: Math.round(outcome.elapsedMs),
    attempts: outcome.attempts,
    checks: outcome.checks.map((check) => ({
      target: check.target,
      kind: check.kind,
      passed: check.passed,
      lastError: check.lastError ?? null,
      lastLatencyMs: check.lastLatencyMs === undefined ? null : tenths(check.lastLatencyMs),
    })),
  };
}

/** What the supervisor takes from a report: the checks, as the loop's own outcome holds them. */
export interface AgentReport {
  readonly passed: boolean;
  readonly exitCode: number;
  readonly checks: readonly CheckReport[];
}

const MODES: ReadonlySet<unknown> = new Set<LoopMode>(['readiness', 'liveness', 'until-ready', 'once']);
const KINDS: ReadonlySet<unknown> = new Set<CheckReport['kind']>(['tcp', 'http', 'grpc']);

/**
 * The report an agent wrote, or undefined when it wrote none or something else (it was killed mid-write, or
 * failed before it could report). Every field is checked: the supervisor never trusts a shape it did not verify.
 */
export function readJsonReport(stdout: string): AgentReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const report = value as Partial<Record<keyof JsonReport, unknown>> | null;
  if (typeof report !== 'object' || report === null || !MODES.has(report.mode) || typeof report.passed !== 'boolean') return undefined;
  if (typeof report.exitCode !== 'number' || !Array.isArray(report.checks)) return undefined;
  const checks: CheckReport[] = [];
  for (const entry of report.checks as unknown[]) {
    const check = readCheck(entry);
    if (check === undefined) return undefined;
    checks.push(check);
  }
  return { passed: report.passed, exitCode: report.exitCode, checks };
}

function readCheck(entry: unknown): CheckReport | undefined {
  const check = entry as Partial<Record<keyof JsonCheckReport, unknown>> | null;
  if (typeof check !== 'object' || check === null || typeof check.target !== 'string' || !KINDS.has(check.kind) || typeof check.passed !== 'boolean') return undefined;
  const lastError = check.lastError === null ? undefined : readError(check.lastError);
  if (lastError === null) return undefined;
  const latency = check.lastLatencyMs;
  if (latency !== null && (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0)) return undefined;
  return {
    target: check.target,
    kind: check.kind as CheckReport['kind'],
    passed: check.passed,
    ...(lastError === undefined ? {} : { lastError }),
    ...(latency === null ? {} : { lastLatencyMs: latency }),
  };
}

/** null: not an error as the error table makes them. */
function readError(value: unknown): LifeguardError | null {
  const error = value as Partial<Record<keyof LifeguardError, unknown>> | null;
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || typeof error.message !== 'string') return null;
  if (typeof error.exitCode !== 'number' || !isDocumentedExitCode(error.exitCode)) return null;
  return { code: error.code as ErrorCode, exitCode: error.exitCode, message: error.message };
}

/**
 * The reason an operator reads when a probe fails, whoever ran the loop (the supervisor or an agent): the
 * message of every failing check, in the order the checks were given.
 */
export function failureReason(checks: readonly CheckReport[]): string {
  const messages = checks.flatMap((check) => (check.passed ? [] : [check.lastError?.message ?? `${check.target}: no result`]));
  return messages.join('; ');
}
