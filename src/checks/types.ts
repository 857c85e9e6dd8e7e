import type { LifeguardError, Wording } from './errors.js';

/** An inclusive range of HTTP status codes; `200` is {min: 200, max: 200}. */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

interface CheckSpecBase {
  /**
   * IPv4 or IPv6 literal, or a DNS name resolved at every check. Undefined: the first non-loopback IPv4 address
   * of this machine (Diego's rule).
   */
  readonly host?: string;
  readonly port: number;
  /**
   * The CF dialect's `-port` as written: its Go binary dials a string (`http`, `0080`, `-1`), so the check
   * resolves it at every attempt as Go does (go-port.ts) and names it as written, in that binary's words. `port`
   * is what it resolved to when parsed, else 0; for a service name, what /etc/services gave it then.
   */
  readonly portText?: string;
  /** Hard deadline for the whole check (name lookup, connect, TLS handshake, request, response). */
  readonly timeoutMs: number;
}

/**
 * How a check speaks TLS. Files are named, not held, and read at every check, so that a rotated certificate is
 * picked up without restarting a liveness agent that runs for months.
 */
export interface TlsOptions {
  /** Accept any certificate (the handshake still has to complete). */
  readonly skipVerify: boolean;
  /** PEM file of the certificate authorities to trust instead of Node's bundled ones. */
  readonly caFile?: string;
  /** SNI and the name the certificate must carry; else the host (an IP literal is checked against IP SANs). */
  readonly serverName?: string;
  /** PEM files of a client certificate and its key, for servers that require one (both or neither). */
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

export interface TcpCheckSpec extends CheckSpecBase {
  readonly kind: 'tcp';
}

/** What the body of an HTTP response must hold; reading the body at all is opt-in. */
export type BodyExpectation =
  | { readonly kind: 'substring'; readonly text: string }
  | { readonly kind: 'regex'; readonly regex: RegExp };

export interface HeaderExpectation {
  /** Compared case-insensitively. */
  readonly name: string;
  /** Must match one of the values the response gives the header. */
  readonly regex: RegExp;
}

export interface HttpCheckSpec extends CheckSpecBase {
  readonly kind: 'http';
  /** Starts with '/'. */
  readonly path: string;
  /** Statuses that pass; [{200,200}] by default. */
  readonly expectStatus: readonly StatusRange[];
  /** Extra request headers, in order; may repeat a name. */
  readonly headers: readonly (readonly [string, string])[];
  readonly followRedirects: boolean;
  /** Defaults to `lifeguard-healthcheck/<version>`; the CF dialect sends `diego-healthcheck`. */
  readonly userAgent?: string;
  /** HTTPS when set. */
  readonly tls?: TlsOptions;
  /** GET when unset. */
  readonly method?: 'GET' | 'HEAD';
  /** When set, the body is read (at most 64 KiB, within the deadline) and must hold this. */
  readonly expectBody?: BodyExpectation;
  /** Headers the final response must carry; each must match. */
  readonly expectHeaders?: readonly HeaderExpectation[];
  /** `cloud-foundry`: failure messages in that binary's words, naming the port only (the CF dialect). */
  readonly wording?: Wording;
}

/** The path every gRPC health check is posted to: a gRPC call is an HTTP/2 POST of its method's path. */
export const GRPC_HEALTH_PATH = '/grpc.health.v1.Health/Check';

export interface GrpcCheckSpec extends CheckSpecBase {
  readonly kind: 'grpc';
  /** The HTTP/2 `:path` of the call. */
  readonly path: typeof GRPC_HEALTH_PATH;
  /** The HealthCheckRequest's service; '' asks about the server as a whole. */
  readonly service: string;
  /** grpcs when set. */
  readonly tls?: TlsOptions;
  /** Deadline for connect, TLS and the HTTP/2 session, within timeoutMs. Undefined: timeoutMs alone. */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline of the call once connected, within what is left of timeoutMs (the server is told it in
   * `grpc-timeout`). Undefined: what is left of timeoutMs.
   */
  readonly rpcTimeoutMs?: number;
  /** Defaults to `lifeguard-healthcheck/<version>`. */
  readonly userAgent?: string;
  /**
   * Extra call metadata (request headers), in order. gRPC's own headers (content-type, te, user-agent,
   * grpc-timeout, grpc-encoding, ...) are refused; a `-bin` key's value travels base64-encoded, as gRPC requires.
   */
  readonly metadata: readonly (readonly [string, string])[];
  /** A Unix domain socket to dial instead of host:port (grpc-health-probe's `unix:` targets); host names the peer. */
  readonly unixSocket?: string;
  /** `gzip`: the request is sent gzip-compressed, and a compressed reply accepted (grpc-health-probe's `-gzip`). */
  readonly compression?: 'gzip';
}

export type CheckSpec = TcpCheckSpec | HttpCheckSpec | GrpcCheckSpec;

export type CheckResult =
  | { readonly passed: true; readonly latencyMs: number; readonly status?: number }
  | { readonly passed: false; readonly latencyMs: number; readonly error: LifeguardError };
