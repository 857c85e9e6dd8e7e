/**
 * One gRPC health check (grpc.health.v1.Health/Check): a fresh connection, one call on our own HTTP/2 client
 * (http2/session.ts), a verdict on the reply's ServingStatus. Never rejects. Loaded only when a gRPC check runs
 * (run-check.ts imports it on demand).
 *
 * Not @grpc/grpc-js: a health check is one unary call whose request and reply are a few bytes of protobuf, encoded
 * by hand below; the library adds about 420 KB to the agent's bundle and its loading doubles the start-up cost of
 * a `once` agent (README, "gRPC checks"), for channels, retries and load balancing that a check must not have.
 * Not node:http2 either: loading it alone cost the Bun-built agent more than the rest of a gRPC check.
 */
import type * as Zlib from 'node:zlib';
import { type Cancel, isCancelled, unwatchCancel, watchCancel } from './cancel.js';
import { monotonicMs } from './clock.js';
import { deferred } from './deferred.js';
import { Dialer, type DialPhase, type Resolver } from './dial.js';
import { type ErrorCode, formatAddress, type GrpcFacts, lifeguardError, type LifeguardError } from './errors.js';
import { isReservedMetadata, wireValue } from './grpc-metadata.js';
import { copyOf, ERROR, errorName, joined, putUint32, uint32, utf8 } from './http2/frames.js';
import type { HeaderField } from './http2/hpack.js';
import { type Headers, Http2Session, type SessionEvents } from './http2/session.js';
import { HEADER_NAME, isDigits, isInvalidHeaderValue } from './parse.js';
import { checkCancelled, oneLine } from './reason.js';
import type { CheckResult, GrpcCheckSpec } from './types.js';
import { VERSION } from './version.js';

const DEFAULT_USER_AGENT = `lifeguard-healthcheck/${VERSION}`;
/** A HealthCheckResponse is a few bytes; a reply larger than this is not one, and is not held. */
const MAX_REPLY_BYTES = 64 * 1024;
/**
 * HTTP/1's own fields, which HTTP/2 forbids in a request (RFC 9113 section 8.2.2): a server would refuse the call.
 * A switch, as grpc-metadata.ts's isReservedMetadata and for the same reason.
 */
function isConnectionHeader(key: string): boolean {
  switch (key) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    default:
      return false;
  }
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
/** The gRPC status codes, for messages: `grpc-status 12 (UNIMPLEMENTED)`. */
const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export function grpcCheck(spec: GrpcCheckSpec, host: string, cancel?: Cancel, resolver?: Resolver): Promise<CheckResult> {
  const { promise, resolve } = deferred<CheckResult>();
  if (isCancelled(cancel)) resolve({ passed: false, latencyMs: 0, error: checkCancelled() });
  else new GrpcAttempt(spec, host, resolve, cancel, resolver).start();
  return promise;
}

const FAILURE_CODE = {
  lookup: 'grpc-connect',
  connect: 'grpc-connect',
  credentials: 'grpc-credentials',
  tls: 'grpc-tls',
  rpc: 'grpc-rpc',
} as const satisfies Record<DialPhase | 'rpc', ErrorCode>;

type GrpcEvent =
  | { readonly kind: 'serving' }
  | { readonly kind: 'status'; readonly status: string }
  | { readonly kind: 'failed'; readonly phase: DialPhase | 'rpc'; readonly reason: string }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'abort' };

/**
 * Owns the dial (and through it the connection), the HTTP/2 session, the one deadline timer and the abort
 * listener; `finish` is the only way out and releases them all. `phase` says which deadline runs: `connecting`
 * (lookup, connect, TLS, the server's HTTP/2 SETTINGS) under the connect deadline, then `calling` under the call's.
 */
