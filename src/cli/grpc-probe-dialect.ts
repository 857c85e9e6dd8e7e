/**
 * grpc-health-probe's command line (`-addr=:50051 -service=foo -tls ...`), so that the agent replaces that binary
 * in Kubernetes exec probes unchanged: its flags, parsed as Go's flag package parses them, its defaults (1s
 * connect and RPC timeouts, user agent `grpc_health_probe`) and its exit codes: 0 serving, 1 invalid arguments,
 * 2 connection failure, 3 RPC failure, 4 not serving, 20 TLS failure. The lines on stderr carry its prefixes
 * (`status: SERVING`, `timeout: ...`, `error: ...`, `service unhealthy: ...`) before the agent's own message.
 */
import type { AgentOutcome } from '../engine/types.js';
import { type ErrorCode, LifeguardFailure, lifeguardError } from '../checks/errors.js';
import { parseDurationValue, parseHeader, parseHost, parsePort } from '../checks/parse.js';
import { GRPC_HEALTH_PATH, type GrpcCheckSpec, type TlsOptions } from '../checks/types.js';
import { type GoFlagKind, parseGoFlags } from './go-flags.js';
import type { Invocation, ParseArgs, Told } from './invocation.js';

const FLAGS: Readonly<Record<string, GoFlagKind>> = {
  addr: 'string',
  service: 'string',
  'user-agent': 'string',
  'connect-timeout': 'string',
  'rpc-timeout': 'string',
  tls: 'bool',
  'tls-no-verify': 'bool',
  'tls-ca-cert': 'string',
  'tls-client-cert': 'string',
  'tls-client-key': 'string',
  'tls-server-name': 'string',
  'rpc-header': 'list',
};

const USAGE = `Usage of healthcheck (grpc-health-probe flags; durations in Go syntax):
  -addr string               (required) tcp host:port to connect
  -service string            service name to check (default: "")
  -user-agent string         user-agent header value of health check requests (default "grpc_health_probe")
  -connect-timeout duration  timeout for establishing connection (default 1s)
  -rpc-timeout duration      timeout for health check rpc (default 1s)
  -rpc-header value          additional RPC headers in 'name: value' format (repeatable)
  -tls                       use TLS (default: false, INSECURE plaintext transport)
  -tls-no-verify             (with -tls) don't verify the certificate (INSECURE) presented by the server
  -tls-ca-cert string        (with -tls, optional) file containing trusted certificates for verifying server
  -tls-client-cert string    (with -tls, optional) client certificate for authenticating to the server
  -tls-client-key string     (with -tls) private key for the client certificate
  -tls-server-name string    (with -tls) override the hostname used to verify the server certificate
Exit codes: 0 serving, 1 invalid arguments, 2 connection failure, 3 RPC failure, 4 not serving, 20 TLS failure.
`;

/** The binary's exit code for each failure of a gRPC check. */
const EXIT_CODE: Partial<Record<ErrorCode, number>> = {
  'grpc-connect': 2,
  'grpc-connect-timeout': 2,
  'grpc-rpc': 3,
  'grpc-rpc-timeout': 3,
  'grpc-status': 4,
  'grpc-tls': 20,
};

const PREFIX: Partial<Record<ErrorCode, string>> = {
  'grpc-connect-timeout': 'timeout: ',
  'grpc-rpc-timeout': 'timeout: ',
  'grpc-status': 'service unhealthy: ',
};

