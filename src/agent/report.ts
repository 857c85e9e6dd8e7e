import type { LifeguardError } from '../checks/errors.js';
import type { AgentMode, AgentOutcome, CheckReport } from './types.js';

/**
 * The native report on stdout: nothing on success; on failure one summary line, then the message of each
 * failing check, one per line, so that a supervisor can quote the first line and an operator can grep the rest.
 *
 *   readiness timed out after 60.00s (30 attempts): 1 of 2 checks never passed
 *   failed to make HTTP request to '/ready' on port 8080: received status code 503 in 2ms
 */
export function formatTextReport(outcome: AgentOutcome): string {
  if (outcome.passed) return '';
  const failing = outcome.checks.filter((check) => !check.passed);
  let text = `${summary(outcome, failing.length)}\n`;
  for (const check of failing) text += `${check.lastError?.message ?? `${check.target}: no result`}\n`;
  return text;
}

function summary(outcome: AgentOutcome, failing: number): string {
  const how = outcome.timedOut ? 'timed out' : 'failed';
  const attempts = `${outcome.attempts} ${outcome.attempts === 1 ? 'attempt' : 'attempts'}`;
  const checks = `${failing} of ${outcome.checks.length} ${outcome.checks.length === 1 ? 'check' : 'checks'}`;
  return `${outcome.mode} ${how} after ${(outcome.elapsedMs / 1000).toFixed(2)}s (${attempts}): ${checks} ${FAILING[outcome.mode]}`;
}

/** Readiness counts a check as failing until it has passed once; the other modes go by the last result. */
const FAILING: Readonly<Record<AgentMode, string>> = {
  readiness: 'never passed',
  'until-ready': 'never passed',
  liveness: 'failing',
  once: 'failed',
};

export interface JsonCheckReport {
  readonly target: string;
  readonly kind: CheckReport['kind'];
  readonly passed: boolean;
  readonly lastError: LifeguardError | null;
  readonly lastLatencyMs: number | null;
}

export interface JsonReport {
  readonly mode: AgentMode;
  readonly passed: boolean;
  readonly exitCode: number;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly checks: readonly JsonCheckReport[];
}

/**
 * The `--json` report. Absent values are null rather than missing, so that consumers see one shape;
 * times are whole milliseconds except latencies, kept to 0.1ms because loopback checks take well under one.
 */
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
      lastLatencyMs: check.lastLatencyMs === undefined ? null : Math.round(check.lastLatencyMs * 10) / 10,
    })),
  };
}

/**
 * The per-check part of a `--json` report an agent wrote, as the supervisor's probes read it; undefined when the
 * agent wrote none or something else (it was killed mid-write, or failed before it could report).
 */
export function readJsonChecks(stdout: string): readonly JsonCheckReport[] | undefined {
  try {
    const checks = (JSON.parse(stdout) as Partial<JsonReport> | null)?.checks;
    return Array.isArray(checks) ? checks : undefined;
  } catch {
    return undefined;
  }
}
