// grpc-health-probe's command line and exit codes, end to end through the built agent against real gRPC health
// servers on loopback: 0 serving, 1 invalid arguments (TLS files included), 2 connection failure (TLS included),
// 3 RPC failure, 4 not serving, 20 SPIFFE. Each behaviour was first seen side by side with grpc-health-probe
// v0.4.56 (the closing note of issue 19 has the table).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { GRPC_HEALTH_PATH } from '../../src/checks/types.js';
import { VERSION } from '../../src/checks/version.js';
import { parseGrpcProbeArgs } from '../../src/cli/grpc-probe-dialect.js';
import { closedPort, tcpServer } from '../checks/fixtures.js';
import { runAgent } from '../helpers/agent.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makeCerts, tlsSkip } from '../helpers/tls.js';
import { getenvOf } from '../helpers/getenv.js';

t.test('-addr forms read as the regular expressions they replace read them', async (t) => {
  // What the dialect read with unix:(//)?(.+), (dns|passthrough):///(.*) and (\[[^\]]*\]|[^:[\]]*):(\d+), anchored.
  const byExpressions = (addr: string): { unixSocket: string } | { hostText: string; port: string } | 'invalid' => {
    const unix = /^unix:(?:\/\/)?(.+)$/.exec(addr);
    if (unix !== null) return { unixSocket: unix[1] as string };
    const scheme = /^(dns|passthrough):\/\/\/(.*)$/.exec(addr);
    const match = /^(\[[^\]]*\]|[^:[\]]*):(\d+)$/.exec(scheme === null ? addr : (scheme[2] as string));
    return match === null ? 'invalid' : { hostText: match[1] as string, port: match[2] as string };
  };
  const addrs = [
    'localhost:50051', ':50051', '127.0.0.1:1', '[::1]:50051', '[]:1', '[:1', '[a]]:1', '[a]b:1', 'a:b:1', 'a[b:1', 'h:', 'h:1x',
    'h:1\n', 'h:\u0663', 'h', 'unix:///tmp/s.sock', 'unix:rel.sock', 'unix://', 'unix:', 'unix:///', 'unix://a', 'unix:a\nb',
    'unix:\u2028', 'UNIX:/s', 'dns:///h:1', 'dns:///', 'dns:///:7', 'dns:///h:1:2', 'dns:///a\nb:1', 'DNS:///h:1', 'dns://h:1',
    'passthrough:///[::1]:5', 'passthrough:///\r:5', 'passthrough:///x',
  ];
  for (const addr of addrs) {
    // Escaped for TAP, for which U+2028 and U+2029 end a line (JSON.stringify leaves them as they are).
    const shown = JSON.stringify(addr).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
    const expected = byExpressions(addr);
    const parsed = await parseGrpcProbeArgs([`-addr=${addr}`], getenvOf()).then(
      (invocation) => (invocation.kind === 'run' ? invocation.options.checks[0] : undefined),
      (thrown: unknown) => String((thrown as { error?: { message?: string } }).error?.message ?? thrown),
    );
    if (expected === 'invalid') t.match(parsed, /: expected host:port/, `${shown}: not an address`);
    else if ('unixSocket' in expected) t.match(parsed, { unixSocket: expected.unixSocket, host: 'localhost' }, `${shown}: a socket`);
    // Host and port are then the shared parsers' to accept or refuse, as before.
    else if (typeof parsed === 'string') t.notMatch(parsed, /: expected host:port/, `${shown}: host ${expected.hostText}, port ${expected.port}`);
    else t.match(parsed, { port: Number(expected.port) }, `${shown}: port ${expected.port}`);
  }
});

