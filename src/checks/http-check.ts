import { BodyReader, type BodyOutcome, framingOf } from './body-reader.js';
import { type Cancel, isCancelled, unwatchCancel, watchCancel } from './cancel.js';
import { monotonicMs } from './clock.js';
import { type DialHandlers, type DialPhase, type DialTarget, Dialer, type Resolver } from './dial.js';
import { formatAddress, lifeguardError, type LifeguardError, type Resolved } from './errors.js';
import { httpFacts } from './http-facts.js';
import { HEADER_NAME, isInvalidHeaderValue, REQUEST_TARGET } from './parse.js';
import { checkCancelled, CLOSED_BEFORE_RESPONSE, CLOSED_IN_HEADERS } from './reason.js';
import { type HeadOutcome, ResponseHeadReader } from './response-head.js';
import type { BodyExpectation, CheckResult, HttpCheckSpec, StatusRange } from './types.js';
import { VERSION } from './version.js';

const DEFAULT_USER_AGENT = `lifeguard-healthcheck/${VERSION}`;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Go's net/http limit, which the Cloud Foundry binary inherits. */
const MAX_REDIRECTS = 10;

/**
 * One HTTP(S) check: `GET path` (or HEAD) on a fresh connection, verdict on the status line, and on the headers
 * and the body when the check asserts them. Never rejects.
 *
 * It speaks HTTP/1.1 over a plain socket rather than through node:http: a check needs one request and the
 * response's status line, and node:http's agent, parser and message objects cost more CPU per check than the
 * connection itself, and start-up time to load. The request is written whole and at once; the response is
 * read only as far as the end of its head (ResponseHeadReader), and then the socket is destroyed, so an
 * endless or stalled body costs nothing. A check that asserts on the body reads it (BodyReader), at most 64 KiB.
 *
 * The deadline is one timer over lookup, connect, TLS handshake, request, headers, body and every redirect hop;
 * when it fires the socket is destroyed, whatever the server is doing (trickling a byte at a time included).
 */
export function httpCheck(spec: HttpCheckSpec, host: string, cancel?: Cancel, resolver?: Resolver): Promise<CheckResult> {
  return new Promise((resolve) => startHttpCheck(spec, host, cancel, resolve, resolver));
}

/** httpCheck without its promise: `done` is told the result, once (before this returns, when cancelled already or the request is invalid). */
export function startHttpCheck(spec: HttpCheckSpec, host: string, cancel: Cancel | undefined, done: (result: CheckResult) => void, resolver?: Resolver): void {
  if (isCancelled(cancel)) done({ passed: false, latencyMs: 0, error: checkCancelled() });
  else new HttpAttempt(spec, host, done, cancel, resolver).start();
}

export function statusExpected(status: number, expected: readonly StatusRange[]): boolean {
  for (const range of expected) if (status >= range.min && status <= range.max) return true;
  return false;
}

/**
 * Owns the current hop's dial and connection (one hop of a redirect chain), the deadline timer and its place in
 * the caller's cancel (cancel.ts); `finish` is the only way out and releases all three. `phase` is the state of the current hop: its
 * head is being read, then (only when the check asks for it) its body.
 */
class HttpAttempt implements DialHandlers {
  private state: 'requesting' | 'done' = 'requesting';
  private readonly started = monotonicMs();
  private readonly deadline: NodeJS.Timeout;
  private dialer: Dialer | undefined;
  private phase: { readonly kind: 'head'; readonly reader: ResponseHeadReader } | { readonly kind: 'body'; readonly status: number; readonly reader: BodyReader } | undefined;
  private redirects = 0;
  /** The header fields of every hop's request. */
  private fields = '';
  /** The request of the hop in flight. */
  private request: Buffer | undefined;
  /** Where every hop connects. */
  private target: DialTarget | undefined;

  constructor(
    private readonly spec: HttpCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly canceller: Cancel | undefined,
    private readonly resolver: Resolver | undefined,
  ) {
    this.deadline = setTimeout(() => this.finish({ kind: 'deadline' }), spec.timeoutMs);
    watchCancel(canceller, this);
  }

