/**
 * One gRPC health check (grpc.health.v1.Health/Check) on Node's own HTTP/2 client: a fresh connection, one call,
 * a verdict on the reply's ServingStatus. Never rejects. Loaded only when a gRPC check runs (run-check.ts imports
 * it on demand), so node:http2 costs nothing to the other checks' start-up.
 *
 * Not @grpc/grpc-js: a health check is one unary call whose request and reply are a few bytes of protobuf, encoded
 * by hand below; the library adds about 420 KB to the agent's bundle and its loading doubles the start-up cost of
 * a `once` agent (README, "gRPC checks"), for channels, retries and load balancing that a check must not have.
 */
import type * as Zlib from 'node:zlib';
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { monotonicMs } from './clock.js';
import { resetBehindEnd } from './connection-handle.js';
import { Dialer, type DialPhase, type Resolver } from './dial.js';
import { type ErrorCode, formatAddress, type GrpcFacts, lifeguardError, type LifeguardError } from './errors.js';
import { RESERVED_METADATA, wireValue } from './grpc-metadata.js';
import { CHECK_CANCELLED, isTlsError, oneLine, socketErrorReason } from './reason.js';
import type { CheckResult, GrpcCheckSpec } from './types.js';
import { VERSION } from './version.js';

const DEFAULT_USER_AGENT = `lifeguard-healthcheck/${VERSION}`;
/** A HealthCheckResponse is a few bytes; a reply larger than this is not one, and is not held. */
const MAX_REPLY_BYTES = 64 * 1024;

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
/** The gRPC status codes, for messages: `grpc-status 12 (UNIMPLEMENTED)`. */
const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export function grpcCheck(spec: GrpcCheckSpec, host: string, signal?: AbortSignal, resolver?: Resolver): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve({ passed: false, latencyMs: 0, error: CHECK_CANCELLED });
    else new GrpcAttempt(spec, host, resolve, signal, resolver).start();
  });
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
 * Owns the dial, the HTTP/2 session and stream, the one deadline timer and the abort listener; `finish` is the
 * only way out and releases them all. `phase` says which deadline runs: `connecting` (lookup, connect, TLS, the
 * server's HTTP/2 SETTINGS) under the connect deadline, then `calling` under the call's.
 */
class GrpcAttempt {
  private phase: 'connecting' | 'calling' | 'done' = 'connecting';
  private readonly started = monotonicMs();
  private timer: NodeJS.Timeout;
  private readonly dialer: Dialer;
  private session: ClientHttp2Session | undefined;
  private stream: ClientHttp2Stream | undefined;
  private responseHeaders: IncomingHttpHeaders | undefined;
  private reply: Buffer[] = [];
  private replyBytes = 0;
  /** The call's deadline, once it is placed. */
  private callMs = 0;
  /** node:zlib, loaded before the dial when the check compresses. */
  private zlib: typeof Zlib | undefined;

  constructor(
    private readonly spec: GrpcCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly signal: AbortSignal | undefined,
    resolver: Resolver | undefined,
  ) {
    this.dialer = new Dialer(
      {
        host,
        port: spec.port,
        socket: true,
        ...(spec.unixSocket === undefined ? {} : { unixSocket: spec.unixSocket }),
        ...(spec.tls === undefined ? {} : { tls: spec.tls, alpn: ['h2'] }),
      },
      // Asked for, the socket is always given.
      { connected: (socket) => this.onConnected(socket as Socket), failed: (phase, reason) => this.finish({ kind: 'failed', phase, reason }) },
      undefined,
      resolver,
    );
    this.timer = setTimeout(() => this.finish({ kind: 'deadline' }), this.connectDeadlineMs());
    signal?.addEventListener('abort', this, { once: true });
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

  /** The abort listener (an EventListener object). */
  handleEvent(): void {
    this.finish({ kind: 'abort' });
  }

  private connectDeadlineMs(): number {
    return Math.min(this.spec.connectTimeoutMs ?? this.spec.timeoutMs, this.spec.timeoutMs);
  }

  /** The call's deadline: its own, when the spec sets one, but never past the whole check's. */
  private callDeadlineMs(): number {
    const left = Math.max(1, this.spec.timeoutMs - (monotonicMs() - this.started));
    return Math.min(this.spec.rpcTimeoutMs ?? left, left);
  }

  private onConnected(socket: Socket): void {
    // The URL only carries the scheme: the socket is already connected, and :authority is set on the request.
    const session = http2Connect(`${this.spec.tls === undefined ? 'http' : 'https'}://${formatAddress(this.host, this.spec.port)}`, {
      createConnection: () => socket,
      settings: { enablePush: false },
    });
    this.session = session;
    // node:http2 takes a reset behind data for the end of the stream, as libuv tells it (connection-node.ts,
    // resetBehindEnd), and closes the session without an error: asked at the socket's end, still open then.
    let reset: Error | undefined;
    socket.once('end', () => {
      reset = resetBehindEnd(socket);
    });
    const failed = (err: unknown) => this.finish({ kind: 'failed', phase: isTlsError(err) ? 'tls' : this.phase === 'connecting' ? 'connect' : 'rpc', reason: http2Reason(err) });
    session.on('error', failed);
    // A TLS 1.3 server refuses a client certificate after the handshake, with an alert in its first record: Node's
    // HTTP/2 session reads it natively and never says (the check would wait out its deadline), the socket does.
    socket.on('error', failed);
    session.on('goaway', (code) => {
      if (this.stream === undefined || this.phase !== 'calling') return;
      this.finish({ kind: 'failed', phase: 'rpc', reason: `the server sent GOAWAY (${h2ErrorName(code)})` });
    });
    session.on('close', () => this.finish({ kind: 'failed', phase: this.phase === 'connecting' ? 'connect' : 'rpc', reason: reset === undefined ? 'connection closed before a reply' : socketErrorReason(reset) }));
    // Up once the server's SETTINGS arrive, as grpc-go counts a connection ready: a peer that accepts and never
    // speaks HTTP/2 is a connection failure, not a failed call.
    session.once('remoteSettings', () => this.call(session));
  }

  /** The session is up: from here the call runs on what is left of the whole check's deadline. */
  private call(session: ClientHttp2Session): void {
    if (this.phase !== 'connecting') return;
    this.phase = 'calling';
    clearTimeout(this.timer);
    const leftMs = this.callDeadlineMs();
    this.callMs = leftMs;
    this.timer = setTimeout(() => this.finish({ kind: 'deadline' }), leftMs);
    // A Unix socket's peer is `localhost`, as grpc-go calls it; a server name stands for the peer, as there.
    const authority = this.spec.tls?.serverName ?? (this.spec.unixSocket === undefined ? formatAddress(this.host, this.spec.port) : 'localhost');
    const headers: Record<string, string | string[]> = {
      ':method': 'POST',
      ':path': this.spec.path,
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': this.spec.userAgent ?? DEFAULT_USER_AGENT,
      // The server is told the deadline, so that it can give up too (gRPC's `m` unit is milliseconds).
      'grpc-timeout': `${Math.ceil(leftMs)}m`,
      ...(this.zlib === undefined ? {} : { 'grpc-encoding': 'gzip', 'grpc-accept-encoding': 'gzip' }),
    };
    for (const [name, text] of this.spec.metadata) {
      const key = name.toLowerCase();
      if (RESERVED_METADATA.has(key)) {
        return this.finish({ kind: 'failed', phase: 'rpc', reason: `invalid request: metadata ${name} is gRPC's own` });
      }
      const value = wireValue(key, text);
      const prior = key === 'user-agent' ? undefined : headers[key];
      headers[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      return this.finish({ kind: 'failed', phase: 'rpc', reason: `invalid request: ${oneLine(String((err as Error).message ?? err))}` });
    }
    this.stream = stream;
    stream.on('response', (response) => {
      this.responseHeaders = response;
    });
    stream.on('data', (chunk: Buffer) => {
      this.replyBytes += chunk.length;
      if (this.replyBytes > MAX_REPLY_BYTES) return this.finish({ kind: 'failed', phase: 'rpc', reason: `reply larger than ${MAX_REPLY_BYTES} bytes` });
      this.reply.push(chunk);
    });
    stream.on('trailers', (trailers) => this.onTrailers(trailers));
    stream.on('error', (err) => this.finish({ kind: 'failed', phase: 'rpc', reason: http2Reason(err) }));
    stream.on('close', () => this.onStreamClosed(stream));
    stream.end(encodeRequest(this.spec.service, this.zlib));
  }

  private onTrailers(trailers: IncomingHttpHeaders): void {
    this.finish(this.verdict(trailers));
  }

  /** Closed without trailers: a trailers-only reply (grpc-status in the headers), a reset, or a cut connection. */
  private onStreamClosed(stream: ClientHttp2Stream): void {
    if (this.phase !== 'calling') return;
    const headers = this.responseHeaders;
    if (headers !== undefined && headers['grpc-status'] !== undefined) return this.finish(this.verdict(headers));
    // The connection went, and node:http2 cancels its streams before it says why: the session's error or close tells.
    if (stream.rstCode === constants.NGHTTP2_CANCEL && this.session?.destroyed === true) return;
    if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
      return this.finish({ kind: 'failed', phase: 'rpc', reason: `the server reset the stream (${h2ErrorName(stream.rstCode)})` });
    }
    this.finish({ kind: 'failed', phase: 'rpc', reason: headers === undefined ? 'stream closed before a reply' : 'reply without a grpc-status' });
  }

  /** The call's outcome from the HTTP status, the grpc-status and, when that is OK, the ServingStatus. */
  private verdict(trailers: IncomingHttpHeaders): GrpcEvent {
    const httpStatus = this.responseHeaders?.[':status'];
    if (httpStatus !== undefined && Number(httpStatus) !== 200) {
      return { kind: 'failed', phase: 'rpc', reason: `HTTP status ${httpStatus}: not a gRPC server?` };
    }
    const code = Number(trailers['grpc-status']);
    if (!Number.isInteger(code)) return { kind: 'failed', phase: 'rpc', reason: 'reply without a grpc-status' };
    if (code !== 0) {
      const name = GRPC_STATUS[code] ?? 'unknown code';
      const message = trailers['grpc-message'];
      const detail = typeof message === 'string' && message !== '' ? `: ${oneLine(decodeURIComponentSafe(message))}` : '';
      return { kind: 'failed', phase: 'rpc', reason: `grpc-status ${code} (${name})${detail}` };
    }
    const status = decodeReply(Buffer.concat(this.reply), this.zlib);
    if (typeof status === 'string') return { kind: 'failed', phase: 'rpc', reason: status };
    return status === 1 ? { kind: 'serving' } : { kind: 'status', status: SERVING_STATUS[status] ?? `${status} (unknown)` };
  }

  private finish(event: GrpcEvent): void {
    if (this.phase === 'done') return;
    const phase = this.phase;
    this.phase = 'done';
    const resolved = this.dialer.resolvedFact;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
    this.stream?.close(constants.NGHTTP2_CANCEL);
    this.session?.destroy();
    this.dialer.close();
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
        return CHECK_CANCELLED;
    }
  }
}

/**
 * A length-prefixed HealthCheckRequest: field 1 (service) as a length-delimited string; gzip-compressed (and
 * flagged so) when zlib is given.
 */
export function encodeRequest(service: string, zlib?: typeof Zlib): Buffer {
  const name = Buffer.from(service, 'utf8');
  const field = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const message = zlib === undefined ? field : zlib.gzipSync(field);
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = zlib === undefined ? 0 : 1;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * The ServingStatus of a HealthCheckResponse message (field 1, a varint; absent means 0, UNKNOWN), or why the
 * reply is not one. Fields other than 1 are skipped as protobuf requires.
 */
export function decodeReply(data: Buffer, zlib?: typeof Zlib): number | string {
  if (data.length < 5) return 'reply without a message';
  if (data[0] !== 0 && (data[0] !== 1 || zlib === undefined)) return 'compressed reply (never asked for)';
  const length = data.readUInt32BE(1);
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

function readVarint(bytes: Buffer, from: number): { value: number; next: number } | undefined {
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

function http2Reason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_STREAM_ERROR' || code === 'ERR_HTTP2_ERROR') {
    return `HTTP/2: ${oneLine((err as Error).message)}`;
  }
  return socketErrorReason(err);
}

/** RFC 9113 section 7's error codes, by number. */
const H2_ERRORS = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
] as const;

function h2ErrorName(code: number): string {
  return H2_ERRORS[code] ?? `error code ${code}`;
}
