import type { LifeguardError } from './errors.js';

/** An inclusive range of HTTP status codes; `200` is {min: 200, max: 200}. */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

interface CheckSpecBase {
  /** IPv4 or IPv6 literal. Undefined: the first non-loopback IPv4 address of this machine (Diego's rule). */
  readonly host?: string;
  readonly port: number;
  /** Hard deadline for the whole check (connect, request, status line and headers). */
  readonly timeoutMs: number;
}

export interface TcpCheckSpec extends CheckSpecBase {
  readonly kind: 'tcp';
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
}

export type CheckSpec = TcpCheckSpec | HttpCheckSpec;

export type CheckResult =
  | { readonly passed: true; readonly latencyMs: number; readonly status?: number }
  | { readonly passed: false; readonly latencyMs: number; readonly error: LifeguardError };
