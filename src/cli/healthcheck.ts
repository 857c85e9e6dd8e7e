/**
 * The agent's native command line (`healthcheck --mode=readiness --port 8080`), parsed by long-flags.ts.
 * Every value is taken as text and checked by src/checks/parse.ts, so that a bad value is one usage line
 * (exit 2) naming the flag, whichever dialect or config file it came from. node:fs and node:path are loaded only
 * by the flags that name files: a plain check does not pay for them at start.
 */
import { formatTextReport } from '../agent/report.js';
import type { AgentMode } from '../engine/types.js';
import { toJsonReport } from '../protocol/report.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import {
  type CheckDefaults,
  invalidValue,
  parseBodyExpectation,
  parseCheckUrl,
  parseDurationValue,
  parseHeader,
  parseHeaderExpectation,
  parseHost,
  parseInteger,
  parsePort,
  parseStatusList,
  parseUri,
} from '../checks/parse.js';
import type { CheckSpec, TlsOptions } from '../checks/types.js';
import { lazily } from '../checks/lazily.js';
import { ownValue } from '../checks/own-value.js';
import { VERSION } from '../checks/version.js';
import type { Getenv, Invocation, ParseArgs } from './invocation.js';
import { formatLongFlagsHelp, type LongFlag, type LongFlagValues, parseLongFlags } from './long-flags.js';

const MODES: Readonly<Record<string, AgentMode>> = {
  readiness: 'readiness',
  starting: 'readiness',
  startup: 'readiness',
  liveness: 'liveness',
  running: 'liveness',
  'until-ready': 'until-ready',
  once: 'once',
  lifecycle: 'lifecycle',
};

/** `--interval` when not given: readiness polls briskly, liveness is a background watch. */
const DEFAULT_INTERVAL_MS: Readonly<Record<AgentMode, number>> = {
  readiness: 2000,
  'until-ready': 2000,
  liveness: 30_000,
  lifecycle: 30_000,
  once: 2000,
};
/** Lifecycle's readiness phase, as readiness alone. */
const DEFAULT_STARTUP_INTERVAL_MS = 2000;

/** The flags as given: raw text, checked below (keys are the flags' names). */
interface RawOptions {
  mode: string;
  port?: string;
  uri?: string;
  host?: string;
  timeout: string;
  interval?: string;
  'startup-interval'?: string;
  'startup-timeout': string;
  'initial-delay': string;
  'failure-threshold': string;
  'success-threshold'?: string;
  'ready-file'?: string;
  'log-ready'?: boolean;
  'expect-status': string;
  header?: string[];
  'follow-redirects'?: boolean;
  check?: string[];
  'readiness-check'?: string[];
  'tls-skip-verify'?: boolean;
  'ca-file'?: string;
  'server-name'?: string;
  'client-cert'?: string;
  'client-key'?: string;
  method?: string;
  'expect-body'?: string;
  'expect-body-regex'?: string;
  'expect-header'?: string[];
  definition?: string;
  json?: boolean;
  'heartbeat-fd'?: string;
}

/**
 * The native flags, made at the first native parse (lazily.ts): a start in another dialect (grpc-health-probe's,
 * Cloud Foundry's) never reads them, and their 30 rows cost it 0.09 M instructions.
 */
