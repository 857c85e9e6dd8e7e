// Random agent command lines in both dialects, built from the real flags (so that most vectors get past the flag
// names and reach the value parsers) mixed with junk. `bounded` keeps every value that sets how long a run may
// last short and finite, for vectors that are spawned and must end on their own.
import fc from 'fast-check';

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', ' ', '-', '--', '=', '0', '-1', '1e3', 'NaN', '0x10', '65536', '99999999999999999999', '\u0000', '../', '%n', '$(id)', ';rm'),
);
const duration = (bounded: boolean) =>
  bounded
    ? fc.constantFrom('1ms', '50ms', '100ms', '0.1s', '200ms')
    : fc.oneof(fc.constantFrom('0', '1', '1ms', '2s', '1m30s', '1h', '-1s', '2562047h', '1.5.5s', 's', '100'), junk);
const port = fc.oneof(fc.integer({ min: -2, max: 70_000 }).map(String), junk);
// Names only of loopback (or none at all): a vector must never make the agent ask a DNS server.
const host = fc.constantFrom('127.0.0.1', '::1', '[::1]', 'localhost', '127.0.0.1:80', '', '256.0.0.1', '1.2.3', '[localhost]', 'a b', 'local_host!');
const file = fc.constantFrom('/nonexistent.pem', '/dev/null', '/etc/hostname', '/', '');
const path = fc.oneof(fc.constantFrom('/', '/health', '/a b', 'health', '/%zz', '/?q=1#f'), junk);
const status = fc.constantFrom('200', '200-299,304', '299-200', '600', 'x', '', '200,', '1-999');

function native(bounded: boolean): fc.Arbitrary<string[]> {
  const mode = bounded ? fc.constantFrom('readiness', 'starting', 'startup', 'liveness', 'running', 'once', 'bogus') : fc.oneof(fc.constantFrom('readiness', 'liveness', 'until-ready', 'once'), junk);
  const flag = fc.oneof(
    mode.map((v) => ['--mode', v]),
    port.map((v) => ['--port', v]),
    path.map((v) => ['--uri', v]),
    host.map((v) => ['--host', v]),
    duration(bounded).map((v) => [`--timeout=${v}`]),
    duration(bounded).map((v) => ['--interval', v]),
    duration(bounded).map((v) => [`--startup-timeout=${v}`]),
    duration(bounded).map((v) => ['--initial-delay', v]),
    fc.oneof(fc.constantFrom('1', '2', '0', '-1'), junk).map((v) => ['--failure-threshold', v]),
    status.map((v) => ['--expect-status', v]),
    fc.oneof(fc.constantFrom('X-A: b', 'bad', ': v', 'A:\r\nB: c'), junk).map((v) => ['--header', v]),
    fc.constantFrom(['--follow-redirects'], ['--json'], ['--help'], ['--version'], ['-h'], ['-V']),
    fc.oneof(
      fc.constantFrom(
        'tcp://:1', 'http://:1/x', 'http://127.0.0.1:1/', 'udp://:1', 'tcp://[::1]:1', 'http://:0/', 'https://localhost:1/',
        'https://:1', 'grpc://127.0.0.1:1', 'grpc://localhost:1/svc', 'grpcs://[::1]:1/a.B', 'grpc://:1/a b', 'grpc://localhost', 'tcp://localhost:1',
      ),
      junk,
    ).map((v) => ['--check', v]),
    fc.constantFrom(['--tls-skip-verify'], ['--method', 'GET'], ['--method', 'HEAD'], ['--method', 'POST']),
    file.map((v) => ['--ca-file', v]),
    file.map((v) => ['--client-cert', v]),
    file.map((v) => ['--client-key', v]),
    fc.oneof(host, junk).map((v) => ['--server-name', v]),
    fc.oneof(fc.constantFrom('ok', '', '"status"'), junk).map((v) => ['--expect-body', v]),
    fc.oneof(fc.constantFrom('^ok$', '(', '[a-', '.*'), junk).map((v) => ['--expect-body-regex', v]),
    fc.oneof(fc.constantFrom('Content-Type: ^text/', 'X: (', 'NoColon', ': x'), junk).map((v) => ['--expect-header', v]),
    // A command after --: bounded vectors run it only if every check passes, which no check in an empty
    // network namespace does; `true` is harmless should one.
    fc.constantFrom(['--', 'true'], ['--'], ['--', ''], ['--', '-port=1']),
    fc.constantFrom('/nonexistent.json', '/dev/null', '/etc/hostname', '/').map((v) => ['--definition', v]),
    fc.oneof(fc.constantFrom('1', '2', '999', '-1'), junk).map((v) => ['--heartbeat-fd', v]),
    junk.map((v) => [v]),
    junk.map((v) => [`--${v}`]),
  );
  return fc.array(flag, { maxLength: 7 }).map((flags) => flags.flat());
}

