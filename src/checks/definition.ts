/**
 * Diego's CheckDefinition (the `check_definition` of a BBS DesiredLRP), as JSON:
 * `{"checks":[{"tcp_check":{...}}|{"http_check":{...}}],"readiness_checks":[...],"log_source":"HEALTH"}`.
 * Validated strictly: a typo in a health check must stop a deploy, not silently turn a check off.
 *
 * Lifeguard's extensions, which Diego's own fields never change: in `http_check`, `tls` (HTTPS), `method`,
 * `expect_body`, `expect_body_regex` and `expect_headers`; and a third kind of entry, `grpc_check`. A definition
 * without them is exactly Diego's.
 * zod/mini, not zod: the full build is 450 KB that the agent would parse at every start, --definition or not
 * (a fifth of its start-up time); this module is also loaded only when --definition is used.
 */
import * as z from 'zod/mini';
import { LifeguardFailure, usageError } from './errors.js';
import { type CheckDefaults, HEADER_NAME, isHostName, MAX_DURATION_MS, REQUEST_TARGET } from './parse.js';
import { type CheckSpec, GRPC_HEALTH_PATH, type HttpCheckSpec, type TlsOptions } from './types.js';

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

const file = z.string({ error: 'expected a file path' }).check(z.minLength(1, { error: 'expected a file path' }));

/** Extension: present means HTTPS (or grpcs); every field optional, verification on. */
const tls = z.strictObject(
  {
    skip_verify: z.optional(z.boolean({ error: 'expected true or false' })),
    ca_file: z.optional(file),
    server_name: z.optional(z.string({ error: 'expected a host name' }).check(z.refine(isHostName, { error: 'expected a host name such as api.internal' }))),
    client_cert: z.optional(file),
    client_key: z.optional(file),
  },
  { error: 'expected an object such as {"ca_file": "/etc/ssl/ca.pem"}' },
).check(
  z.refine((value) => (value.client_cert === undefined) === (value.client_key === undefined), {
    error: 'expected client_cert and client_key together',
  }),
);