t.test('parsed as grpc-health-probe parses it', async (t) => {
  const invocation = await parseGrpcProbeArgs(
    ['-addr=localhost:50051', '--service', 'shop.Cart', '-connect-timeout=250ms', '-rpc-timeout', '2s', '-user-agent=kubelet', '-rpc-header=X-A: 1', '-rpc-header', 'X-B:  2 ', '-tls', '-tls-no-verify=true'],
    getenvOf(),
  );
  if (invocation.kind !== 'run') throw new Error('expected a run');
  t.same(invocation.options.checks, [
    {
      kind: 'grpc',
      host: 'localhost',
      port: 50051,
      path: GRPC_HEALTH_PATH,
      service: 'shop.Cart',
      timeoutMs: 2250,
      connectTimeoutMs: 250,
      rpcTimeoutMs: 2000,
      userAgent: `kubelet lifeguard-healthcheck/${VERSION}`,
      // Keys lowercased, values trimmed on the left only, as grpc-health-probe does.
      metadata: [['x-a', '1'], ['x-b', '2 ']],
      tls: { skipVerify: true },
    },
  ]);
  t.equal(invocation.options.mode, 'once');
  // As Go's ParseDuration reads them, a leading + included.
  const signed = await parseGrpcProbeArgs(['-addr=:50051', '-connect-timeout=+250ms', '-rpc-timeout=+1.5s'], getenvOf());
  t.match(signed.kind === 'run' && signed.options.checks[0], { connectTimeoutMs: 250, rpcTimeoutMs: 1500 });
  const defaults = await parseGrpcProbeArgs(['-addr=:50051'], getenvOf());
  t.match(defaults.kind === 'run' && defaults.options.checks[0], { host: 'localhost', timeoutMs: 2000, userAgent: `grpc_health_probe lifeguard-healthcheck/${VERSION}`, service: '' });
});

t.test('its exit codes, against real servers', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 }, down: { serving: 2 }, silent: 'never', broken: { grpcStatus: 13, message: 'boom' } });
  const addr = `-addr=127.0.0.1:${server.port}`;
  const serving = await runAgent([addr]);
  t.same([serving.code, serving.stdout, serving.stderr], [0, '', 'status: SERVING\n']);
  // grpc-go's own product follows the application's (`grpc_health_probe grpc-go/1.74.2`); ours does here.
  t.equal(server.asked[0]?.headers['user-agent'], `grpc_health_probe lifeguard-healthcheck/${VERSION}`);

  const down = await runAgent([addr, '-service=down']);
  t.equal(down.code, 4);
  t.match(down.stderr, /^service unhealthy: failed gRPC health check of 127\.0\.0\.1:\d+ for service "down": status NOT_SERVING in \d+ms\n$/);

  const broken = await runAgent([addr, '-service=broken']);
  t.equal(broken.code, 3);
  t.match(broken.stderr, /^error: .*grpc-status 13 \(INTERNAL\): boom\n$/);

  const silent = await runAgent([addr, '-service=silent', '-rpc-timeout=200ms']);
  t.equal(silent.code, 3);
  t.match(silent.stderr, /^timeout: .*: call timed out after 0\.20 seconds\n$/);

  const refused = await runAgent([`-addr=127.0.0.1:${await closedPort()}`]);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /^error: .*connect: connection refused\n$/);

  const stall = await tcpServer(t, () => {});
  const stalled = await runAgent([`-addr=127.0.0.1:${stall}`, '-connect-timeout=200ms']);
  t.equal(stalled.code, 2);
  t.match(stalled.stderr, /^timeout: .*: connect timed out after 0\.20 seconds\n$/);
});

t.test('TLS: 2 when the handshake fails (as grpc-health-probe, whose 20 is for SPIFFE), 0 with the CA', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const server = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) });
  const addr = `-addr=localhost:${server.port}`;
  const unknown = await runAgent([addr, '-tls']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^error: .*tls: certificate signed by an unknown authority\n$/);
  t.equal((await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`])).code, 0);
  t.equal((await runAgent([addr, '-tls', '-tls-no-verify'])).code, 0);
  const mismatch = await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`, '-tls-server-name=other.test']);
  t.equal(mismatch.code, 2);
  t.match(mismatch.stderr, /hostname mismatch/);
});