export const parseGrpcProbeArgs: ParseArgs = async (argv) => {
  const parsed = parseGoFlags(argv, FLAGS);
  if ('error' in parsed) invalid(parsed.error);
  if (parsed.help) return { kind: 'print', told: { stderr: USAGE, exitCode: 1 } };
  if (parsed.rest.length > 0) invalid(`unexpected argument ${JSON.stringify(parsed.rest[0])}`);
  const text = (name: string): string | undefined => {
    const value = parsed.values.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const flag = (name: string): boolean => text(name) === 'true';
  const addr = text('addr');
  if (addr === undefined || addr === '') invalid('-addr not specified');
  const connectMs = positiveDuration('-connect-timeout', text('connect-timeout') ?? '1s');
  const rpcMs = positiveDuration('-rpc-timeout', text('rpc-timeout') ?? '1s');
  const useTls = flag('tls');
  for (const name of ['tls-no-verify', 'tls-ca-cert', 'tls-client-cert', 'tls-client-key', 'tls-server-name']) {
    if (!useTls && parsed.values.has(name) && (name !== 'tls-no-verify' || flag(name))) invalid(`specified -${name} without specifying -tls`);
  }
  if (useTls && flag('tls-no-verify') && text('tls-ca-cert') !== undefined) invalid('cannot specify -tls-ca-cert with -tls-no-verify (CA cert would not be used)');
  if ((text('tls-client-cert') === undefined) !== (text('tls-client-key') === undefined)) invalid('specified one of -tls-client-cert or -tls-client-key, but not both');
  const { host, port } = inDialect(() => parseAddr(addr));
  const headers = (parsed.values.get('rpc-header') ?? []) as readonly string[];
  const metadata = inDialect(() => headers.map((header) => parseHeader('-rpc-header', header)));
  const tls: TlsOptions | undefined = useTls
    ? {
        skipVerify: flag('tls-no-verify'),
        ...optional('caFile', text('tls-ca-cert')),
        ...optional('clientCertFile', text('tls-client-cert')),
        ...optional('clientKeyFile', text('tls-client-key')),
        ...optional('serverName', text('tls-server-name')),
      }
    : undefined;
  const check: GrpcCheckSpec = {
    kind: 'grpc',
    host,
    port,
    path: GRPC_HEALTH_PATH,
    service: text('service') ?? '',
    // The binary's two deadlines run one after the other.
    timeoutMs: connectMs + rpcMs,
    connectTimeoutMs: connectMs,
    rpcTimeoutMs: rpcMs,
    userAgent: text('user-agent') ?? 'grpc_health_probe',
    metadata,
    ...(tls === undefined ? {} : { tls }),
  };
  const invocation: Invocation = {
    kind: 'run',
    options: { mode: 'once', checks: [check], intervalMs: 1000, startupTimeoutMs: 0, initialDelayMs: 0, failureThreshold: 1 },
    tell,
  };
  return invocation;
};

function tell(outcome: AgentOutcome): Told {
  if (outcome.passed) return { stderr: 'status: SERVING\n', exitCode: 0 };
  const failure = outcome.failure;
  if (failure === undefined) return { exitCode: 3 };
  return { stderr: `${PREFIX[failure.code] ?? 'error: '}${failure.message}\n`, exitCode: EXIT_CODE[failure.code] ?? failure.exitCode };
}

/**
 * `host:port`, `[::1]:port` or `:port`, as grpc-go dials it; an empty host is this machine, reached as `localhost`
 * (Go dials the unspecified address, which Linux routes to loopback). Other targets (`unix://`, `dns:///`) are refused.
 */
function parseAddr(addr: string): { host: string; port: number } {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d+)$/.exec(addr);
  if (match === null) invalid(`-addr ${JSON.stringify(addr)}: expected host:port, such as localhost:50051 or [::1]:50051`);
  const [, hostText = '', portText = ''] = match;
  return { host: hostText === '' ? 'localhost' : parseHost('-addr', hostText), port: parsePort('-addr', portText) };
}

function positiveDuration(name: string, text: string): number {
  const ms = inDialect(() => parseDurationValue(name, text, true));
  if (ms <= 0) invalid(`${name} must be greater than zero (specified: ${text})`);
  return ms;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** The shared value parsers throw usage errors (exit 2); this dialect's invalid arguments exit 1. */
function inDialect<T>(parse: () => T): T {
  try {
    return parse();
  } catch (thrown) {
    if (thrown instanceof LifeguardFailure && thrown.error.code === 'usage') invalid(thrown.error.message);
    throw thrown;
  }
}

function invalid(detail: string): never {
  throw new LifeguardFailure(lifeguardError('probe-usage', { detail }));
}