class GrpcAttempt implements SessionEvents {
  private phase: 'connecting' | 'calling' | 'done' = 'connecting';
  private readonly started = monotonicMs();
  private timer: NodeJS.Timeout;
  private dialer: Dialer;
  private session: Http2Session | undefined;
  private responseHeaders: Headers | undefined;
  private reply: Uint8Array[] = [];
  private replyBytes = 0;
  /** The error code of a GOAWAY that still lets the call finish (`SessionEvents.goaway`'s `answered`). */
  private goawayCode: number | undefined;
  /** The call's deadline, once it is placed, and when it passes (monotonic ms). */
  private callMs = 0;
  private callEnds = 0;
  /** The call was sent again after the server left it unprocessed (`unprocessed`): that happens once. */
  private retried = false;
  /** node:zlib, loaded before the dial when the check compresses. */
  private zlib: typeof Zlib | undefined;

  constructor(
    private readonly spec: GrpcCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly canceller: Cancel | undefined,
    private readonly resolver: Resolver | undefined,
  ) {
    this.dialer = this.dial();
    this.timer = setTimeout(() => this.finish({ kind: 'deadline' }), this.connectDeadlineMs());
    watchCancel(canceller, this);
  }

  /** A dial of the check's target, its events this attempt's. */
  private dial(): Dialer {
    const { spec } = this;
    return new Dialer(
      {
        host: this.host,
        port: spec.port,
        ...(spec.unixSocket === undefined ? {} : { unixSocket: spec.unixSocket }),
        ...(spec.tls === undefined ? {} : { tls: spec.tls, alpn: ['h2'] }),
      },
      {
        connected: () => this.onConnected(),
        // Once connected, a failure of the connection is the call's if the call had begun; TLS stays TLS (a
        // TLS 1.3 server refuses a client certificate with an alert after the handshake).
        failed: (phase, reason) => this.finish({ kind: 'failed', phase: phase === 'connect' && this.phase === 'calling' ? 'rpc' : phase, reason }),
        ended: () => this.finish({ kind: 'failed', phase: this.failurePhase(), reason: this.closedReason() }),
      },
      (chunk: Uint8Array) => this.session?.push(chunk),
      this.resolver,
      // The HTTP/2 client reads plain Uint8Arrays (http2/frames.ts): a gRPC check in the executable makes no Buffer.
      'uint8array',
    );
  }

  start(): void {
    if (this.spec.compression === undefined) return this.dialer.start();
    import('node:zlib').then(
      (zlib) => {
        this.zlib = zlib;
        if (this.phase === 'connecting') this.dialer.start();
      },
      (err: unknown) => this.finish({ kind: 'failed', phase: 'connect', reason: String(err) }),
    );
  }

  /** Cancelled by its scope, or its signal's abort listener (cancel.ts). */
  cancel(): void {
    this.finish({ kind: 'abort' });
  }

  handleEvent(): void {
    this.cancel();
  }

  /** The connection ended before the reply: after a GOAWAY that promised it, say so. */
  private closedReason(): string {
    const goaway = this.goawayCode === undefined ? '' : `the server sent GOAWAY (${errorName(this.goawayCode)}), then `;
    return `${goaway}connection closed before a reply`;
  }

  private connectDeadlineMs(): number {
    return Math.min(this.spec.connectTimeoutMs ?? this.spec.timeoutMs, this.spec.timeoutMs);
  }

  /** The call's deadline: its own, when the spec sets one, but never past the whole check's. */
  private callDeadlineMs(): number {
    const left = Math.max(1, this.spec.timeoutMs - (monotonicMs() - this.started));
    return Math.min(this.spec.rpcTimeoutMs ?? left, left);
  }

  /** A failure of the connection or of HTTP/2: the connection's until the server's SETTINGS came, then the call's. */
  private failurePhase(): 'connect' | 'rpc' {
    return this.phase === 'connecting' ? 'connect' : 'rpc';
  }

  private onConnected(): void {
    this.session = new Http2Session((bytes) => this.dialer.write(bytes), this);
    this.session.start();
  }

  /*
   * The session's events (SessionEvents): the attempt is their listener, as it is its canceller's, rather than an
   * object of six closures made for each connection.
   */