const regexSource = z.string({ error: 'expected a regular expression' }).check(
  z.refine(
    (text) => {
      try {
        new RegExp(text);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'expected a regular expression in JavaScript syntax' },
  ),
);

const httpCheck = z
  .strictObject({
    port,
    path: z
      .string({ error: "expected a path starting with '/'" })
      .check(z.regex(REQUEST_TARGET, { error: "expected a path starting with '/', without spaces" })),
    request_timeout_ms: milliseconds,
    interval_ms: milliseconds,
    tls: z.optional(tls),
    method: z.optional(z.enum(['GET', 'HEAD'], { error: 'expected "GET" or "HEAD"' })),
    expect_body: z.optional(z.string({ error: 'expected a string' })),
    expect_body_regex: z.optional(regexSource),
    expect_headers: z.optional(
      z.record(z.string().check(z.regex(HEADER_NAME)), regexSource, { error: 'expected an object of header names and regular expressions' }),
    ),
  })
  .check(
    z.refine((entry) => entry.expect_body === undefined || entry.expect_body_regex === undefined, {
      error: 'expected one of expect_body or expect_body_regex, not both',
    }),
    z.refine((entry) => entry.method !== 'HEAD' || (entry.expect_body === undefined && entry.expect_body_regex === undefined), {
      error: 'expected method GET with expect_body: a HEAD response has no body',
    }),
  );

/** Extension: a gRPC health check (grpc.health.v1.Health/Check). */
const grpcCheck = z.strictObject({
  port,
  service: z.optional(z.string({ error: 'expected a service name' }).check(z.regex(/^[\x21-\x7e]*$/, { error: 'expected a service name without spaces' }))),
  tls: z.optional(tls),
  /** The whole check's deadline, as request_timeout_ms is an http_check's. */
  request_timeout_ms: milliseconds,
  connect_timeout_ms: milliseconds,
  interval_ms: milliseconds,
});

const KINDS = ['tcp_check', 'http_check', 'grpc_check'] as const;

/** One entry of `checks` or `readiness_checks`; the supervisor's config schema embeds it. */
export const checkSchema = z
  .strictObject({ tcp_check: z.optional(tcpCheck), http_check: z.optional(httpCheck), grpc_check: z.optional(grpcCheck) })
  .check(
    z.refine((entry) => KINDS.filter((kind) => entry[kind] !== undefined).length === 1, {
      error: 'expected exactly one of tcp_check, http_check or grpc_check',
    }),
  );

const checkDefinitionSchema = z.strictObject({
  checks: z.optional(z.array(checkSchema)),
  readiness_checks: z.optional(z.array(checkSchema)),
  log_source: z.optional(z.string()),
  // Our extension (Diego has none): passes in a row before a readiness check counts as passed.
  success_threshold: z.optional(z.int().check(z.minimum(1))),
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
  /** `success_threshold`, when given. */
  readonly successThreshold?: number;
}

/** The entry's one check, whichever kind it is. */
export function entryCheck(entry: CheckEntry): { readonly kind: (typeof KINDS)[number]; readonly port: number; readonly interval_ms?: number | undefined } {
  const kind = KINDS.find((name) => entry[name] !== undefined) as (typeof KINDS)[number];
  return { kind, ...(entry[kind] as { port: number; interval_ms?: number }) };
}

/**
 * Converts one validated entry; what Diego leaves out (host, timeout, HTTP options) comes from `defaults`, and an
 * entry's own extension fields win over them.
 */
export function toCheckSpec(entry: CheckEntry, defaults: CheckDefaults): CheckSpec {
  const target = defaults.host === undefined ? {} : { host: defaults.host };
  if (entry.tcp_check !== undefined) {
    const { port: checkPort, connect_timeout_ms: timeoutMs = defaults.timeoutMs } = entry.tcp_check;
    return { kind: 'tcp', ...target, port: checkPort, timeoutMs };
  }
  if (entry.grpc_check !== undefined) {
    const { port: checkPort, service = '', request_timeout_ms: timeoutMs = defaults.timeoutMs, connect_timeout_ms: connectTimeoutMs } = entry.grpc_check;
    return {
      kind: 'grpc',
      ...target,
      port: checkPort,
      path: GRPC_HEALTH_PATH,
      service,
      timeoutMs,
      metadata: [],
      ...defaults.grpc,
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
      ...tlsOf(entry.grpc_check.tls),
    };
  }
  const http = entry.http_check!;
  const { port: checkPort, path, request_timeout_ms: timeoutMs = defaults.timeoutMs } = http;
  const own: Partial<HttpCheckSpec> = {
    ...(http.method === undefined ? {} : { method: http.method }),
    ...(http.expect_body === undefined ? {} : { expectBody: { kind: 'substring', text: http.expect_body } }),
    ...(http.expect_body_regex === undefined ? {} : { expectBody: { kind: 'regex', regex: new RegExp(http.expect_body_regex) } }),
    ...(http.expect_headers === undefined
      ? {}
      : { expectHeaders: Object.entries(http.expect_headers).map(([name, regex]) => ({ name, regex: new RegExp(regex) })) }),
  };
  return { kind: 'http', ...target, port: checkPort, path, timeoutMs, ...defaults.http, ...own, ...tlsOf(http.tls) };
}

function tlsOf(raw: z.infer<typeof tls> | undefined): { tls?: TlsOptions } {
  if (raw === undefined) return {};
  return {
    tls: {
      skipVerify: raw.skip_verify === true,
      ...(raw.ca_file === undefined ? {} : { caFile: raw.ca_file }),
      ...(raw.server_name === undefined ? {} : { serverName: raw.server_name }),
      ...(raw.client_cert === undefined ? {} : { clientCertFile: raw.client_cert }),
      ...(raw.client_key === undefined ? {} : { clientKeyFile: raw.client_key }),
    },
  };
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
    ...(parsed.data.success_threshold === undefined ? {} : { successThreshold: parsed.data.success_threshold }),
  };
}

function shortestInterval(entries: readonly CheckEntry[]): number | undefined {
  const intervals = entries.map((entry) => entryCheck(entry).interval_ms).filter((ms): ms is number => ms !== undefined);
  return intervals.length === 0 ? undefined : Math.min(...intervals);
}

/** zod's wording for the issues no schema above words itself ("expected array"; the value follows). */
const plainMessage: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' ? `expected ${issue.expected}` : undefined;

/**
 * `checks[1].http_check.port: expected a port number from 1 to 65535, got 0`: the first problem, on one line.
 * An unknown key comes first: it is usually a typo, and the missing key it stands for is then only its symptom.
 */
export function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `${fieldPath([...issue.path, issue.keys[0]!])}: unknown field`;
  // The value as given, unless it is a whole object (the path says which) or too long for one line.
  const got = issue.code === 'custom' || issue.input === undefined ? '' : `, got ${JSON.stringify(issue.input)}`;
  return `${fieldPath(issue.path)}: ${issue.message}${got.length > 60 ? '' : got}`;
}

/** `checks[1].http_check.port`, as a JSON path an operator can follow; the root is `definition`. */
function fieldPath(path: readonly PropertyKey[]): string {
  const text = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  return text === '' ? 'definition' : text.replace(/^\./, '');
}