const nativeFlags = lazily((): readonly LongFlag[] => [
  { name: 'mode', value: '<mode>', help: 'readiness|starting|startup, liveness|running, lifecycle, until-ready, once, is-ready', fallback: 'once' },
  { name: 'port', value: '<port>', help: 'port to check (default: $PORT, else 8080)' },
  { name: 'uri', value: '<path>', help: 'HTTP path to GET (none: a TCP check)' },
  { name: 'host', value: '<host>', help: 'IPv4 or IPv6 address, or a name resolved at each check (default: the first non-loopback IPv4)' },
  { name: 'timeout', value: '<duration>', help: 'deadline of one check', fallback: '1s' },
  { name: 'interval', value: '<duration>', help: 'period of rounds (default: readiness 2s, liveness and lifecycle 30s)' },
  { name: 'startup-interval', value: '<duration>', help: "lifecycle: period of the readiness phase's rounds (default 2s)" },
  { name: 'startup-timeout', value: '<duration>', help: 'readiness gives up after this (0: never)', fallback: '60s' },
  { name: 'initial-delay', value: '<duration>', help: 'wait before the first round', fallback: '0' },
  { name: 'failure-threshold', value: '<n>', help: 'liveness: consecutive failures of one check that end it', fallback: '1' },
  { name: 'success-threshold', value: '<n>', help: 'readiness: consecutive passes before a check counts as passed (default 1)' },
  { name: 'ready-file', value: '<path>', help: 'lifecycle: create this file once readiness has passed; removed when the agent ends. is-ready: the file to check' },
  { name: 'log-ready', help: 'lifecycle: say on stdout when readiness has passed' },
  { name: 'expect-status', value: '<list>', help: 'statuses that pass, e.g. 200-299,304', fallback: '200' },
  { name: 'header', value: '<header>', help: "extra request header 'Name: value' (repeatable)", repeatable: true },
  { name: 'follow-redirects', help: 'follow up to 10 redirects to the same host' },
  { name: 'check', value: '<url>', help: 'tcp://[host]:port, http(s)://[host]:port/path or grpc(s)://[host]:port[/service] (repeatable; replaces --port/--uri)', repeatable: true },
  { name: 'readiness-check', value: '<url>', help: "lifecycle: the readiness phase's checks, if not the --check ones (repeatable)", repeatable: true },
  { name: 'tls-skip-verify', help: 'https/grpcs: accept any server certificate' },
  { name: 'ca-file', value: '<pem>', help: 'https/grpcs: trust these certificate authorities' },
  { name: 'server-name', value: '<name>', help: 'https/grpcs: SNI and the name the certificate must carry' },
  { name: 'client-cert', value: '<pem>', help: 'https/grpcs: client certificate (with --client-key)' },
  { name: 'client-key', value: '<pem>', help: 'https/grpcs: client key (with --client-cert)' },
  { name: 'method', value: '<method>', help: 'HTTP method: GET or HEAD', fallback: 'GET' },
  { name: 'expect-body', value: '<text>', help: 'HTTP: the body (first 64 KiB) must contain this' },
  { name: 'expect-body-regex', value: '<re>', help: 'HTTP: the body (first 64 KiB) must match this' },
  { name: 'expect-header', value: '<header>', help: "HTTP: 'Name: regex' the response must carry (repeatable)", repeatable: true },
  { name: 'definition', value: '<file>', help: "Diego CheckDefinition JSON ('-': stdin)" },
  { name: 'json', help: 'report as one JSON object on stdout' },
  { name: 'heartbeat-fd', value: '<fd>', help: 'for the supervisor: write a JSON line per completed round to this inherited fd' },
]);

const AFTER_HELP = `
Durations take Go syntax (500ms, 2s, 1m30s). Success is silent; a failure is reported on stdout.
Exit codes: 0 passed, 2 usage, 3 no suitable interface, 4 TCP failed, 5 HTTP/gRPC failed (TLS included),
6 HTTP status or assertion / gRPC not serving, 64 TCP timeout, 65 HTTP/gRPC timeout, 127 internal error,
128+n killed by signal n. --mode=is-ready --ready-file <path> exits 0 if a running lifecycle agent
wrote that file, else 1 (an exec probe for a shell-less sidecar). After the checks, '-- command args...' runs a command once they have passed
(readiness, until-ready, once), exiting with its status (126/127: it could not be run).
Cloud Foundry's flags (-port=8080 -uri=/health -startup-interval=2s ...) and grpc-health-probe's
(-addr=:50051 -service=x) are understood too.`;

export const parseNativeArgs: ParseArgs = async (argv, getenv, command) => {
  const parsed = parseLongFlags(nativeFlags(), argv);
  if (parsed.kind === 'help') {
    const help = formatLongFlagsHelp('healthcheck', 'Checks an app over TCP, HTTP(S) or gRPC and says what it found through its exit code.', nativeFlags(), AFTER_HELP);
    return { kind: 'print', told: { stdout: help } };
  }
  if (parsed.kind === 'version') return { kind: 'print', told: { stdout: `${VERSION}\n` } };
  if (parsed.values['mode'] === IS_READY) return isReady(parsed.values, command);
  return invocation(parsed.values as unknown as RawOptions, getenv, command);
};

const METHODS = ['GET', 'HEAD'] as const;
const IS_READY = 'is-ready';