  /**
   * Up once the server's SETTINGS arrive, as grpc-go counts a connection ready: a peer that accepts and never speaks
   * HTTP/2 is a connection failure, not a failed call.
   */
  ready(): void {
    if (this.session !== undefined) this.call(this.session);
  }

  reset(code: number): void {
    const reason = `the server reset the stream (${errorName(code)})`;
    if (code === ERROR.NO_ERROR) this.onStreamEnd();
    else if (code === ERROR.REFUSED_STREAM) this.unprocessed(reason);
    else this.failed(reason);
  }

  /** A server shutting down gracefully still answers the streams it has taken, as grpc-go waits for them. */
  goaway(code: number, answered: boolean): void {
    if (answered) this.goawayCode = code;
    else this.unprocessed(`the server sent GOAWAY (${errorName(code)})`);
  }

  failed(reason: string): void {
    this.finish({ kind: 'failed', phase: this.failurePhase(), reason });
  }

  /**
   * The server did not process the call (a GOAWAY whose last stream is below it, REFUSED_STREAM): grpc-go sends it
   * again, transparently, once, and so does the check, on a new connection (the session is one stream's) within
   * what is left of the call's deadline. A second refusal fails it.
   */
  private unprocessed(reason: string): void {
    if (this.retried) return this.finish({ kind: 'failed', phase: 'rpc', reason });
    this.retried = true;
    this.session?.close();
    this.session = undefined;
    this.dialer.close();
    this.responseHeaders = undefined;
    this.reply = [];
    this.replyBytes = 0;
    this.goawayCode = undefined;
    this.dialer = this.dial();
    this.dialer.start();
  }

  /** The session is up: from here the call runs on what is left of the whole check's deadline (a retry's too). */
  private call(session: Http2Session): void {
    if (this.phase === 'done') return;
    if (this.phase === 'connecting') {
      this.phase = 'calling';
      clearTimeout(this.timer);
      this.callMs = this.callDeadlineMs();
      this.callEnds = monotonicMs() + this.callMs;
      this.timer = setTimeout(() => this.finish({ kind: 'deadline' }), this.callMs);
    }
    const leftMs = Math.max(1, this.callEnds - monotonicMs());
    const fields = this.requestFields(leftMs);
    if (typeof fields === 'string') return this.finish({ kind: 'failed', phase: 'rpc', reason: `invalid request: ${fields}` });
    session.request(fields, encodeRequest(this.spec.service, this.zlib));
  }

  /** The call's header fields, or why the check's metadata cannot be sent. */
  private requestFields(leftMs: number): HeaderField[] | string {
    const { spec } = this;
    // A Unix socket's peer is `localhost`, as grpc-go calls it; a server name stands for the peer, as there.
    const authority = spec.tls?.serverName ?? (spec.unixSocket === undefined ? formatAddress(this.host, spec.port) : 'localhost');
    let userAgent = spec.userAgent ?? DEFAULT_USER_AGENT;
    if (isInvalidHeaderValue(userAgent)) return 'the user agent holds a character not allowed there (CR, LF or another control)';
    const fields: HeaderField[] = [
      [':method', 'POST'],
      [':scheme', spec.tls === undefined ? 'http' : 'https'],
      [':path', spec.path],
      [':authority', authority],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      // The server is told the deadline, so that it can give up too (gRPC's `m` unit is milliseconds).
      ['grpc-timeout', `${Math.ceil(leftMs)}m`],
    ];
    if (this.zlib !== undefined) fields.push(['grpc-encoding', 'gzip'], ['grpc-accept-encoding', 'gzip']);
    // An index loop, no Map nor destructuring: the iterator protocol's first run costs every start page faults.
    for (let i = 0; i < spec.metadata.length; i += 1) {
      const entry = spec.metadata[i] as readonly [string, string];
      const name = entry[0];
      const key = name.toLowerCase();
      if (isReservedMetadata(key)) return `metadata ${name} is gRPC's own`;
      if (isConnectionHeader(key)) return `metadata ${name} is HTTP/1's own, which HTTP/2 forbids`;
      if (!HEADER_NAME.test(key)) return `metadata name ${JSON.stringify(name)} is not a token`;
      const value = wireValue(key, entry[1]);
      if (isInvalidHeaderValue(value)) return `the value of metadata ${name} holds a character not allowed there (CR, LF or another control)`;
      // The check's metadata may give its own user agent, which replaces ours.
      if (key === 'user-agent') userAgent = value;
      else fields.push([key, value]);
    }
    fields.push(['user-agent', userAgent]);
    return fields;
  }