t.test('invalid arguments: exit 1, one line', async (t) => {
  for (const [argv, line] of [
    [['-addr='], 'error: -addr not specified'],
    // Any of that binary's flags picks its dialect, -addr or not: its words, not Cloud Foundry's exit 2.
    [['-service=shop.Cart'], 'error: -addr not specified'],
    [['-tls', '-rpc-header=a: b'], 'error: -addr not specified'],
    [['-connect-timeout=2s'], 'error: -addr not specified'],
    [['-addr=:1', '-bogus'], 'error: flag provided but not defined: -bogus'],
    [['-addr=:1', '-service'], 'error: flag needs an argument: -service'],
    [['-addr=:1', '-connect-timeout=0'], 'error: -connect-timeout must be greater than zero (specified: 0)'],
    // Go's ParseDuration takes a sign: a negative duration is one, not above zero.
    [['-addr=:1', '-connect-timeout=-1s'], 'error: -connect-timeout must be greater than zero (specified: -1s)'],
    [['-addr=:1', '-rpc-timeout=-0s'], 'error: -rpc-timeout must be greater than zero (specified: -0s)'],
    [['-addr=:1', '-rpc-timeout=-1x'], "error: invalid -rpc-timeout '-1x': expected a duration such as 500ms, 2s or 1m30s"],
    [['-addr=:1', '-rpc-timeout=5'], "error: invalid -rpc-timeout '5': expected a duration such as 500ms, 2s or 1m30s"],
    // Past what a timer can hold: quoted as given, its sign too.
    [['-addr=:1', '-rpc-timeout=+600h'], "error: invalid -rpc-timeout '+600h': expected a duration of at most 596h31m23.647s"],
    [['-addr=:1', '-connect-timeout=600h'], "error: invalid -connect-timeout '600h': expected a duration of at most 596h31m23.647s"],
    [['-addr=:1', '-tls-no-verify'], 'error: specified -tls-no-verify without specifying -tls'],
    [['-addr=:1', '-tls-ca-cert=/x'], 'error: specified -tls-ca-cert without specifying -tls'],
    [['-addr=:1', '-tls', '-tls-client-cert=/x'], 'error: specified -tls-client-cert without specifying -tls-client-key'],
    [['-addr=:1', '-tls', '-tls-client-key=/x'], 'error: specified -tls-client-key without specifying -tls-client-cert'],
    [['-addr=:1', '-tls', '-tls-no-verify', '-tls-server-name=x'], 'error: cannot specify -tls-server-name with -tls-no-verify (server name would not be used)'],
    [['-addr=:1', '-tls', '-spiffe'], 'error: -tls and -spiffe are mutually incompatible'],
    [['-addr=:1', '-tls', '-alts'], 'error: cannot specify -tls with -alts'],
    [['-addr=:1', '-alts', '-spiffe'], 'error: -alts and -spiffe are mutually incompatible'],
    [['-addr=:1', '-rpc-header=x a: 1'], 'error: -rpc-header "x a: 1": the name must be'],
    [['-addr=:1', '-rpc-header=x-a: 1\t2'], 'error: -rpc-header "x-a: 1\\t2": a value of printable ASCII only'],
    [['-addr=:1', '-tls=maybe'], 'error: invalid boolean value "maybe" for -tls: parse error'],
    [['-addr=localhost'], 'error: -addr "localhost": expected host:port'],
    [['-addr=dns://10.0.0.1/localhost:1'], 'error: -addr "dns://10.0.0.1/localhost:1": expected host:port'],
    [['-addr=:1', '-rpc-header=NoColon'], 'error: invalid value "NoColon" for flag -rpc-header'],
  ] as const) {
    const ended = await runAgent([...argv]);
    t.equal(ended.code, 1, JSON.stringify(argv));
    t.match(ended.stderr, /^[^\n]+\n$/, 'one line');
    t.ok(ended.stderr.startsWith(line), `${JSON.stringify(ended.stderr)} starts with ${JSON.stringify(line)}`);
  }
  const help = await runAgent(['-addr=:1', '-h']);
  t.equal(help.code, 1);
  t.match(help.stderr, /^Usage of healthcheck \(grpc-health-probe flags/);
});

t.test('empty values count as unset, as its `flag != ""` tests read them (templated probe commands)', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const server = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) });
  const addr = `-addr=localhost:${server.port}`;
  for (const argv of [
    [addr, '-tls', '-tls-no-verify', '-tls-ca-cert='],
    [addr, '-tls', `-tls-ca-cert=${certs.caFile}`, '-tls-client-cert=', '-tls-client-key='],
    [addr, '-tls', `-tls-ca-cert=${certs.caFile}`, '-tls-server-name='],
    [addr, '-tls', '-tls-no-verify', '-tls-server-name='],
  ]) {
    const ended = await runAgent(argv);
    t.same([ended.code, ended.stderr], [0, 'status: SERVING\n'], JSON.stringify(argv));
  }
  const plain = await grpcHealthServer(t, { '': { serving: 1 } });
  t.equal((await runAgent([`-addr=127.0.0.1:${plain.port}`, '-tls-ca-cert=', '-tls-server-name=', '-service='])).code, 0, 'empty -tls-* values need no -tls');
});