/** `--mode=is-ready` checks a file and nothing else: any other flag given would be silently ignored, so it is refused. */
function isReady(values: LongFlagValues, command: readonly string[] | undefined): Invocation {
  const file = values['ready-file'];
  if (typeof file !== 'string') throw new LifeguardFailure(usageError('--mode=is-ready needs --ready-file <path>: the file a lifecycle agent writes'));
  const other = nativeFlags().find((flag) => flag.name !== 'mode' && flag.name !== 'ready-file' && values[flag.name] !== undefined && values[flag.name] !== flag.fallback);
  if (other !== undefined || command !== undefined) {
    throw new LifeguardFailure(usageError(`--mode=is-ready takes --ready-file only, not ${other === undefined ? 'a command after --' : `--${other.name}`}`));
  }
  return { kind: 'is-ready', readyFile: file };
}

async function invocation(raw: RawOptions, getenv: Getenv, command: readonly string[] | undefined): Promise<Invocation> {
  const mode = ownValue(MODES, raw.mode) ?? invalidValue('--mode', raw.mode, `one of ${[...Object.keys(MODES), IS_READY].join(', ')}`);
  if (command !== undefined && (mode === 'liveness' || mode === 'lifecycle')) {
    throw new LifeguardFailure(usageError(`a command after -- needs --mode=readiness, until-ready or once: ${mode} never passes for good`));
  }
  const host = raw.host === undefined ? undefined : parseHost('--host', raw.host);
  const method = (METHODS as readonly string[]).includes(raw.method ?? '') ? (raw.method as 'GET' | 'HEAD') : invalidValue('--method', raw.method ?? '', 'GET or HEAD');
  const expectBody = parseBodyExpectation(raw['expect-body'], raw['expect-body-regex']);
  if (method === 'HEAD' && expectBody !== undefined) {
    throw new LifeguardFailure(usageError('--expect-body needs --method GET: a HEAD response has no body'));
  }
  // An absent list flag runs no array builtin (map ...): its first run would cost every start page faults.
  const expectHeaders = raw['expect-header'] === undefined ? [] : raw['expect-header'].map((text) => parseHeaderExpectation('--expect-header', text));
  const headers = raw.header === undefined ? [] : raw.header.map((text) => parseHeader('--header', text));
  const tls = tlsFlagsGiven(raw) ? await tlsOptions(raw) : undefined;
  const defaults: CheckDefaults = {
    ...(host === undefined ? {} : { host }),
    timeoutMs: parseDurationValue('--timeout', raw.timeout, false),
    http: {
      expectStatus: parseStatusList('--expect-status', raw['expect-status']),
      headers,
      followRedirects: raw['follow-redirects'] === true,
      ...(method === 'GET' ? {} : { method }),
      ...(expectBody === undefined ? {} : { expectBody }),
      ...(expectHeaders.length === 0 ? {} : { expectHeaders }),
    },
    ...(tls === undefined ? {} : { tls }),
    // gRPC metadata are HTTP/2 request headers: --header gives them too.
    grpc: { metadata: headers },
  };
  // --port is checked even where --check makes it moot, so that a typo never passes unnoticed.
  const port = raw.port === undefined ? undefined : parsePort('--port', raw.port);
  const uri = raw.uri === undefined ? undefined : parseUri('--uri', raw.uri);

  const defined = raw.definition === undefined ? undefined : await loadDefinition(raw.definition, mode, defaults);
  const urls = raw.check === undefined ? [] : raw.check.map((text) => parseCheckUrl('--check', text, defaults));
  const checks: CheckSpec[] = [...(defined?.checks ?? []), ...urls];
  if (checks.length === 0) checks.push(portCheck(port ?? defaultPort(getenv), uri, defaults));
  const readinessUrls = raw['readiness-check'] === undefined ? [] : raw['readiness-check'].map((text) => parseCheckUrl('--readiness-check', text, defaults));
  const readinessChecks = [...(defined?.readinessChecks ?? []), ...readinessUrls];
  if (readinessChecks.length > 0 && mode !== 'lifecycle') throw new LifeguardFailure(usageError('--readiness-check is for --mode=lifecycle only'));
  const every = readinessChecks.length === 0 ? checks : [...checks, ...readinessChecks];
  const someTls = usesTls(every);
  if (tls !== undefined && !someTls) throw new LifeguardFailure(usageError('TLS options given, but no https:// or grpcs:// check to apply them to'));
  if (someTls) await usableTlsFiles(every);
  if ((expectBody !== undefined || expectHeaders.length > 0) && !every.some((check) => check.kind === 'http')) {
    throw new LifeguardFailure(usageError('--expect-body, --expect-body-regex and --expect-header need an HTTP check (--uri or --check http://...)'));
  }

  const interval = raw.interval === undefined ? undefined : parseDurationValue('--interval', raw.interval, false);
  const startupTimeoutMs = parseDurationValue('--startup-timeout', raw['startup-timeout'], true);
  const startupIntervalMs = raw['startup-interval'] === undefined ? undefined : parseDurationValue('--startup-interval', raw['startup-interval'], false);
  // inherited-fd.ts reads /proc with node:fs: loaded only for a supervised agent.
  const heartbeatFd = raw['heartbeat-fd'] === undefined ? undefined : (await import('./inherited-fd.js')).parseInheritedFd('--heartbeat-fd', raw['heartbeat-fd']);
  const options = {
    mode,
    checks,
    intervalMs: interval ?? defined?.intervalMs ?? DEFAULT_INTERVAL_MS[mode],
    startupTimeoutMs: mode === 'readiness' || mode === 'lifecycle' ? startupTimeoutMs : 0,
    initialDelayMs: parseDurationValue('--initial-delay', raw['initial-delay'], true),
    failureThreshold: parseInteger('--failure-threshold', raw['failure-threshold'], 1),
    ...successThreshold(raw['success-threshold'], defined?.successThreshold),
    ...(mode === 'lifecycle' ? { startupIntervalMs: startupIntervalMs ?? defined?.startupIntervalMs ?? DEFAULT_STARTUP_INTERVAL_MS } : {}),
    ...(readinessChecks.length > 0 ? { readinessChecks } : {}),
  };
  return {
    kind: 'run',
    options,
    ...(heartbeatFd === undefined ? {} : { heartbeatFd }),
    ...(raw['ready-file'] === undefined ? {} : { readyFile: lifecycleOnly('--ready-file', raw['ready-file'], mode) }),
    ...(raw['log-ready'] === undefined ? {} : { logReady: lifecycleOnly('--log-ready', logReadyBeside(raw.json), mode) }),
    ...(command === undefined ? {} : { command }),
    tell: (outcome) => {
      if (raw.json) return { stdout: `${JSON.stringify(toJsonReport(outcome))}\n` };
      // until-ready is meant to be waited on quietly; the other modes explain a failure.
      return outcome.passed || mode === 'until-ready' ? {} : { stdout: formatTextReport(outcome) };
    },
  };
}