  headers(headers: Headers, end: boolean): void {
    if (this.responseHeaders === undefined) {
      // A 1xx head is informational: the response's own comes after it.
      // Read as digits: a regular expression's first use costs every start page faults.
      const status = headers[':status'];
      if (!end && status !== undefined && status.length === 3 && status[0] === '1' && isDigits(status)) return;
      this.responseHeaders = headers;
      if (end) this.onStreamEnd();
    } else this.finish(this.verdict(headers));
  }

  data(bytes: Uint8Array, end: boolean): void {
    this.replyBytes += bytes.length;
    if (this.replyBytes > MAX_REPLY_BYTES) return this.finish({ kind: 'failed', phase: 'rpc', reason: `reply larger than ${MAX_REPLY_BYTES} bytes` });
    this.reply.push(copyOf(bytes));
    if (end) this.onStreamEnd();
  }

  /** The stream ended without trailers: a trailers-only reply (grpc-status in the headers), or no status at all. */
  private onStreamEnd(): void {
    const headers = this.responseHeaders;
    if (headers?.['grpc-status'] !== undefined) return this.finish(this.verdict(headers));
    this.finish({ kind: 'failed', phase: 'rpc', reason: headers === undefined ? 'stream closed before a reply' : 'reply without a grpc-status' });
  }

  /** The call's outcome from the HTTP status, the grpc-status and, when that is OK, the ServingStatus. */
  private verdict(trailers: Headers): GrpcEvent {
    const httpStatus = this.responseHeaders?.[':status'];
    if (httpStatus !== undefined && Number(httpStatus) !== 200) {
      return { kind: 'failed', phase: 'rpc', reason: `HTTP status ${httpStatus}: not a gRPC server?` };
    }
    const code = Number(trailers['grpc-status']);
    if (!Number.isInteger(code)) return { kind: 'failed', phase: 'rpc', reason: 'reply without a grpc-status' };
    if (code !== 0) {
      const name = GRPC_STATUS[code] ?? 'unknown code';
      const message = trailers['grpc-message'];
      const detail = message !== undefined && message !== '' ? `: ${oneLine(decodeURIComponentSafe(message))}` : '';
      return { kind: 'failed', phase: 'rpc', reason: `grpc-status ${code} (${name})${detail}` };
    }
    const status = decodeReply(joined(this.reply), this.zlib);
    if (typeof status === 'string') return { kind: 'failed', phase: 'rpc', reason: status };
    return status === 1 ? { kind: 'serving' } : { kind: 'status', status: SERVING_STATUS[status] ?? `${status} (unknown)` };
  }

  private finish(event: GrpcEvent): void {
    if (this.phase === 'done') return;
    const phase = this.phase;
    this.phase = 'done';
    const resolved = this.dialer.resolvedFact;
    clearTimeout(this.timer);
    unwatchCancel(this.canceller, this);
    this.session?.close();
    // With a reset, as the TCP and HTTP checks end theirs (dial.ts): a FIN left every check's connection in
    // TIME_WAIT for a minute on the checker's side, 60,000 of them for a supervisor checking 1,000 apps a second.
    this.dialer.close(true);
    const latencyMs = monotonicMs() - this.started;
    if (event.kind === 'serving') return this.resolve({ passed: true, latencyMs });
    const socket = this.spec.unixSocket === undefined ? {} : { unixSocket: this.spec.unixSocket };
    const facts: GrpcFacts = { host: this.host, port: this.spec.port, service: this.spec.service, ...resolved, ...socket };
    this.resolve({ passed: false, latencyMs, error: this.failure(event, phase, facts, latencyMs) });
  }

