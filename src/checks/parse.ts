/**
 * Value parsers shared by both command-line dialects and the supervisor's config. Each takes the name the
 * operator used (`--port`, `-timeout`, `apps[0].startTimeout`) and the text they wrote, and either returns the
 * value or throws a usage error that quotes both, so that one line on stderr says exactly what to fix.
 */
import { formatDuration, parseDuration } from './duration.js';
import { LifeguardFailure, usageError } from './errors.js';
import { isIpLiteral } from './ip-literal.js';
import {
  type BodyExpectation,
  type CheckSpec,
  type GrpcCheckSpec,
  GRPC_HEALTH_PATH,
  type HeaderExpectation,
  type HttpCheckSpec,
  type StatusRange,
  type TlsOptions,
} from './types.js';

/** Throws the usage error every parser here reports: the flag, the value as written, what was expected. */
export function invalidValue(name: string, value: string, expected: string): never {
  throw new LifeguardFailure(usageError(`invalid ${name} '${printable(value)}': expected ${expected}`));
}

/** Control characters escaped as in JSON, so that a hostile value cannot break the one-line message. */
function printable(value: string): string {
  return value.replace(/[\x00-\x1f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * One or more ASCII digits and nothing else (no sign, point, exponent or space, which Number() would take). Read
 * character by character: every start parses a port and counts, and a regular expression's first use costs it page
 * faults (bench:agent).
 */
export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) return false;
  }
  return true;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export function parsePort(name: string, text: string): number {
  const port = isDigits(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) invalidValue(name, text, 'a port number from 1 to 65535');
  return port;
}

/** Integers as counts and file descriptors: digits only, so `1.5`, `1e3` and `-1` are refused. */
export function parseInteger(name: string, text: string, min: number): number {
  const value = isDigits(text) ? Number(text) : NaN;
  if (!(value >= min && Number.isSafeInteger(value))) invalidValue(name, text, `an integer of at least ${min}`);
  return value;
}

// Node's timers fire at once (with a warning) beyond 2^31-1 ms, which would turn a long timeout into none.
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A Go duration in ms. `allowZero` for the settings where 0 means "none" (startup timeout, initial delay). */
export function parseDurationValue(name: string, text: string, allowZero: boolean): number {
  return durationValue(name, text, parseDuration(text), allowZero);
}

/** `ms`, what `text` was read as by a duration parser (undefined: not a duration), judged as parseDurationValue judges it. */
export function durationValue(name: string, text: string, ms: number | undefined, allowZero: boolean): number {
  if (ms === undefined || (ms === 0 && !allowZero)) invalidValue(name, text, `a duration such as 500ms, 2s or 1m30s${allowZero ? '' : ', above 0'}`);
  if (ms > MAX_DURATION_MS) invalidValue(name, text, `a duration of at most ${formatDuration(MAX_DURATION_MS)}`);
  return ms;
}

/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens (underscores, as DNS allows). */
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** An IPv4 or IPv6 literal (brackets allowed), or a DNS name, which each check resolves anew. */
export function parseHost(name: string, text: string): string {
  const bracketed = text.startsWith('[') && text.endsWith(']');
  const host = bracketed ? text.slice(1, -1) : text;
  if (isIpLiteral(host) && (!bracketed || host.includes(':'))) return host;
  if (!bracketed && isHostName(host)) return host;
  return invalidValue(name, text, 'an IPv4 or IPv6 address such as 10.0.0.5 or ::1, or a host name such as localhost');
}

/** An IP literal or a DNS name; a name that looks like a mangled address (999.1.1.1) is not one. */
export function isHostName(text: string): boolean {
  return isIpLiteral(text) || (HOST_NAME.test(text) && !/^[\d.]+$/.test(text));
}

/** An HTTP request target: starts with '/', and nothing that could break the request line. */
export const REQUEST_TARGET = /^\/[\x21-\x7e]*$/;

export function parseUri(name: string, text: string): string {
  if (!REQUEST_TARGET.test(text)) invalidValue(name, text, "a path starting with '/', without spaces");
  return text;
}

/** `200`, `200-299,304`: the statuses an HTTP check accepts. */
export function parseStatusList(name: string, text: string): StatusRange[] {
  // A loop, not map, and no regular expression: every native start parses the default '200', and a builtin's or
  // a regular expression's first run costs it page faults.
  const ranges: StatusRange[] = [];
  for (const part of text.split(',')) {
    const dash = part.indexOf('-');
    const min = statusCode(dash === -1 ? part : part.slice(0, dash));
    const max = dash === -1 ? min : statusCode(part.slice(dash + 1));
    if (!(min >= 100 && max <= 599 && min <= max)) {
      invalidValue(name, text, 'HTTP statuses from 100 to 599, or ranges, such as 200-299,304');
    }
    ranges.push({ min, max });
  }
  return ranges;
}

/** Three digits, spaces around them allowed; NaN for anything else. */
function statusCode(text: string): number {
  const code = text.trim();
  return code.length === 3 && isDigits(code) ? Number(code) : NaN;
}

// RFC 9110: a field name is a token; a field value is HTAB, SP, visible ASCII and obs-text, never CR, LF, NUL or
// another control character. The HTTP check applies the same rules to specs made in code.
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether a field value holds a character not allowed there. Read character by character: every gRPC check tests
 * its user agent, and the negated class of a regular expression cost its first use page faults (bench:agent).
 */
export function isInvalidHeaderValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x09 && (code < 0x20 || code === 0x7f || code > 0xff)) return true;
  }
  return false;
}