function cf(bounded: boolean): fc.Arbitrary<string[]> {
  const names = ['network', 'uri', 'port', 'timeout', 'startup-interval', 'startup-timeout', 'liveness-interval', 'readiness-interval'];
  if (!bounded) names.push('until-ready-interval');
  const value = (name: string) =>
    name.endsWith('interval') || name.endsWith('timeout') ? duration(bounded) : name === 'port' ? port : name === 'uri' ? path : fc.oneof(fc.constantFrom('tcp', 'tcp4', 'udp'), junk);
  const flag = fc.oneof(
    ...names.map((name) =>
      fc.tuple(value(name), fc.constantFrom('-', '--'), fc.boolean()).map(([v, dash, joined]) => (joined ? [`${dash}${name}=${v}`] : [`${dash}${name}`, v])),
    ),
    fc.constantFrom(['-h'], ['-help'], ['-port'], ['-bogus=1'], ['-uri']),
    junk.map((v) => [v]),
    junk.map((v) => [`-${v}`]),
  );
  // A first single-dash long flag makes sure the vector is read in the Cloud Foundry dialect.
  return fc.tuple(port, fc.array(flag, { maxLength: 7 })).map(([p, flags]) => [`-port=${p}`, ...flags.flat()]);
}

function grpcProbe(bounded: boolean): fc.Arbitrary<string[]> {
  const addr = fc.oneof(fc.constantFrom(':1', '127.0.0.1:1', 'localhost:1', '[::1]:1', '', 'unix:///x', 'localhost', ':0', ':70000'), junk);
  const flag = fc.oneof(
    fc.oneof(fc.constantFrom('', 'a.B', 'grpc.health.v1.Health'), junk).map((v) => [`-service=${v}`]),
    duration(bounded).map((v) => [`-connect-timeout=${v}`]),
    duration(bounded).map((v) => ['-rpc-timeout', v]),
    fc.constantFrom(['-tls'], ['-tls=false'], ['-tls=maybe'], ['-tls-no-verify'], ['--tls']),
    file.map((v) => [`-tls-ca-cert=${v}`]),
    file.map((v) => [`-tls-client-cert=${v}`]),
    file.map((v) => [`-tls-client-key=${v}`]),
    fc.oneof(host, junk).map((v) => [`-tls-server-name=${v}`]),
    fc.oneof(fc.constantFrom('kubelet', ''), junk).map((v) => [`-user-agent=${v}`]),
    fc.oneof(fc.constantFrom('X-A: 1', 'NoColon', 'te: x'), junk).map((v) => ['-rpc-header', v]),
    fc.constantFrom(['-h'], ['-bogus'], ['-service']),
    junk.map((v) => [v]),
  );
  // -addr marks the dialect.
  return fc.tuple(addr, fc.array(flag, { maxLength: 6 })).map(([a, flags]) => [`-addr=${a}`, ...flags.flat()]);
}

export function agentArgv(bounded: boolean): fc.Arbitrary<string[]> {
  return fc.oneof(native(bounded), cf(bounded), grpcProbe(bounded), fc.array(junk, { maxLength: 6 }));
}