function tlsFlagsGiven(raw: RawOptions): boolean {
  return raw['tls-skip-verify'] !== undefined || raw['ca-file'] !== undefined || raw['server-name'] !== undefined || raw['client-cert'] !== undefined || raw['client-key'] !== undefined;
}

/** The TLS flags (some given) as options for https:// and grpcs:// checks. Files must be readable now. */
async function tlsOptions(raw: RawOptions): Promise<TlsOptions> {
  if ((raw['client-cert'] === undefined) !== (raw['client-key'] === undefined)) {
    throw new LifeguardFailure(usageError('--client-cert and --client-key go together: give both or neither'));
  }
  const serverName = raw['server-name'] === undefined ? undefined : parseHost('--server-name', raw['server-name']);
  const fs = await import('node:fs');
  return {
    skipVerify: raw['tls-skip-verify'] === true,
    ...(raw['ca-file'] === undefined ? {} : { caFile: readableFile(fs, '--ca-file', raw['ca-file']) }),
    ...(serverName === undefined ? {} : { serverName }),
    ...(raw['client-cert'] === undefined ? {} : { clientCertFile: readableFile(fs, '--client-cert', raw['client-cert']) }),
    ...(raw['client-key'] === undefined ? {} : { clientKeyFile: readableFile(fs, '--client-key', raw['client-key']) }),
  };
}

/** Whether a check speaks TLS. A loop: an array builtin's first run (some ...) costs every start page faults. */
function usesTls(checks: readonly CheckSpec[]): boolean {
  for (const check of checks) if (check.kind !== 'tcp' && check.tls !== undefined) return true;
  return false;
}

/**
 * The TLS files of every check (flags and definition alike), judged now: one that can never work (not PEM, a key
 * for another certificate, ...) is a usage error naming it, rather than a check that fails at every round.
 */
