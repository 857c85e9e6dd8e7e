import { monotonicMs } from './clock.js';
import type { Connection } from './connection.js';
// node:net; the Bun build (scripts/lib/bun-compile.mjs) puts connection-bun.ts (Bun.connect) in its place.
import { openConnection } from './connection-node.js';
import { formatAddress, lifeguardError, type LifeguardError } from './errors.js';
import { HEADER_NAME, INVALID_HEADER_VALUE, REQUEST_TARGET } from './parse.js';
import {
  CHECK_CANCELLED,
  CLOSED_BEFORE_RESPONSE,
  CLOSED_IN_HEADERS,
  socketErrorReason,
} from './reason.js';
import { type HeadOutcome, ResponseHeadReader } from './response-head.js';
import type { CheckResult, HttpCheckSpec, StatusRange } from './types.js';
import { VERSION } from './version.js';

const DEFAULT_USER_AGENT = `lifeguard-healthcheck/${VERSION}`;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Go's net/http limit, which the Cloud Foundry binary inherits. */
const MAX_REDIRECTS = 10;

/**
 * One HTTP check: `GET path` on a fresh connection, verdict on the status line. Never rejects.
 *
 * It speaks HTTP/1.1 over a plain socket rather than through node:http: a check needs one request and the
 * response's status line, and node:http's agent, parser and message objects cost more CPU per check than the
 * connection itself, and start-up time to load. The request is written whole and at once; the response is
 * read only as far as the end of its head (ResponseHeadReader), and then the socket is destroyed, so an
 * endless or stalled body costs nothing.
 *
 * The deadline is one timer over connect, request, headers and every redirect hop; when it fires the socket
 * is destroyed, whatever the server is doing (trickling headers a byte at a time included).
 */
export function httpCheck(spec: HttpCheckSpec, host: string, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve({ passed: false, latencyMs: 0, error: CHECK_CANCELLED });
    else new HttpAttempt(spec, host, resolve, signal).start();
  });
}

export function statusExpected(status: number, expected: readonly StatusRange[]): boolean {
  for (const range of expected) if (status >= range.min && status <= range.max) return true;
  return false;
}

/**
 * Owns the current connection (one hop of a redirect chain), the deadline timer and the abort listener;
 * `finish` is the only way out and releases all three.
 */
class HttpAttempt {
  private state: 'requesting' | 'done' = 'requesting';
  private readonly started = monotonicMs();
  private readonly deadline: NodeJS.Timeout;
  private connection: Connection | undefined;
  private redirects = 0;
  /** The header fields of every hop's request. */
  private fields = '';

  constructor(
    private readonly spec: HttpCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.deadline = setTimeout(() => this.finish({ kind: 'deadline' }), spec.timeoutMs);
    signal?.addEventListener('abort', this, { once: true });
  }

  /** The abort listener (an EventListener object, so that no closure is made per attempt for it). */
  handleEvent(): void {
    this.finish({ kind: 'abort' });
  }

  start(): void {
    const prepared = prepare(this.spec, this.host);
    if (prepared.invalid !== undefined) return this.finish({ kind: 'failed', reason: prepared.invalid });
    this.fields = prepared.fields;
    this.send(prepared.first);
  }

  /** One hop: a fresh connection, the request queued on it at once (net sends it as soon as it connects). */
  private send(request: Buffer): void {
    const reader = new ResponseHeadReader();
    // Events of a hop that has been left behind (a redirect) must not decide this attempt.
    const connection: Connection = openConnection(this.host, this.spec.port, {
      connected: () => {},
      data: (bytes) => {
        if (this.connection !== connection) return;
        const outcome = reader.push(bytes);
        if (outcome !== undefined) this.onHead(outcome);
      },
      ended: () => {
        if (this.connection === connection) this.finish({ kind: 'failed', reason: reader.started ? CLOSED_IN_HEADERS : CLOSED_BEFORE_RESPONSE });
      },
      failed: (err) => {
        if (this.connection === connection) this.finish({ kind: 'failed', reason: socketErrorReason(err) });
      },
    });
    this.connection = connection;
    // Written, not ended: a half-close before the response makes some servers drop the request.
    connection.write(request);
  }

  private onHead(head: HeadOutcome): void {
    // The verdict is taken now; the body is never read. A reset rather than a FIN, as the kubelet closes its
    // probes (SO_LINGER 0): nothing more is owed either way, and a checker that closes first with a FIN keeps
    // every connection in TIME_WAIT for a minute — thousands of them on a supervisor checking thousands of apps.
    this.connection?.reset();
    this.connection = undefined;
    if (head.kind === 'malformed') return this.finish({ kind: 'failed', reason: head.reason });
    const { status, location } = head;
    if (location === undefined || !this.spec.followRedirects || !REDIRECT_STATUSES.has(status)) {
      return this.finish({ kind: 'status', status });
    }
    this.follow(location);
  }

  private follow(location: string): void {
    if (this.redirects === MAX_REDIRECTS) {
      return this.finish({ kind: 'failed', reason: `stopped after ${MAX_REDIRECTS} redirects` });
    }
    this.redirects += 1;
    const origin = `http://${formatAddress(this.host, this.spec.port)}`;
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
    this.send(requestBytes(next.pathname + next.search, this.fields));
  }

  private finish(event: HttpEvent): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.connection?.destroy();
    this.connection = undefined;
    clearTimeout(this.deadline);
    this.signal?.removeEventListener('abort', this);
    const latencyMs = monotonicMs() - this.started;
    if (event.kind === 'status' && statusExpected(event.status, this.spec.expectStatus)) {
      return this.resolve({ passed: true, latencyMs, status: event.status });
    }
    this.resolve({ passed: false, latencyMs, error: this.failure(event, latencyMs) });
  }

  private failure(event: HttpEvent, latencyMs: number): LifeguardError {
    const facts = { uri: this.spec.path, port: this.spec.port };
    switch (event.kind) {
      case 'status':
        return lifeguardError('http-status', { ...facts, status: event.status, latencyMs });
      case 'failed':
        return lifeguardError('http-failed', { ...facts, reason: event.reason });
      case 'deadline':
        return lifeguardError('http-timeout', { ...facts, timeoutMs: this.spec.timeoutMs });
      case 'abort':
        return CHECK_CANCELLED;
    }
  }
}

type HttpEvent =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'abort' };

/**
 * A spec's request, made once per spec and host (a liveness agent sends the same bytes every interval):
 * the header fields, and the whole request for the spec's own path; or why no request can be made.
 */
type Prepared =
  | { readonly host: string; readonly invalid: undefined; readonly fields: string; readonly first: Buffer }
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
        : { host, invalid: undefined, fields: fields.text, first: requestBytes(spec.path, fields.text) };
  preparedRequests.set(spec, prepared);
  return prepared;
}

function requestBytes(path: string, fields: string): Buffer {
  // latin1: a value's obs-text (0x80-0xff) goes out as the byte it names, as node:http wrote it.
  return Buffer.from(`GET ${path} HTTP/1.1\r\n${fields}`, 'latin1');
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
  if (INVALID_HEADER_VALUE.test(userAgent)) return { text: '', invalid: invalidValue('User-Agent') };
  let ownHost = true;
  let ownAgent = true;
  let ownConnection = true;
  let extra = '';
  for (const [name, value] of spec.headers) {
    if (!HEADER_NAME.test(name)) return { text: '', invalid: `invalid request: header name ${JSON.stringify(name)} is not a token` };
    if (INVALID_HEADER_VALUE.test(value)) return { text: '', invalid: invalidValue(name) };
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