t.test('TLS files that cannot be used: exit 1 before dialing, the file and the fault named', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const other = makeCerts(t);
  const notPem = `${certs.dir}/not.pem`;
  writeFileSync(notPem, 'not PEM\n');
  const empty = `${certs.dir}/empty.pem`;
  writeFileSync(empty, '');
  const encrypted = `${certs.dir}/encrypted.key`;
  execFileSync('openssl', ['pkey', '-in', certs.client.key, '-out', encrypted, '-aes256', '-passout', 'pass:x']);
  const stall = await tcpServer(t, () => {});
  const addr = `-addr=127.0.0.1:${stall}`;
  const pair = (cert: string, key: string) => [`-tls-client-cert=${cert}`, `-tls-client-key=${key}`];
  for (const [argv, line] of [
    [[`-tls-ca-cert=${notPem}`], `CA file '${notPem}': not PEM (no -----BEGIN line)`],
    [[`-tls-ca-cert=${empty}`], `CA file '${empty}': is empty`],
    [[`-tls-ca-cert=${certs.dir}`], `CA file '${certs.dir}': is a directory, not a file`],
    [[`-tls-ca-cert=${certs.dir}/missing.pem`], `CA file '${certs.dir}/missing.pem': no such file`],
    [[`-tls-ca-cert=${certs.client.key}`], `CA file '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`],
    [pair(certs.client.cert, other.client.key), `client key '${other.client.key}': does not match the client certificate '${certs.client.cert}'`],
    [pair(certs.client.cert, encrypted), `client key '${encrypted}': is encrypted`],
    [pair(certs.client.key, certs.client.cert), `client certificate '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`],
  ] as const) {
    const ended = await runAgent([addr, '-tls', ...argv]);
    t.equal(ended.code, 1, line);
    t.match(ended.stderr, /^[^\n]+\n$/, 'one line');
    t.ok(ended.stderr.startsWith(`error: failed to initialize tls credentials: ${line}`), ended.stderr);
  }
});

t.test('a server that refuses the client certificate: exit 2, TLS named (not the alert text)', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const read = (file: string) => readFileSync(file);
  const server = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: read(certs.server.cert), key: read(certs.server.key), requestCert: true, rejectUnauthorized: true, ca: read(certs.caFile) });
  const addr = `-addr=localhost:${server.port}`;
  const without = await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`]);
  t.equal(without.code, 2);
  t.match(without.stderr, /^error: failed gRPC health check of localhost:\d+ \(127\.0\.0\.1\): tls: the server requires a client certificate\n$/);
  const json = await runAgent(['--json', '--check', `grpcs://localhost:${server.port}`, '--ca-file', certs.caFile]);
  t.match(JSON.parse(json.stdout), { checks: [{ lastError: { code: 'grpc-tls', exitCode: 5 } }] }, 'the native report says grpc-tls, and keeps its exit 5');
  const expired = await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`, `-tls-client-cert=${certs.expired.cert}`, `-tls-client-key=${certs.expired.key}`]);
  t.equal(expired.code, 2, 'an expired client certificate is a TLS failure, not an invalid argument');
  t.match(expired.stderr, new RegExp(`tls: client certificate '${certs.expired.cert}': certificate expired on 2020-01-02T00:00:00\\.000Z\\n$`));
  const good = await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`, `-tls-client-cert=${certs.client.cert}`, `-tls-client-key=${certs.client.key}`]);
  t.equal(good.code, 0);
});