/** `Name: value` into a header pair; the value is trimmed as HTTP does, and may not hold CR, LF or controls. */
export function parseHeader(name: string, text: string): [string, string] {
  const colon = text.indexOf(':');
  const field = text.slice(0, colon).trim();
  const value = text.slice(colon + 1).trim();
  if (colon < 0 || !HEADER_NAME.test(field) || isInvalidHeaderValue(value)) {
    invalidValue(name, text, "a header such as 'Authorization: Bearer abc'");
  }
  return [field, value];
}

/** What a `--check` URL leaves unsaid: timeouts, HTTP, TLS and gRPC options come from the other flags. */
export interface CheckDefaults {
  readonly host?: string;
  readonly timeoutMs: number;
  readonly http: Pick<
    HttpCheckSpec,
    'expectStatus' | 'headers' | 'followRedirects' | 'userAgent' | 'method' | 'expectBody' | 'expectHeaders'
  >;
  /** For https:// and grpcs:// checks; none given is `{skipVerify: false}`. */
  readonly tls?: TlsOptions;
  readonly grpc?: Pick<GrpcCheckSpec, 'metadata' | 'userAgent' | 'connectTimeoutMs'>;
}

const VERIFY: TlsOptions = { skipVerify: false };

const CHECK_URL = /^(tcp|https?|grpcs?):\/\/(\[[^\]]*\]|[^/:[\]]*)(?::([^/]*))?(\/.*)?$/;
/** A gRPC service name as a path segment: package and service names, dot-separated (`grpc.health.v1.Health`). */
const GRPC_SERVICE = /^[\x21-\x7e]*$/;

/**
 * `tcp://:5432`, `tcp://[::1]:5432`, `http://:8080/ready`, `https://localhost:8443/ready`,
 * `grpc://10.0.0.5:50051/my.Service`, `grpcs://api.internal:443`. An empty host means "auto-detect" (or --host
 * when given); an HTTP URL without a port means 80 (https: 443) and without a path '/'; tcp and gRPC need a port,
 * and a gRPC path is the service to ask about (none: the server as a whole).
 */
export function parseCheckUrl(name: string, text: string, defaults: CheckDefaults): CheckSpec {
  const expected = 'a URL such as tcp://:5432, http://:8080/ready, https://localhost:8443/ready or grpc://:50051/my.Service';
  const match = CHECK_URL.exec(text);
  if (match === null) return invalidValue(name, text, expected);
  const [, scheme, hostText = '', portText, path] = match;
  const http = scheme === 'http' || scheme === 'https';
  if (!http && portText === undefined) return invalidValue(name, text, `a port: ${scheme}://${hostText}:PORT${path ?? ''} (${scheme} has no default port)`);
  if (scheme === 'tcp' && path !== undefined) return invalidValue(name, text, expected);
  try {
    const host = hostText === '' ? defaults.host : parseHost(name, hostText);
    const target = { ...(host === undefined ? {} : { host }), timeoutMs: defaults.timeoutMs };
    const port = portText === undefined ? (scheme === 'https' ? 443 : 80) : parsePort(name, portText);
    const tls = scheme === 'https' || scheme === 'grpcs' ? { tls: defaults.tls ?? VERIFY } : {};
    if (scheme === 'tcp') return { kind: 'tcp', ...target, port };
    if (http) return { kind: 'http', ...target, port, path: parseUri(name, path ?? '/'), ...defaults.http, ...tls };
    const service = (path ?? '/').slice(1);
    if (!GRPC_SERVICE.test(service)) return invalidValue(name, text, expected);
    return { kind: 'grpc', ...target, port, path: GRPC_HEALTH_PATH, service, metadata: [], ...defaults.grpc, ...tls };
  } catch {
    // A bad host, port or path: quote the whole URL, which is what the operator wrote.
    return invalidValue(name, text, expected);
  }
}

/** A regular expression in JavaScript's syntax, compiled once here so that a bad one is a usage error. */
function parseRegex(name: string, text: string): RegExp {
  try {
    return new RegExp(text);
  } catch {
    return invalidValue(name, text, 'a regular expression in JavaScript syntax');
  }
}

/** `Name: regex`, a header the response must carry with a value that matches. */
export function parseHeaderExpectation(name: string, text: string): HeaderExpectation {
  const colon = text.indexOf(':');
  const field = text.slice(0, colon).trim();
  const expected = "a header name and a regular expression such as 'Content-Type: ^application/json'";
  if (colon < 0 || !HEADER_NAME.test(field)) invalidValue(name, text, expected);
  try {
    return { name: field, regex: new RegExp(text.slice(colon + 1).trim()) };
  } catch {
    return invalidValue(name, text, expected);
  }
}

/** What a body must hold: a substring, or a regular expression (one or the other). */
export function parseBodyExpectation(substring: string | undefined, regex: string | undefined): BodyExpectation | undefined {
  if (substring !== undefined && regex !== undefined) {
    throw new LifeguardFailure(usageError('--expect-body and --expect-body-regex cannot be combined: give one'));
  }
  if (substring !== undefined) return { kind: 'substring', text: substring };
  return regex === undefined ? undefined : { kind: 'regex', regex: parseRegex('--expect-body-regex', regex) };
}
