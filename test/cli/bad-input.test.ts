// Bad input in either dialect: exit 2, nothing on stdout, and exactly one line on stderr naming the flag
// and the value, never a stack trace. Parsing fails before any check; the runs are isolated in an empty
// network namespace anyway (when root), so that a parser that let a value through cannot reach the network.
import t from 'tap';
import { runAgentIsolated } from '../helpers/netns.js';

/** argv, and a fragment the one line must hold (the flag and the value as written). */
const CASES: readonly (readonly [readonly string[], string])[] = [
  [['--port', '0'], "invalid --port '0'"],
  [['--port', '65536'], "invalid --port '65536'"],
  [['--port', '-1'], "invalid --port '-1'"],
  [['--port=abc'], "invalid --port 'abc'"],
  [['--port', '80.5'], "invalid --port '80.5'"],
  [[], "invalid $PORT 'abc'"], // with PORT=abc below
  [['--timeout', '1x'], "invalid --timeout '1x'"],
  [['--timeout', '5'], "invalid --timeout '5'"],
  [['--interval', '-1s'], "invalid --interval '-1s'"],
  [['--startup-timeout', ''], "invalid --startup-timeout ''"],
  [['--initial-delay', '2 s'], "invalid --initial-delay '2 s'"],
  [['--failure-threshold', '0'], "invalid --failure-threshold '0'"],
  [['--mode', 'sometimes'], "invalid --mode 'sometimes'"],
  [['--mode', 'constructor'], "invalid --mode 'constructor'"],
  [['--frobnicate'], "unknown option '--frobnicate'"],
  [['--prot', '80'], "unknown option '--prot'"],
  [['--port'], "option '--port <port>' argument missing"],
  [['extra'], 'too many arguments'],
  [['--check', 'tcp://:0'], "invalid --check 'tcp://:0'"],
  [['--check', 'tcp://local_host!:80'], "invalid --check 'tcp://local_host!:80'"],
  [['--check', 'grpc://:'], "invalid --check 'grpc://:'"],
  [['--check', 'grpc://localhost/svc'], "invalid --check 'grpc://localhost/svc'"],
  [['--check', 'grpcs://:443/a b'], "invalid --check 'grpcs://:443/a b'"],
  [['--check', 'udp://:53'], "invalid --check 'udp://:53'"],
  [['--check', 'tcp://:5432/path'], "invalid --check 'tcp://:5432/path'"],
  [['--check', 'http://[::1:80/'], "invalid --check 'http://[::1:80/'"],
  [['--check', '127.0.0.1:80'], "invalid --check '127.0.0.1:80'"],
  [['--header', 'NoColonHere'], "invalid --header 'NoColonHere'"],
  [['--header', 'X-A: a\r\nX-Injected: 1'], "invalid --header 'X-A: a"],
  [['--header', 'X-A: a\u0001b'], "invalid --header 'X-A: a\\u0001b'"],
  [['--uri', 'health'], "invalid --uri 'health'"],
  [['--host', 'exa mple.com'], "invalid --host 'exa mple.com'"],
  [['--host', '999.1.1.1'], "invalid --host '999.1.1.1'"],
  [['--host', '[localhost]'], "invalid --host '[localhost]'"],
  [['--method', 'POST', '--uri', '/'], "invalid --method 'POST'"],
  [['--uri', '/', '--expect-body-regex', '(unclosed'], "invalid --expect-body-regex '(unclosed'"],
  [['--uri', '/', '--expect-body', 'a', '--expect-body-regex', 'b'], '--expect-body and --expect-body-regex cannot be combined'],
  [['--uri', '/', '--method', 'HEAD', '--expect-body', 'ok'], '--expect-body needs --method GET'],
  [['--uri', '/', '--expect-header', 'NoColon'], "invalid --expect-header 'NoColon'"],
  [['--uri', '/', '--expect-header', 'X-A: ['], "invalid --expect-header 'X-A: ['"],
  [['--expect-body', 'ok'], '--expect-body, --expect-body-regex and --expect-header need an HTTP check'],
  [['--check', 'https://:8443/', '--ca-file', '/nonexistent/ca.pem'], "invalid --ca-file '/nonexistent/ca.pem': expected a readable file (ENOENT)"],
  [['--check', 'https://:8443/', '--client-cert', '/etc/hostname'], '--client-cert and --client-key go together'],
  [['--check', 'https://:8443/', '--server-name', 'a b'], "invalid --server-name 'a b'"],
  [['--tls-skip-verify'], 'TLS options given, but no https:// or grpcs:// check'],
  [['--mode=liveness', '--', 'true'], 'a command after -- needs --mode=readiness, until-ready or once'],
  [['--mode=readiness', '--'], 'expected a command after --'],
  [['-port=8080', '--', 'true'], 'a command after -- needs the native flags'],
  [['--expect-status', '2xx'], "invalid --expect-status '2xx'"],
  [['--heartbeat-fd', '99'], "invalid --heartbeat-fd '99'"],
  [['--mode', 'readiness', '--mode', 'liveness'], "--mode given more than once ('readiness', then 'liveness')"],
  [['--definition', '/nonexistent/checks.json'], "invalid --definition '/nonexistent/checks.json': cannot read it (ENOENT)"],
  [['--definition', '/'], "invalid --definition '/': cannot read it (EISDIR)"],
  // The Cloud Foundry dialect, where it refuses what that binary accepts (what Go's flag package refuses, it refuses
  // in Go's words, followed by the usage: cf-flags.test.ts)
  [['-timeout=0s'], "invalid -timeout '0s': expected a duration above 0"],
  [['-timeout=-1s'], "invalid -timeout '-1s': expected a duration above 0"],
  [['-uri=health'], "invalid -uri 'health'"],
  [['-network=udp'], "invalid -network 'udp'"],
  [['-port=8080', 'extra'], "unexpected argument 'extra'"],
  [['-port=1', '-port=2'], "flag given more than once: -port ('1', '2')"],
  [['-port=8080', '-external-port'], "invalid CF_INSTANCE_PORTS ''"],
];

for (const [argv, fragment] of CASES) {
  t.test(`${JSON.stringify(argv)}`, async (t) => {
    const ended = await runAgentIsolated(argv, { env: { PORT: argv.length === 0 ? 'abc' : undefined, CF_INSTANCE_PORTS: undefined } });
    t.equal(ended.code, 2, 'exit 2');
    t.equal(ended.stdout, '', 'nothing on stdout');
    t.match(ended.stderr, /^[^\n]+\n$/, 'one line on stderr');
    t.ok(ended.stderr.includes(fragment), `${JSON.stringify(ended.stderr)} holds ${JSON.stringify(fragment)}`);
    t.notMatch(ended.stderr, /\n\s+at /, 'no stack trace');
  });
}
