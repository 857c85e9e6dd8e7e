import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { formatAddress, lifeguardError, type LifeguardError } from './errors.js';
import { CHECK_CANCELLED, MAX_HEADER_BYTES, socketErrorReason } from './reason.js';
import type { CheckResult, HttpCheckSpec, StatusRange } from './types.js';
import { VERSION } from './version.js';

const DEFAULT_USER_AGENT = `lifeguard-healthcheck/${VERSION}`;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Go's net/http limit, which the Cloud Foundry binary inherits. */
const MAX_REDIRECTS = 10;

/**
 * One HTTP check: `GET path` on a fresh connection, verdict on the status line. Never rejects.
 *
 * Node's own request timeouts are idle timeouts: a server that trickles one header byte a second would never
 * trip them. The deadline here is one timer over connect, request, headers and every redirect hop; when it fires
 * the socket is destroyed, whatever the server is doing.
 */
export function httpCheck(spec: HttpCheckSpec, host: string, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve({ passed: false, latencyMs: 0, error: CHECK_CANCELLED });
    else new HttpAttempt(spec, host, resolve, signal).send(spec.path);
  });
}

export function statusExpected(status: number, expected: readonly StatusRange[]): boolean {
  for (const range of expected) if (status >= range.min && status <= range.max) return true;
  return false;
}

/**
 * Owns the current request (one hop of a redirect chain), the deadline timer and the abort listener;
 * `finish` is the only way out and releases all three.
 */
class HttpAttempt {
  private state: 'requesting' | 'done' = 'requesting';
  private readonly started = performance.now();
  private readonly deadline: NodeJS.Timeout;
  private current: ClientRequest | undefined;
  private redirects = 0;
  private readonly headers: readonly string[];

  constructor(
    private readonly spec: HttpCheckSpec,
    private readonly host: string,
    private readonly resolve: (result: CheckResult) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.headers = requestHeaders(spec, host);
    this.deadline = setTimeout(() => this.finish({ kind: 'deadline' }), spec.timeoutMs);
    signal?.addEventListener('abort', this, { once: true });
  }

  /** The abort listener (an EventListener object, so that no closure is made per attempt for it). */
  handleEvent(): void {
    this.finish({ kind: 'abort' });
  }

  send(path: string): void {
    let req: ClientRequest;
    try {
      req = request({
        host: this.host,
        port: this.spec.port,
        path,
        method: 'GET',
        // A fresh connection per check: a pooled one would hide an app that no longer accepts.
        agent: false,
        setHost: false,
        headers: this.headers as string[],
        maxHeaderSize: MAX_HEADER_BYTES,
      });
    } catch (thrown) {
      // Node validates the path and header values synchronously; the request could not be made at all.
      return this.finish({ kind: 'failed', reason: `invalid request: ${(thrown as Error).message}` });
    }
    this.current = req;
    // Events of a hop that has been left behind (a redirect) must not decide this attempt.
    req.on('response', (res) => {
      if (this.current === req) this.onResponse(res);
    });
    req.on('error', (err) => {
      if (this.current === req) this.finish({ kind: 'failed', reason: socketErrorReason(err) });
    });
    req.end();
  }

  private onResponse(res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    // The verdict is taken now; the body is never read, so an endless or stalled one costs nothing.
    this.current?.destroy();
    this.current = undefined;
    const location = this.spec.followRedirects && REDIRECT_STATUSES.has(status) ? res.headers.location : undefined;
    if (location === undefined) return this.finish({ kind: 'status', status });
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
    this.send(next.pathname + next.search);
  }

  private finish(event: HttpEvent): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.current?.destroy();
    this.current = undefined;
    clearTimeout(this.deadline);
    this.signal?.removeEventListener('abort', this);
    const latencyMs = performance.now() - this.started;
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

/** A liveness agent sends the same headers every interval; they are built once per spec and host. */
const headerCache = new WeakMap<HttpCheckSpec, { readonly host: string; readonly headers: readonly string[] }>();

function requestHeaders(spec: HttpCheckSpec, host: string): readonly string[] {
  const cached = headerCache.get(spec);
  if (cached?.host === host) return cached.headers;
  const headers = buildHeaders(spec, formatAddress(host, spec.port));
  headerCache.set(spec, { host, headers });
  return headers;
}

/**
 * Host and User-Agent first, then the operator's headers in their order (a name may repeat). An operator's
 * Host or User-Agent replaces ours, as `curl -H` does, so that virtual hosts can be checked.
 */
function buildHeaders(spec: HttpCheckSpec, address: string): readonly string[] {
  let ownHost = true;
  let ownAgent = true;
  for (const [name] of spec.headers) {
    const lower = name.toLowerCase();
    if (lower === 'host') ownHost = false;
    else if (lower === 'user-agent') ownAgent = false;
  }
  const headers: string[] = [];
  if (ownHost) headers.push('Host', address);
  if (ownAgent) headers.push('User-Agent', spec.userAgent ?? DEFAULT_USER_AGENT);
  for (const [name, value] of spec.headers) headers.push(name, value);
  return headers;
}
