/**
 * Diego's CheckDefinition (the `check_definition` of a BBS DesiredLRP), as JSON:
 * `{"checks":[{"tcp_check":{...}}|{"http_check":{...}}],"readiness_checks":[...],"log_source":"HEALTH"}`.
 * Validated strictly: a typo in a health check must stop a deploy, not silently turn a check off.
 * zod/mini, not zod: the full build is 450 KB that the agent would parse at every start, --definition or not
 * (a fifth of its start-up time); this module is also loaded only when --definition is used.
 */
import * as z from 'zod/mini';
import { LifeguardFailure, usageError } from './errors.js';
import { type CheckDefaults, MAX_DURATION_MS, REQUEST_TARGET } from './parse.js';
import type { CheckSpec } from './types.js';

const PORT = 'expected a port number from 1 to 65535';
/** A port 1–65535; the supervisor's config schema uses it for `ports` too. */
export const port = z.int({ error: PORT }).check(z.minimum(1, { error: PORT }), z.maximum(65535, { error: PORT }));

const milliseconds = z.optional(
  z
    .int({ error: 'expected a whole number of milliseconds' })
    .check(
      z.minimum(1, { error: 'expected a whole number of milliseconds above 0' }),
      z.maximum(MAX_DURATION_MS, { error: `expected at most ${MAX_DURATION_MS} milliseconds` }),
    ),
);

const tcpCheck = z.strictObject({
  port,
  connect_timeout_ms: milliseconds,
  interval_ms: milliseconds,
});

const httpCheck = z.strictObject({
  port,
  path: z
    .string({ error: "expected a path starting with '/'" })
    .check(z.regex(REQUEST_TARGET, { error: "expected a path starting with '/', without spaces" })),
  request_timeout_ms: milliseconds,
  interval_ms: milliseconds,
});

/** One entry of `checks` or `readiness_checks`; the supervisor's config schema embeds it. */
export const checkSchema = z
  .strictObject({ tcp_check: z.optional(tcpCheck), http_check: z.optional(httpCheck) })
  .check(
    z.refine((entry) => (entry.tcp_check === undefined) !== (entry.http_check === undefined), {
      error: 'expected exactly one of tcp_check or http_check',
    }),
  );

export const checkDefinitionSchema = z.strictObject({
  checks: z.optional(z.array(checkSchema)),
  readiness_checks: z.optional(z.array(checkSchema)),
  log_source: z.optional(z.string()),
});

export type CheckEntry = z.infer<typeof checkSchema>;

export interface CheckDefinition {
  /** For liveness. */
  readonly checks: CheckSpec[];
  /** For readiness, until-ready and once: `readiness_checks`, or `checks` when there are none (Diego's rule). */
  readonly readinessChecks: CheckSpec[];
  /** The shortest `interval_ms` among the checks of each list, if any names one: the agent runs rounds. */
  readonly checksIntervalMs?: number;
  readonly readinessIntervalMs?: number;
}

/** Converts one validated entry; what Diego leaves out (host, timeout, HTTP options) comes from `defaults`. */
export function toCheckSpec(entry: CheckEntry, defaults: CheckDefaults): CheckSpec {
  const target = defaults.host === undefined ? {} : { host: defaults.host };
  if (entry.tcp_check !== undefined) {
    const { port: checkPort, connect_timeout_ms: timeoutMs = defaults.timeoutMs } = entry.tcp_check;
    return { kind: 'tcp', ...target, port: checkPort, timeoutMs };
  }
  const { port: checkPort, path, request_timeout_ms: timeoutMs = defaults.timeoutMs } = entry.http_check!;
  return { kind: 'http', ...target, port: checkPort, path, timeoutMs, ...defaults.http };
}

/**
 * Validates parsed JSON and converts it. `source` names where it came from for the error line,
 * e.g. `--definition 'checks.json'`; a failure names the field path, e.g. `checks[1].http_check.port`.
 */
export function parseCheckDefinition(json: unknown, defaults: CheckDefaults, source: string): CheckDefinition {
  const parsed = checkDefinitionSchema.safeParse(json, { reportInput: true, error: plainMessage });
  if (!parsed.success) throw new LifeguardFailure(usageError(`invalid ${source}: ${describeIssue(parsed.error)}`));
  const checks = parsed.data.checks ?? [];
  const readiness = parsed.data.readiness_checks?.length ? parsed.data.readiness_checks : checks;
  const checksIntervalMs = shortestInterval(checks);
  const readinessIntervalMs = shortestInterval(readiness);
  return {
    checks: checks.map((entry) => toCheckSpec(entry, defaults)),
    readinessChecks: readiness.map((entry) => toCheckSpec(entry, defaults)),
    ...(checksIntervalMs === undefined ? {} : { checksIntervalMs }),
    ...(readinessIntervalMs === undefined ? {} : { readinessIntervalMs }),
  };
}

function shortestInterval(entries: readonly CheckEntry[]): number | undefined {
  const intervals = entries
    .map((entry) => (entry.tcp_check ?? entry.http_check)?.interval_ms)
    .filter((ms): ms is number => ms !== undefined);
  return intervals.length === 0 ? undefined : Math.min(...intervals);
}

/** zod's wording for the issues no schema above words itself ("expected array"; the value follows). */
const plainMessage: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' ? `expected ${issue.expected}` : undefined;

/** `checks[1].http_check.port: expected a port number from 1 to 65535, got 0`: the first problem, on one line. */
export function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `${fieldPath([...issue.path, issue.keys[0]!])}: unknown field`;
  // The value as given, unless it is a whole object (the path says which) or too long for one line.
  const got = issue.code === 'custom' || issue.input === undefined ? '' : `, got ${JSON.stringify(issue.input)}`;
  return `${fieldPath(issue.path)}: ${issue.message}${got.length > 60 ? '' : got}`;
}

/** `checks[1].http_check.port`, as a JSON path an operator can follow; the root is `definition`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  const text = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  return text === '' ? 'definition' : text.replace(/^\./, '');
}