  /** Cancelled by its scope, or its signal's abort listener (cancel.ts). */
  cancel(): void {
    this.finish({ kind: 'abort' });
  }

  handleEvent(): void {
    this.cancel();
  }

  start(): void {
    const prepared = prepare(this.spec, this.host);
    if (prepared.invalid !== undefined) return this.finish({ kind: 'failed', reason: prepared.invalid });
    this.fields = prepared.fields;
    this.target = prepared.target;
    this.send(prepared.first);
  }

  /**
   * One hop: a fresh connection (TLS when asked), and the request written whole once it is up. The attempt is the
   * hop's DialHandlers itself (no closures per check): a dialer says nothing once closed (dial.ts), so a hop left
   * behind (a redirect) cannot decide the attempt.
   */
  private send(request: Buffer): void {
    this.dialer?.close(true);
    this.request = request;
    const dialer = new Dialer(this.target as DialTarget, this, this.onBytes, this.resolver);
    this.dialer = dialer;
    this.phase = { kind: 'head', reader: new ResponseHeadReader(keptHeaders(this.spec)) };
    dialer.start();
  }

  /** The hop's connection is up: its request is written, not ended (a half-close before the response makes some servers drop it). */
  connected(): void {
    this.dialer?.write(this.request as Buffer);
  }

  /** The peer closed the hop's connection. */
  ended(): void {
    this.closed();
  }

  failed(_phase: DialPhase, reason: string): void {
    this.finish({ kind: 'failed', reason });
  }

  private readonly onBytes = (chunk: Buffer): void => {
    const { phase } = this;
    if (phase?.kind === 'head') {
      const outcome = phase.reader.push(chunk);
      if (outcome !== undefined) this.onHead(outcome, chunk);
    } else if (phase?.kind === 'body') {
      const outcome = phase.reader.push(chunk);
      if (outcome !== undefined) this.onBody(phase.status, outcome);
    }
  };

  /** The peer closed: a body that runs to the close is complete; anything else was cut short. */
  private closed(): void {
    const { phase } = this;
    if (phase?.kind === 'body') return this.onBody(phase.status, phase.reader.end());
    const started = phase?.kind === 'head' && phase.reader.started;
    this.finish({ kind: 'failed', reason: started ? CLOSED_IN_HEADERS : CLOSED_BEFORE_RESPONSE });
  }

  private onHead(head: HeadOutcome, chunk: Buffer): void {
    if (head.kind === 'malformed') return this.finish({ kind: 'failed', reason: head.reason });
    const { status, location } = head;
    if (location !== undefined && this.spec.followRedirects && REDIRECT_STATUSES.has(status)) return this.follow(location);
    const { expectBody } = this.spec;
    if (!statusExpected(status, this.spec.expectStatus)) return this.finish({ kind: 'status', status });
    const unmet = unmetHeader(this.spec, head.headers);
    if (unmet !== undefined) return this.finish({ kind: 'unexpected', detail: unmet });
    // The verdict is taken now unless the body was asked for; then it is read, and nothing more.
    if (expectBody === undefined) return this.finish({ kind: 'status', status });
    const framing = status === 204 || status === 304 ? { kind: 'length', length: 0 } as const : framingOf(head.headers);
    if (typeof framing === 'string') return this.finish({ kind: 'failed', reason: framing });
    const reader = new BodyReader(framing);
    this.phase = { kind: 'body', status, reader };
    const outcome = framing.kind === 'length' && framing.length === 0 ? reader.end() : reader.push(chunk.subarray(head.bodyOffset));
    if (outcome !== undefined) this.onBody(status, outcome);
  }

  private onBody(status: number, outcome: BodyOutcome): void {
    if (outcome.kind === 'malformed') return this.finish({ kind: 'failed', reason: outcome.reason });
    const unmet = unmetBody(this.spec.expectBody as BodyExpectation, outcome.body, outcome.truncated);
    this.finish(unmet === undefined ? { kind: 'status', status } : { kind: 'unexpected', detail: unmet });
  }