  private failure(event: Exclude<GrpcEvent, { kind: 'serving' }>, phase: 'connecting' | 'calling', facts: GrpcFacts, latencyMs: number): LifeguardError {
    switch (event.kind) {
      case 'status':
        return lifeguardError('grpc-status', { ...facts, status: event.status, latencyMs });
      case 'failed':
        return lifeguardError(FAILURE_CODE[event.phase], { ...facts, reason: event.reason });
      case 'deadline':
        return phase === 'connecting'
          ? lifeguardError('grpc-connect-timeout', { ...facts, timeoutMs: this.connectDeadlineMs() })
          : lifeguardError('grpc-rpc-timeout', { ...facts, timeoutMs: this.callMs });
      case 'abort':
        return checkCancelled();
    }
  }
}

/**
 * A length-prefixed HealthCheckRequest: field 1 (service) as a length-delimited string, absent when the service is
 * "" (its default); gzip-compressed (and flagged so) when zlib is given.
 */
export function encodeRequest(service: string, zlib?: typeof Zlib): Uint8Array {
  // The default service, "", is no field.
  const name = service === '' ? new Uint8Array(0) : utf8(service);
  // The field's key (1, length-delimited), its length as a varint (at most 5 octets), its octets.
  const field = new Uint8Array(name.length === 0 ? 0 : 6 + name.length);
  let at = 0;
  if (name.length > 0) {
    field[at++] = 0x0a;
    let rest = name.length;
    for (; rest > 0x7f; rest >>>= 7) field[at++] = (rest & 0x7f) | 0x80;
    field[at++] = rest;
    field.set(name, at);
    at += name.length;
  }
  const message = zlib === undefined ? field.subarray(0, at) : zlib.gzipSync(field.subarray(0, at));
  const frame = new Uint8Array(5 + message.length);
  frame[0] = zlib === undefined ? 0 : 1;
  putUint32(frame, 1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * The ServingStatus of a HealthCheckResponse message (field 1, a varint; absent means 0, UNKNOWN), or why the
 * reply is not one. Fields other than 1 are skipped as protobuf requires.
 */
export function decodeReply(data: Uint8Array, zlib?: typeof Zlib): number | string {
  if (data.length < 5) return 'reply without a message';
  if (data[0] !== 0 && (data[0] !== 1 || zlib === undefined)) return 'compressed reply (never asked for)';
  const length = uint32(data, 1);
  if (data.length < 5 + length) return 'reply message cut short';
  let message = data.subarray(5, 5 + length);
  if (data[0] === 1 && zlib !== undefined) {
    try {
      message = zlib.gunzipSync(message, { maxOutputLength: MAX_REPLY_BYTES });
    } catch {
      return 'compressed reply that does not gunzip';
    }
  }
  let status = 0;
  let at = 0;
  while (at < message.length) {
    const key = readVarint(message, at);
    if (key === undefined) return 'malformed reply message';
    at = key.next;
    const wire = key.value & 7;
    if (wire === 0) {
      const value = readVarint(message, at);
      if (value === undefined) return 'malformed reply message';
      at = value.next;
      if (key.value >>> 3 === 1) status = value.value;
    } else if (wire === 2) {
      const size = readVarint(message, at);
      if (size === undefined) return 'malformed reply message';
      at = size.next + size.value;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else return 'malformed reply message';
  }
  return at === message.length ? status : 'malformed reply message';
}

function readVarint(bytes: Uint8Array, from: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, at = from; i < 5 && at < bytes.length; i += 1, at += 1) {
    const byte = bytes[at] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + 1 };
  }
  return undefined;
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