t.test('metadata: gRPC headers dropped as grpc-go drops them, -bin values base64 on the wire', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 } });
  const addr = `-addr=127.0.0.1:${server.port}`;
  const reserved = ['content-type', 'user-agent', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-status', 'grpc-message', 'Content-Type'].map((key) => `-rpc-header=${key}: x`);
  const ended = await runAgent([addr, ...reserved, '-rpc-header=grpc-foo: sent', '-rpc-header=x-trace-bin: hello', '-rpc-header=x-a:   left only']);
  t.same([ended.code, ended.stderr], [0, 'status: SERVING\n']);
  const headers = server.asked[0]?.headers ?? {};
  t.equal(headers['content-type'], 'application/grpc');
  t.equal(headers.te, 'trailers');
  t.match(headers['grpc-timeout'], /^\d+m$/);
  t.equal(headers['grpc-foo'], 'sent', 'a grpc- key of no meaning to gRPC is metadata');
  t.equal(headers['x-trace-bin'], 'aGVsbG8', 'base64 of "hello", unpadded');
  t.equal(Buffer.from(String(headers['x-trace-bin']), 'base64').toString(), 'hello');
  t.equal(headers['x-a'], 'left only', 'trimmed on the left');
});

t.test("targets grpc-go dials: unix:///path, unix:path, dns:///host:port, passthrough:///host:port", async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'health.sock');
  const unix = await grpcHealthServer(t, { '': { serving: 1 }, down: { serving: 2 } }, undefined, socket);
  const tcp = await grpcHealthServer(t, { '': { serving: 1 } });
  for (const addr of [`unix://${socket}`, `unix:${socket}`, `dns:///localhost:${tcp.port}`, `passthrough:///127.0.0.1:${tcp.port}`]) {
    const ended = await runAgent([`-addr=${addr}`]);
    t.same([ended.code, ended.stderr], [0, 'status: SERVING\n'], addr);
  }
  t.equal(unix.asked[0]?.headers[':authority'], 'localhost', "a Unix socket's peer is localhost, as grpc-go names it");
  const down = await runAgent([`-addr=unix://${socket}`, '-service=down']);
  t.equal(down.code, 4);
  t.match(down.stderr, new RegExp(`^service unhealthy: failed gRPC health check of unix://${socket} for service "down": status NOT_SERVING`));
  const missing = await runAgent([`-addr=unix://${dir}/missing.sock`]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /: connect: ENOENT|no such file/);
});

t.test('-gzip, -version, -v, a stray argument, -spiffe, -alts', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 } });
  const addr = `-addr=127.0.0.1:${server.port}`;
  const gzip = await runAgent([addr, '-gzip']);
  t.same([gzip.code, gzip.stderr], [0, 'status: SERVING\n']);
  t.equal(server.asked[0]?.headers['grpc-encoding'], 'gzip', 'the request was compressed');
  const version = await runAgent(['-version']);
  t.same([version.code, version.stdout], [0, `lifeguard-healthcheck ${VERSION} (grpc-health-probe dialect)\n`]);
  const verbose = await runAgent([addr, '-v', '-rpc-header=x-a: 1']);
  t.equal(verbose.code, 0);
  t.match(verbose.stderr, /^parsed options:\n> addr=127\.0\.0\.1:\d+ conn_timeout=1000ms rpc_timeout=1000ms\n> headers: x-a: 1\n> tls=false\nstatus: SERVING\n$/);
  const stray = await runAgent([addr, 'extra', '-bogus']);
  t.same([stray.code, stray.stderr], [0, 'status: SERVING\n'], "Go's flag package stops at the first non-flag; the rest is ignored there");
  const spiffe = await runAgent([addr, '-spiffe']);
  t.equal(spiffe.code, 20);
  t.match(spiffe.stderr, /^failed to initialize tls credentials with spiffe: [^\n]+\n$/);
  const alts = await runAgent([addr, '-alts']);
  t.equal(alts.code, 2);
  t.match(alts.stderr, /^error: failed to connect service at "127\.0\.0\.1:\d+": -alts: [^\n]+\n$/);
});
