/**
 * grpc-health-probe's command line (`-addr=:50051 -service=foo -tls ...`), so that the agent replaces that binary
 * in Kubernetes exec probes unchanged: its flags, parsed as Go's flag package parses them, its defaults (1s
 * connect and RPC timeouts, user agent `grpc_health_probe`), its rules (an empty value is no value, as its
 * `flag != ""` tests read) and its exit codes: 0 serving, 1 invalid arguments (TLS files that cannot be used
 * included), 2 connection failure (TLS included), 3 RPC failure, 4 not serving, 20 SPIFFE. The lines on stderr
 * carry its prefixes (`status: SERVING`, `timeout: ...`, `error: ...`, `service unhealthy: ...`) before the
 * agent's own message. README "The grpc-health-probe dialect" says where it differs, and why.
 */
import type { AgentOutcome } from '../engine/types.js';
import { type ErrorCode, LifeguardFailure, lifeguardError } from '../checks/errors.js';
import { goDuration } from '../checks/duration.js';
import { isReservedMetadata } from '../checks/grpc-metadata.js';
import { durationValue, isDigits, parseHost, parsePort } from '../checks/parse.js';
import { GRPC_HEALTH_PATH, type GrpcCheckSpec, type TlsOptions } from '../checks/types.js';
import { VERSION } from '../checks/version.js';
import { parseGoFlags } from './go-flags.js';
import { grpcProbeFlags } from './grpc-probe-flags.js';
import type { Invocation, ParseArgs, Told } from './invocation.js';


const USAGE = `Usage of healthcheck (grpc-health-probe flags; durations in Go syntax):
  -addr string               (required) tcp host:port to connect, or unix:///path, dns:///host:port, passthrough:///host:port
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
  -gzip                      compress the request with gzip, accept a gzip-compressed reply
  -v                         verbose logs
  -version                   show the version and exit
  -alts, -spiffe             accepted, but not available in this agent (exit 2 and 20, as grpc-health-probe without them)
Exit codes: 0 serving, 1 invalid arguments, 2 connection failure, 3 RPC failure, 4 not serving, 20 SPIFFE failure.
`;

/** The binary's exit code for each failure of a gRPC check. */
const EXIT_CODE: Partial<Record<ErrorCode, number>> = {
  'grpc-connect': 2,
  'grpc-connect-timeout': 2,
  // grpc-health-probe loads its TLS files before it dials, and exits 1 when it cannot.
  'grpc-credentials': 1,
  'grpc-rpc': 3,
  'grpc-rpc-timeout': 3,
  'grpc-status': 4,
  // grpc-go retries a failed handshake until the connect deadline: grpc-health-probe exits 2 for it.
  'grpc-tls': 2,
};

const PREFIX: Partial<Record<ErrorCode, string>> = {
  'grpc-connect-timeout': 'timeout: ',
  'grpc-rpc-timeout': 'timeout: ',
  'grpc-status': 'service unhealthy: ',
};

/** grpc-health-probe's exit code when SPIFFE credentials cannot be had. */
const SPIFFE_FAILED = 20;

