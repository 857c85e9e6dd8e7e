import type { AgentOutcome, LoopMode } from '../engine/types.js';

/**
 * The native report on stdout: nothing on success; on failure one summary line, then the message of each
 * failing check, one per line, so that a supervisor can quote the first line and an operator can grep the rest.
 *
 *   readiness timed out after 60.00s (30 attempts): 1 of 2 checks never passed
 *   failed to make HTTP request to '/ready' on 10.0.0.5:8080: received status code 503 in 2ms
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
const FAILING: Readonly<Record<LoopMode, string>> = {
  readiness: 'never passed',
  'until-ready': 'never passed',
  liveness: 'failing',
  once: 'failed',
  routing: 'failing',
};