  private follow(location: string): void {
    if (this.redirects === MAX_REDIRECTS) {
      return this.finish({ kind: 'failed', reason: `stopped after ${MAX_REDIRECTS} redirects` });
    }
    this.redirects += 1;
    const origin = `${this.spec.tls === undefined ? 'http' : 'https'}://${formatAddress(this.host, this.spec.port)}`;
    let next: URL;
    try {
      next = new URL(location, origin);
    } catch {
      return this.finish({ kind: 'failed', reason: `redirect to an invalid location ${JSON.stringify(location)}` });
    }
    // URL normalises both sides (IPv6 spelling, default port), so equal origins mean the same host and port.
    if (next.origin !== new URL(origin).origin) {
      return this.finish({
        kind: 'failed',
        reason: `redirect to ${next.href} leaves ${formatAddress(this.host, this.spec.port)}; not followed`,
      });
    }
    // URL percent-encodes what a request target may not hold, so the path needs no further check.
    this.send(requestBytes(this.spec, next.pathname + next.search, this.fields));
  }

  private finish(event: HttpEvent): void {
    if (this.state === 'done') return;
    this.state = 'done';
    const passed = event.kind === 'status' && statusExpected(event.status, this.spec.expectStatus);
    // What a name resolved to is told only in a failure's message.
    const resolved = passed ? {} : (this.dialer?.resolvedFact ?? {});
    this.dialer?.close(true);
    this.dialer = undefined;
    this.phase = undefined;
    clearTimeout(this.deadline);
    unwatchCancel(this.canceller, this);
    const latencyMs = monotonicMs() - this.started;
    if (passed) return this.resolve({ passed: true, latencyMs, status: event.status });
    this.resolve({ passed: false, latencyMs, error: this.failure(event, latencyMs, resolved) });
  }

  private failure(event: HttpEvent, latencyMs: number, resolved: { resolved?: Resolved }): LifeguardError {
    const facts = { ...httpFacts(this.spec, this.host), ...resolved };
    switch (event.kind) {
      case 'status':
        return lifeguardError('http-status', { ...facts, status: event.status, latencyMs });
      case 'unexpected':
        return lifeguardError('http-unexpected', { ...facts, detail: event.detail, latencyMs });
      case 'failed':
        return lifeguardError('http-failed', { ...facts, reason: event.reason });
      case 'deadline':
        return lifeguardError('http-timeout', { ...facts, timeoutMs: this.spec.timeoutMs });
      case 'abort':
        return checkCancelled();
    }
  }
}

/** The headers the reader keeps: those the assertions name, and the body's framing when the body is read. */
function keptHeaders(spec: HttpCheckSpec): ReadonlySet<string> | undefined {
  if (spec.expectHeaders === undefined && spec.expectBody === undefined) return undefined;
  const names = new Set((spec.expectHeaders ?? []).map((expected) => expected.name.toLowerCase()));
  if (spec.expectBody !== undefined) names.add('content-length').add('transfer-encoding');
  return names;
}

/** Why the headers fail the check's expectations (the first one unmet), or undefined. */
function unmetHeader(spec: HttpCheckSpec, headers: ReadonlyMap<string, readonly string[]>): string | undefined {
  for (const { name, regex } of spec.expectHeaders ?? []) {
    const values = headers.get(name.toLowerCase());
    if (values === undefined) return `no header ${name} in the response`;
    if (!values.some((value) => regex.test(value))) return `header ${name} ${quote(values.join(', '))} does not match ${regex}`;
  }
  return undefined;
}

function unmetBody(expected: BodyExpectation, body: Buffer, truncated: boolean): string | undefined {
  const text = body.toString('utf8');
  const read = `(${truncated ? 'first ' : ''}${body.length} bytes read)`;
  if (expected.kind === 'substring') return text.includes(expected.text) ? undefined : `body does not contain ${quote(expected.text)} ${read}`;
  return expected.regex.test(text) ? undefined : `body does not match ${expected.regex} ${read}`;
}

