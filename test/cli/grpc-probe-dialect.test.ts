// grpc-health-probe's command line and exit codes, end to end through the built agent against real gRPC health
// servers on loopback: 0 serving, 1 invalid arguments, 2 connection failure, 3 RPC failure, 4 not serving,
// 20 TLS failure.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { GRPC_HEALTH_PATH } from '../../src/checks/types.js';
import { parseGrpcProbeArgs } from '../../src/cli/grpc-probe-dialect.js';
import { closedPort, tcpServer } from '../checks/fixtures.js';
import { runAgent } from '../helpers/agent.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { makeCerts, tlsSkip } from '../helpers/tls.js';

t.test('parsed as grpc-health-probe parses it', async (t) => {
  const invocation = await parseGrpcProbeArgs(
    ['-addr=localhost:50051', '--service', 'shop.Cart', '-connect-timeout=250ms', '-rpc-timeout', '2s', '-user-agent=kubelet', '-rpc-header=X-A: 1', '-rpc-header', 'X-B: 2', '-tls', '-tls-no-verify=true', '-tls-server-name=api.internal'],
    {},
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
      userAgent: 'kubelet',
      metadata: [['X-A', '1'], ['X-B', '2']],
      tls: { skipVerify: true, serverName: 'api.internal' },
    },
  ]);
  t.equal(invocation.options.mode, 'once');
  const defaults = await parseGrpcProbeArgs(['-addr=:50051'], {});
  t.match(defaults.kind === 'run' && defaults.options.checks[0], { host: 'localhost', timeoutMs: 2000, userAgent: 'grpc_health_probe', service: '' });
});

t.test('its exit codes, against real servers', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 }, down: { serving: 2 }, silent: 'never', broken: { grpcStatus: 13, message: 'boom' } });
  const addr = `-addr=127.0.0.1:${server.port}`;
  const serving = await runAgent([addr]);
  t.same([serving.code, serving.stdout, serving.stderr], [0, '', 'status: SERVING\n']);
  t.equal(server.asked[0]?.headers['user-agent'], 'grpc_health_probe');

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

t.test('TLS: 20 when the handshake fails, 0 with the CA', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const server = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) });
  const addr = `-addr=localhost:${server.port}`;
  const unknown = await runAgent([addr, '-tls']);
  t.equal(unknown.code, 20);
  t.match(unknown.stderr, /^error: .*tls: certificate signed by an unknown authority\n$/);
  t.equal((await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`])).code, 0);
  t.equal((await runAgent([addr, '-tls', '-tls-no-verify'])).code, 0);
  const mismatch = await runAgent([addr, '-tls', `-tls-ca-cert=${certs.caFile}`, '-tls-server-name=other.test']);
  t.equal(mismatch.code, 20);
  t.match(mismatch.stderr, /hostname mismatch/);
});

t.test('invalid arguments: exit 1, one line', async (t) => {
  for (const [argv, line] of [
    [['-addr='], 'error: -addr not specified'],
    [['-addr=:1', '-bogus'], 'error: flag provided but not defined: -bogus'],
    [['-addr=:1', '-service'], 'error: flag needs an argument: -service'],
    [['-addr=:1', '-connect-timeout=0'], 'error: -connect-timeout must be greater than zero (specified: 0)'],
    [['-addr=:1', '-rpc-timeout=5'], "error: invalid -rpc-timeout '5': expected a duration such as 500ms, 2s or 1m30s"],
    [['-addr=:1', '-tls-no-verify'], 'error: specified -tls-no-verify without specifying -tls'],
    [['-addr=:1', '-tls-ca-cert=/x'], 'error: specified -tls-ca-cert without specifying -tls'],
    [['-addr=:1', '-tls', '-tls-client-cert=/x'], 'error: specified one of -tls-client-cert or -tls-client-key, but not both'],
    [['-addr=:1', '-tls=maybe'], 'error: invalid boolean value "maybe" for -tls: parse error'],
    [['-addr=unix:///tmp/s'], 'error: -addr "unix:///tmp/s": expected host:port'],
    [['-addr=:1', 'extra'], 'error: unexpected argument "extra"'],
    [['-addr=:1', '-rpc-header=NoColon'], "error: invalid -rpc-header 'NoColon'"],
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