export const parseGrpcProbeArgs: ParseArgs = async (argv) => {
  const parsed = parseGoFlags(argv, grpcProbeFlags());
  if ('error' in parsed) invalid(parsed.error);
  if (parsed.help) return { kind: 'print', told: { stderr: USAGE, exitCode: 1 } };
  // Go's flag package stops at the first argument that is not a flag, and grpc-health-probe ignores the rest.
  // grpc-health-probe tests its string flags against "": an empty value (a template's unset variable) is none.
  const text = (name: string): string | undefined => {
    const value = parsed.values.get(name);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const flag = (name: string): boolean => parsed.values.get(name) === 'true';
  if (flag('version')) return { kind: 'print', told: { stdout: `lifeguard-healthcheck ${VERSION} (grpc-health-probe dialect)\n`, exitCode: 0 } };
  const addr = text('addr');
  if (addr === undefined) invalid('-addr not specified');
  const connectMs = positiveDuration('-connect-timeout', text('connect-timeout') ?? '1s');
  const rpcMs = positiveDuration('-rpc-timeout', text('rpc-timeout') ?? '1s');
  const useTls = flag('tls');
  // Its checks, in its order, so that a command line with two mistakes is told the same first one.
  if (flag('alts') && flag('spiffe')) invalid('-alts and -spiffe are mutually incompatible');
  if (useTls && flag('alts')) invalid('cannot specify -tls with -alts');
  if (!useTls && flag('tls-no-verify')) invalid('specified -tls-no-verify without specifying -tls');
  for (const name of ['tls-ca-cert', 'tls-client-cert', 'tls-server-name']) {
    if (!useTls && text(name) !== undefined) invalid(`specified -${name} without specifying -tls`);
  }
  if (text('tls-client-cert') !== undefined && text('tls-client-key') === undefined) invalid('specified -tls-client-cert without specifying -tls-client-key');
  if (text('tls-client-cert') === undefined && text('tls-client-key') !== undefined) invalid('specified -tls-client-key without specifying -tls-client-cert');
  if (flag('tls-no-verify') && text('tls-ca-cert') !== undefined) invalid('cannot specify -tls-ca-cert with -tls-no-verify (CA cert would not be used)');
  if (flag('tls-no-verify') && text('tls-server-name') !== undefined) invalid('cannot specify -tls-server-name with -tls-no-verify (server name would not be used)');
  if (useTls && flag('spiffe')) invalid('-tls and -spiffe are mutually incompatible');
  const target = inDialect(() => parseTarget(addr));
  const headers = (parsed.values.get('rpc-header') ?? []) as readonly string[];
  const metadata: (readonly [string, string])[] = [];
  for (const header of headers) {
    const pair = parseRpcHeader(header);
    if (pair !== undefined) metadata.push(pair);
  }
  const serverName = text('tls-server-name');
  const tls: TlsOptions | undefined = useTls
    ? {
        skipVerify: flag('tls-no-verify'),
        ...optional('caFile', text('tls-ca-cert')),
        ...optional('clientCertFile', text('tls-client-cert')),
        ...optional('clientKeyFile', text('tls-client-key')),
        ...(serverName === undefined ? {} : { serverName: inDialect(() => parseHost('-tls-server-name', serverName)) }),
      }
    : undefined;
  if (tls !== undefined) await usableTlsFiles(tls);
  if (flag('spiffe')) {
    // go-spiffe fails this way when no Workload API is configured; this agent has no client for one at all.
    const line = 'failed to initialize tls credentials with spiffe: this agent has no SPIFFE Workload API client (use -tls with the SVID files)';
    return { kind: 'print', told: { stderr: `${line}\n`, exitCode: SPIFFE_FAILED } };
  }
  if (flag('alts')) {
    // ALTS needs Google Cloud's handshaker service; without it grpc-health-probe waits out -connect-timeout, exit 2.
    const line = `error: failed to connect service at ${JSON.stringify(addr)}: -alts: this agent has no ALTS handshaker client`;
    return { kind: 'print', told: { stderr: `${line}\n`, exitCode: 2 } };
  }
  const userAgent = text('user-agent') ?? (parsed.values.has('user-agent') ? '' : 'grpc_health_probe');
  const check: GrpcCheckSpec = {
    kind: 'grpc',
    ...target,
    path: GRPC_HEALTH_PATH,
    service: text('service') ?? '',
    // The binary's two deadlines run one after the other.
    timeoutMs: connectMs + rpcMs,
    connectTimeoutMs: connectMs,
    rpcTimeoutMs: rpcMs,
    // grpc-go puts its own product after the application's, as `grpc_health_probe grpc-go/1.74.2`.
    userAgent: userAgent === '' ? PRODUCT : `${userAgent} ${PRODUCT}`,
    metadata,
    ...(tls === undefined ? {} : { tls }),
    ...(flag('gzip') ? { compression: 'gzip' as const } : {}),
  };
  const verbose = flag('v') ? verboseLines(addr, connectMs, rpcMs, metadata, tls) : '';
  const invocation: Invocation = {
    kind: 'run',
    options: { mode: 'once', checks: [check], intervalMs: 1000, startupTimeoutMs: 0, initialDelayMs: 0, failureThreshold: 1 },
    tell: (outcome) => {
      const told = tell(outcome);
      return { ...told, stderr: `${verbose}${told.stderr ?? ''}` };
    },
  };
  return invocation;
};

const PRODUCT = `lifeguard-healthcheck/${VERSION}`;

/** Keys grpc-go drops from call metadata (it sets them itself), so that a command line with one still passes. */
function reserved(key: string): boolean {
  return key === 'user-agent' || isReservedMetadata(key);
}

/** gRPC metadata keys, once lowercased (grpc-go refuses any other character in the call). */
const METADATA_KEY = /^[0-9a-z_.-]+$/;

/**
 * `name: value`, as grpc-health-probe splits it: at the first colon, the name as given (lowercased, as gRPC
 * metadata keys are), the value trimmed on the left only. What grpc-go drops from the call (the headers it sets
 * itself) is dropped; a name or value it would refuse in the call (exit 3 there) is an invalid argument
 * here, named before anything is dialed.
 */
function parseRpcHeader(header: string): [string, string] | undefined {
  const colon = header.indexOf(':');
  if (colon < 0) invalid(`invalid value ${JSON.stringify(header)} for flag -rpc-header: invalid RPC header, expected 'key: value', got ${JSON.stringify(header)}`);
  const key = header.slice(0, colon).toLowerCase();
  const value = header.slice(colon + 1).replace(/^\s+/u, '');
  if (reserved(key)) return undefined;
  if (!METADATA_KEY.test(key)) invalid(`-rpc-header ${JSON.stringify(header)}: the name must be letters, digits, '-', '_' or '.'`);
  if (!key.endsWith('-bin') && /[^\x20-\x7e]/.test(value)) {
    invalid(`-rpc-header ${JSON.stringify(header)}: a value of printable ASCII only (binary values go in a key ending in -bin)`);
  }
  return [key, value];
}

/** Its `-v` block, the options as parsed, in its words. */
function verboseLines(addr: string, connectMs: number, rpcMs: number, metadata: readonly (readonly [string, string])[], tls: TlsOptions | undefined): string {
  const lines = ['parsed options:', `> addr=${addr} conn_timeout=${connectMs}ms rpc_timeout=${rpcMs}ms`];
  if (metadata.length > 0) lines.push(`> headers: ${metadata.map(([key, value]) => `${key}: ${value}`).join(', ')}`);
  lines.push(`> tls=${tls !== undefined}`);
  if (tls !== undefined) {
    lines.push(`  > no-verify=${tls.skipVerify}`, `  > ca-cert=${tls.caFile ?? ''}`, `  > client-cert=${tls.clientCertFile ?? ''}`);
    lines.push(`  > client-key=${tls.clientKeyFile ?? ''}`, `  > server-name=${tls.serverName ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** grpc-health-probe loads its TLS files before dialing: one that cannot be used is exit 1, with the file named. */
async function usableTlsFiles(tls: TlsOptions): Promise<void> {
  const { unusableTlsFile, describeTlsProblem } = await import('../checks/tls-material.js');
  const problem = await unusableTlsFile(tls);
  if (problem !== undefined) {
    throw new LifeguardFailure(lifeguardError('probe-usage', { detail: `failed to initialize tls credentials: ${describeTlsProblem(problem)}` }));
  }
}

function tell(outcome: AgentOutcome): Told {
  if (outcome.passed) return { stderr: 'status: SERVING\n', exitCode: 0 };
  const failure = outcome.failure;
  if (failure === undefined) return { exitCode: 3 };
  return { stderr: `${PREFIX[failure.code] ?? 'error: '}${failure.message}\n`, exitCode: EXIT_CODE[failure.code] ?? failure.exitCode };
}

/** Where the check dials: host and port, or a Unix socket (host then names the peer, as grpc-go does). */
type Target = Pick<GrpcCheckSpec, 'host' | 'port' | 'unixSocket'>;

/**
 * The targets grpc-go dials: `host:port`, `[::1]:port` or `:port` (this machine, reached as `localhost`: Go dials
 * the unspecified address, which Linux routes to loopback); `dns:///host:port` and `passthrough:///host:port`,
 * the same; `unix:///abs/path`, `unix:path` and `unix://abs/path`, a Unix domain socket. Anything else cannot be
 * an address: an invalid argument (grpc-go would retry it until -connect-timeout and exit 2).
 */
function parseTarget(addr: string): Target {
  const socket = unixSocketPath(addr);
  if (socket !== undefined) return { host: 'localhost', port: 0, unixSocket: socket };
  const hostPort = withoutScheme(addr);
  // The port is digits, so the colon before it is the last one.
  const colon = hostPort.lastIndexOf(':');
  const hostText = hostPort.slice(0, Math.max(colon, 0));
  const portText = hostPort.slice(colon + 1);
  if (colon < 0 || !isDigits(portText) || !isHostPart(hostText)) {
    invalid(`-addr ${JSON.stringify(addr)}: expected host:port (such as localhost:50051 or [::1]:50051), dns:///host:port or unix:///path`);
  }
  return { host: hostText === '' ? 'localhost' : parseHost('-addr', hostText), port: parsePort('-addr', portText) };
}

/*
 * The target's forms are read character by character, with the answers of the regular expressions they replace
 * (unix:(//)?(.+), (dns|passthrough):///(.*) and (\[[^\]]*\]|[^:[\]]*):(\d+), anchored): with the user agent's
 * check and the reply's 1xx test, these were a gRPC check's only regular expressions but the dialect selector's,
 * and their first use cost every start page faults (bench:agent).
 */

/** `unix:path`, `unix://abs/path` or `unix:///abs/path`: the socket's path (the `//` dropped only if more follows). */
function unixSocketPath(addr: string): string | undefined {
  if (!addr.startsWith('unix:')) return undefined;
  const rest = addr.slice('unix:'.length);
  if (rest === '' || hasLineBreak(rest)) return undefined;
  return rest.startsWith('//') && rest.length > 2 ? rest.slice(2) : rest;
}

const SCHEMES = ['dns:///', 'passthrough:///'] as const;

/** What follows `dns:///` or `passthrough:///`, or the whole address. */
function withoutScheme(addr: string): string {
  for (let i = 0; i < SCHEMES.length; i += 1) {
    const scheme = SCHEMES[i] as string;
    if (addr.startsWith(scheme) && !hasLineBreak(addr.slice(scheme.length))) return addr.slice(scheme.length);
  }
  return addr;
}

/** `[` anything but `]` `]`, or no `:`, `[` nor `]` at all. */
function isHostPart(text: string): boolean {
  if (text.startsWith('[')) return text.length >= 2 && text.indexOf(']') === text.length - 1;
  for (let i = 0; i < text.length; i += 1) if (text[i] === ':' || text[i] === '[' || text[i] === ']') return false;
  return true;
}

/** A line terminator, which the expressions' `.` does not match. */
function hasLineBreak(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

/** As grpc-health-probe reads it (Go's ParseDuration: `+1s` is 1s, `-1s` a duration not above zero), at most MAX_DURATION_MS. */
function positiveDuration(name: string, text: string): number {
  const signed = goDuration(text);
  if (signed !== undefined && signed <= 0) invalid(`${name} must be greater than zero (specified: ${text})`);
  return inDialect(() => durationValue(name, text, signed, true));
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