/** A value quoted for a one-line message, cut short when long. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

type HttpEvent =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'unexpected'; readonly detail: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'abort' };

/**
 * A spec's request, made once per spec and host (a liveness agent sends the same bytes every interval):
 * the header fields, the whole request for the spec's own path and where it goes; or why no request can be made.
 */
type Prepared =
  | { readonly host: string; readonly invalid: undefined; readonly fields: string; readonly first: Buffer; readonly target: DialTarget }
  | { readonly host: string; readonly invalid: string };

const preparedRequests = new WeakMap<HttpCheckSpec, Prepared>();

function prepare(spec: HttpCheckSpec, host: string): Prepared {
  const cached = preparedRequests.get(spec);
  if (cached?.host === host) return cached;
  const fields = headerFields(spec, formatAddress(host, spec.port));
  const prepared: Prepared =
    fields.invalid !== undefined
      ? { host, invalid: fields.invalid }
      : !REQUEST_TARGET.test(spec.path)
        ? { host, invalid: `invalid request: path ${JSON.stringify(spec.path)} is not a request target` }
        : spec.method === 'HEAD' && spec.expectBody !== undefined
          ? { host, invalid: 'invalid request: a HEAD response has no body to expect anything of' }
          : // The fields are kept for the hops of a redirect only: a supervisor holds one of these per instance.
            {
              host,
              invalid: undefined,
              fields: spec.followRedirects ? fields.text : '',
              first: requestBytes(spec, spec.path, fields.text),
              target: { host, port: spec.port, ...(spec.tls === undefined ? {} : { tls: spec.tls, alpn: ['http/1.1'] }) },
            };
  preparedRequests.set(spec, prepared);
  return prepared;
}

function requestBytes(spec: HttpCheckSpec, path: string, fields: string): Buffer {
  // latin1: a value's obs-text (0x80-0xff) goes out as the byte it names, as node:http wrote it.
  return Buffer.from(`${spec.method ?? 'GET'} ${path} HTTP/1.1\r\n${fields}`, 'latin1');
}

/**
 * The header fields and the blank line: Host and User-Agent first, then the operator's headers in their order
 * (a name may repeat), then `Connection: close` (one request per connection, as the server should know).
 * An operator's Host, User-Agent or Connection replaces ours, as `curl -H` does, so that virtual hosts can be
 * checked. A name or value that could break the request's framing (CR, LF, any control character) is refused,
 * never sent: the argument parsers refuse them already, and this holds for specs made in code too.
 */
function headerFields(spec: HttpCheckSpec, address: string): { readonly text: string; readonly invalid?: string } {
  const userAgent = spec.userAgent ?? DEFAULT_USER_AGENT;
  // spec.userAgent comes from code, not through the argument parsers, so it is checked here too.
  if (isInvalidHeaderValue(userAgent)) return { text: '', invalid: invalidValue('User-Agent') };
  let ownHost = true;
  let ownAgent = true;
  let ownConnection = true;
  let extra = '';
  for (const [name, value] of spec.headers) {
    if (!HEADER_NAME.test(name)) return { text: '', invalid: `invalid request: header name ${JSON.stringify(name)} is not a token` };
    if (isInvalidHeaderValue(value)) return { text: '', invalid: invalidValue(name) };
    const lower = name.toLowerCase();
    if (lower === 'host') ownHost = false;
    else if (lower === 'user-agent') ownAgent = false;
    else if (lower === 'connection') ownConnection = false;
    extra += `${name}: ${value}\r\n`;
  }
  const host = ownHost ? `Host: ${address}\r\n` : '';
  const agent = ownAgent ? `User-Agent: ${userAgent}\r\n` : '';
  return { text: `${host}${agent}${extra}${ownConnection ? 'Connection: close\r\n' : ''}\r\n` };
}

function invalidValue(name: string): string {
  return `invalid request: the value of header ${name} holds a character not allowed there (CR, LF or another control)`;
}
