import type { Cancel } from './cancel.js';
import { deferred } from './deferred.js';
import { lifeguardError, type LifeguardError } from './errors.js';
import { goDialPort } from './go-port.js';
import { lookUpHostAddress } from './host.js';
import { httpFacts } from './http-facts.js';
import { startTcpCheck, tcpFacts } from './tcp-check.js';
import type { CheckResult, CheckSpec, GrpcCheckSpec, HttpCheckSpec, TcpCheckSpec } from './types.js';

let httpModule: typeof import('./http-check.js') | undefined;

/**
 * Runs one check to its verdict. Never rejects: every failure, including a missing interface and cancellation,
 * is a CheckResult whose error comes from the error table.
 *
 * A spec without a host is checked on this machine's first non-loopback IPv4 address, looked up on every call
 * (a container's address can appear after the agent starts). Callers that probe often resolve it once and
 * pass a spec with the host set. A host that is a name is resolved by the check itself, at every call.
 *
 * The HTTP and gRPC checks are imported on first use: an agent that checks a port loads neither (each kilobyte
 * of code loaded costs a one-shot agent's start), and the HTTP/2 client only by those that check gRPC; so is
 * node:os, for the interface lookup (host.ts), by callers that give no host.
 */
export function runCheck(given: CheckSpec, cancel?: Cancel): Promise<CheckResult> {
  const { promise, resolve } = deferred<CheckResult>();
  startCheck(given, cancel, resolve);
  return promise;
}

/**
 * runCheck without its promise, for the probe loops' rounds (a supervisor runs one a second per instance):
 * `done` is told the result, once; before this returns when the result is known at once (cancelled already, a
 * port Go would not dial).
 */
export function startCheck(given: CheckSpec, cancel: Cancel | undefined, done: (result: CheckResult) => void): void {
  if (given.host !== undefined) return checkOn(given, given.host, cancel, done);
  void lookUpHostAddress('lifeguard').then((host) =>
    typeof host === 'string' ? checkOn(given, host, cancel, done) : done({ passed: false, latencyMs: 0, error: host }),
  );
}

function checkOn(given: CheckSpec, host: string, cancel: Cancel | undefined, done: (result: CheckResult) => void): void {
  const spec = given.portText === undefined || given.kind === 'grpc' ? given : withGoPort(given, host, given.portText);
  if ('message' in spec) return done({ passed: false, latencyMs: 0, error: spec });
  switch (spec.kind) {
    case 'tcp':
      return startTcpCheck(spec, host, cancel, done);
    case 'http':
      // Once loaded, called straight: an import() per check is a trip through the module loader's promises.
      if (httpModule !== undefined) return httpModule.startHttpCheck(spec, host, cancel, done);
      void import('./http-check.js').then(
        (module) => {
          httpModule = module;
          module.startHttpCheck(spec, host, cancel, done);
        },
        (thrown: unknown) => done(unloadable(spec, host, thrown)),
      );
      return;
    case 'grpc':
      void import('./grpc-check.js').then(
        ({ grpcCheck }) => grpcCheck(spec, host, cancel).then(done),
        (thrown: unknown) => done(unloadable(spec, host, thrown)),
      );
  }
}

/**
 * A check whose code cannot be loaded (a damaged install; no file descriptor left to read it) fails like any
 * check that cannot be made: its round must still end, or its probe loop would wait on it for good.
 */
function unloadable(spec: HttpCheckSpec | GrpcCheckSpec, host: string, thrown: unknown): CheckResult {
  const why = (thrown instanceof Error ? thrown.message : String(thrown)).split('\n')[0];
  const error =
    spec.kind === 'http'
      ? lifeguardError('http-failed', { ...httpFacts(spec, host), reason: `cannot load the HTTP check (${why})` })
      : lifeguardError('grpc-connect', { host, port: spec.port, service: spec.service, reason: `cannot load the gRPC check (${why})` });
  return { passed: false, latencyMs: 0, error };
}

/**
 * The CF dialect's `-port`, resolved at every attempt as its Go binary resolves it (go-port.ts): the spec with the
 * port Go dials, or the failure Go reports without dialing. Go's HTTP client takes only digits in a URL's port
 * (anything else fails to make the request) and dials 80 for an empty one.
 */
function withGoPort(spec: TcpCheckSpec | HttpCheckSpec, host: string, text: string): TcpCheckSpec | HttpCheckSpec | LifeguardError {
  // A name was looked up in /etc/services once, when parsed (as Go reads that file once): its port, 0 for none.
  const service = (): number | undefined => (spec.port > 0 ? spec.port : undefined);
  if (spec.kind === 'tcp') {
    const go = goDialPort(host, text, service);
    return 'error' in go ? lifeguardError('tcp-address', { host, port: spec.port, portText: text, reason: go.error }) : { ...spec, port: go.port };
  }
  if (!/^\d*$/.test(text)) return lifeguardError('http-request', httpFacts(spec, host));
  const go = goDialPort(host, text === '' ? '80' : text, service);
  return 'error' in go ? lifeguardError('http-failed', { ...httpFacts(spec, host), reason: `dial tcp: ${go.error}` }) : { ...spec, port: go.port };
}

/**
 * What a check cut short after `waitedMs` reports (a readiness deadline that came before its attempt finished):
 * the timeout of its kind, as if its own deadline had been that long.
 */
export function timedOutAfter(spec: CheckSpec, waitedMs: number): LifeguardError {
  const host = spec.host ?? '';
  switch (spec.kind) {
    case 'tcp':
      return lifeguardError('tcp-timeout', { ...tcpFacts(spec, host), timeoutMs: waitedMs });
    case 'http':
      return lifeguardError('http-timeout', { ...httpFacts(spec, host), timeoutMs: waitedMs });
    case 'grpc':
      return lifeguardError('grpc-rpc-timeout', { host, port: spec.port, service: spec.service, timeoutMs: waitedMs });
  }
}