async function usableTlsFiles(checks: readonly CheckSpec[]): Promise<void> {
  const seen = new Set<TlsOptions>();
  for (const check of checks) {
    if (check.kind === 'tcp' || check.tls === undefined || seen.has(check.tls)) continue;
    seen.add(check.tls);
    const { unusableTlsFile, describeTlsProblem } = await import('../checks/tls-material.js');
    const problem = await unusableTlsFile(check.tls);
    if (problem !== undefined) throw new LifeguardFailure(usageError(`invalid TLS file: ${describeTlsProblem(problem)}`));
  }
}

/** A file the agent will read at every check: one that cannot be read now is a usage error, not a failed check. */
function readableFile(fs: typeof import('node:fs'), name: string, file: string): string {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (thrown) {
    invalidValue(name, file, `a readable file (${errnoOf(thrown)})`);
  }
  return file;
}

/** `--success-threshold` wins over the definition's `success_threshold`; neither: the default, 1. */
function successThreshold(flag: string | undefined, defined: number | undefined): { successThreshold?: number } {
  const n = flag === undefined ? defined : parseInteger('--success-threshold', flag, 1);
  return n === undefined ? {} : { successThreshold: n };
}

/** A flag that only the lifecycle mode's readiness-then-liveness gives a meaning to. (Its file is judged at start: ready-file.ts.) */
/** With --json, stdout is the one JSON report a reader parses whole: a text line before it would break that. */
function logReadyBeside(json: boolean | undefined): true {
  if (json === true) throw new LifeguardFailure(usageError('--log-ready cannot go with --json (with --json, stdout is the JSON report alone)'));
  return true;
}

function lifecycleOnly<T>(flag: string, value: T, mode: AgentMode): T {
  if (mode !== 'lifecycle') throw new LifeguardFailure(usageError(`${flag} is for --mode=lifecycle only`));
  return value;
}

function defaultPort(getenv: Getenv): number {
  const port = getenv('PORT');
  return port === undefined || port === '' ? 8080 : parsePort('$PORT', port);
}

function portCheck(port: number, uri: string | undefined, defaults: CheckDefaults): CheckSpec {
  const target = { ...(defaults.host === undefined ? {} : { host: defaults.host }), port, timeoutMs: defaults.timeoutMs };
  return uri === undefined ? { kind: 'tcp', ...target } : { kind: 'http', ...target, path: uri, ...defaults.http };
}

/**
 * Reads a CheckDefinition file (or stdin) and picks the list the mode needs: `checks` for liveness,
 * `readiness_checks` (else `checks`) for the others. zod is loaded here only, off the common start-up path.
 */
async function loadDefinition(file: string, mode: AgentMode, defaults: CheckDefaults): Promise<Defined> {
  const source = `--definition '${file}'`;
  const { readFileSync } = await import('node:fs');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  } catch (thrown) {
    // V8 quotes the text around the error, newlines included: folded, so that the usage error stays one line.
    const reason = thrown instanceof SyntaxError ? `not JSON (${thrown.message.replace(/\s+/g, ' ')})` : `cannot read it (${errnoOf(thrown)})`;
    throw new LifeguardFailure(usageError(`invalid ${source}: ${reason}`));
  }
  const { parseCheckDefinition } = await import('../checks/definition.js');
  const definition = parseCheckDefinition(json, defaults, source);
  // Liveness runs `checks`; the readiness modes `readiness_checks` (else `checks`); lifecycle both, in turn.
  const liveness = mode === 'liveness' || mode === 'lifecycle';
  const checks = liveness ? definition.checks : definition.readinessChecks;
  if (checks.length === 0) {
    throw new LifeguardFailure(usageError(`invalid ${source}: no checks for --mode=${mode}`));
  }
  const intervalMs = liveness ? definition.checksIntervalMs : definition.readinessIntervalMs;
  return {
    checks,
    ...(intervalMs === undefined ? {} : { intervalMs }),
    ...(mode === 'lifecycle' ? { readinessChecks: definition.readinessChecks } : {}),
    ...(mode === 'lifecycle' && definition.readinessIntervalMs !== undefined ? { startupIntervalMs: definition.readinessIntervalMs } : {}),
    ...(definition.successThreshold === undefined ? {} : { successThreshold: definition.successThreshold }),
  };
}

interface Defined {
  readonly checks: CheckSpec[];
  readonly intervalMs?: number;
  readonly readinessChecks?: CheckSpec[];
  readonly startupIntervalMs?: number;
  readonly successThreshold?: number;
}

function errnoOf(thrown: unknown): string {
  const { code, message } = thrown as NodeJS.ErrnoException;
  return code ?? message.split('\n')[0] ?? 'unknown error';
}
