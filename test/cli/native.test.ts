// The native command line end to end: the built agent against loopback servers, one row of the exit-code
// table or one mode at a time. Usage errors: bad-input.test.ts; signals: signals.test.ts.
import t, { type Test } from 'tap';
import { VERSION } from '../../src/checks/version.js';
import { blackholePort, closedPort, httpServer, tcpServer } from '../checks/fixtures.js';
import { preloadEnv, readDescriptor, runAgent, startAgent } from '../helpers/agent.js';

const LOOPBACK = ['--host', '127.0.0.1'];

/** An HTTP server answering the i-th request with statuses[i] (the last one from then on); counts requests. */
async function statusServer(t: Test, statuses: readonly number[]): Promise<{ port: number; requests: () => number }> {
  let served = 0;
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = statuses[Math.min(served, statuses.length - 1)]!;
    served += 1;
    res.end();
  });
  return { port, requests: () => served };
}

t.test('exit 0: a passing check is silent', async (t) => {
  const tcp = await tcpServer(t, (socket) => socket.end());
  const http = await statusServer(t, [200]);
  for (const args of [['--port', String(tcp)], ['--port', String(http.port), '--uri', '/health']]) {
    const ended = await runAgent([...LOOPBACK, ...args]);
    t.same([ended.code, ended.stdout, ended.stderr], [0, '', ''], args.join(' '));
  }
});

t.test('exit 4: TCP refused, reported on stdout', async (t) => {
  const port = await closedPort();
  const ended = await runAgent([...LOOPBACK, '--port', String(port)]);
  t.equal(ended.code, 4);
  t.equal(ended.stderr, '');
  const [summary, line, ...rest] = ended.stdout.split('\n');
  t.match(summary, /^once failed after \d+\.\d\ds \(1 attempt\): 1 of 1 check failed$/);
  t.equal(line, `failed to make TCP connection to 127.0.0.1:${port}: connect: connection refused`);
  t.same(rest, [''], 'nothing more');
});

t.test('exit 5: HTTP connection-level failures give the real reason', async (t) => {
  const refused = await closedPort();
  const ended = await runAgent([...LOOPBACK, '--port', String(refused), '--uri', '/health']);
  t.equal(ended.code, 5);
  t.match(ended.stdout, `failed to make HTTP request to '/health' on 127.0.0.1:${refused}: connect: connection refused\n`);
  const banner = await tcpServer(t, (socket) => socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
  const ssh = await runAgent([...LOOPBACK, '--port', String(banner), '--uri', '/health']);
  t.equal(ssh.code, 5);
  t.match(ssh.stdout, `failed to make HTTP request to '/health' on 127.0.0.1:${banner}: `);
  t.notMatch(ssh.stdout, /connection refused/, 'not "connection refused" for every HTTP error');
});

t.test('exit 6: unexpected status; --expect-status widens what passes', async (t) => {
  const server = await statusServer(t, [304]);
  const args = [...LOOPBACK, '--port', String(server.port), '--uri', '/health'];
  const ended = await runAgent(args);
  t.equal(ended.code, 6);
  t.match(ended.stdout, new RegExp(`failed to make HTTP request to '/health' on 127.0.0.1:${server.port}: received status code 304 in \\d+ms\\n`));
  t.equal((await runAgent([...args, '--expect-status', '200-299,304'])).code, 0);
});

t.test('exit 64: TCP timeout', async (t) => {
  const port = await blackholePort(t);
  const ended = await runAgent([...LOOPBACK, '--port', String(port), '--timeout', '500ms']);
  t.equal(ended.code, 64);
  t.match(ended.stdout, `failed to make TCP connection to 127.0.0.1:${port}: timed out after 0.50 seconds\n`);
});

t.test('exit 65: HTTP timeout (accepted, never answered)', async (t) => {
  const port = await tcpServer(t, () => {});
  const ended = await runAgent([...LOOPBACK, '--port', String(port), '--uri', '/slow', '--timeout', '500ms']);
  t.equal(ended.code, 65);
  t.match(ended.stdout, `failed to make HTTP request to '/slow' on 127.0.0.1:${port}: timed out after 0.50 seconds\n`);
});

t.test('exit 127: an internal error is one line on stderr, no stack trace', async (t) => {
  const dir = t.testdir({ 'break.cjs': "require('os').networkInterfaces = () => { throw new Error('boom\\n  at nowhere'); };" });
  const ended = await runAgent(['--port', '8080'], { env: preloadEnv(`${dir}/break.cjs`) });
  t.equal(ended.code, 127);
  t.equal(ended.stderr, 'unexpected error: boom\n');
  t.equal(ended.stdout, '');
});

t.test('readiness: exits 0 once the check has passed, silently', async (t) => {
  const server = await statusServer(t, [503, 503, 503, 200]);
  const ended = await runAgent([...LOOPBACK, '--port', String(server.port), '--uri', '/', '--mode', 'readiness', '--interval', '100ms']);
  t.same([ended.code, ended.stdout], [0, '']);
  t.equal(server.requests(), 4, 'checked until it passed, then stopped');
});

t.test('readiness: the startup timeout reports the last failure of each check that never passed', async (t) => {
  const server = await statusServer(t, [503]);
  const ended = await runAgent([
    ...LOOPBACK, '--port', String(server.port), '--uri', '/', '--mode', 'startup', '--interval', '200ms', '--startup-timeout', '1s',
  ]);
  t.equal(ended.code, 6);
  t.match(ended.stdout, /^readiness timed out after 1\.\d\ds \(\d+ attempts\): 1 of 1 check never passed\n/);
  t.ok(ended.elapsedMs >= 1000, 'not before the timeout');
  t.ok(server.requests() >= 3, `checked every interval (${server.requests()} requests)`);
});

t.test('readiness: a timeout with no attempt finished exits with the timeout code', async (t) => {
  const port = await blackholePort(t);
  const ended = await runAgent([...LOOPBACK, '--port', String(port), '--mode', 'starting', '--timeout', '20s', '--startup-timeout', '1s']);
  t.equal(ended.code, 64);
  t.match(ended.stdout, /readiness timed out after 1\.\d\ds \(0 attempts\)/);
  t.ok(ended.elapsedMs < 10_000, 'the startup timeout cuts the attempt short');
});

t.test('until-ready: no overall timeout and nothing said on failures', async (t) => {
  const server = await statusServer(t, [503, 503, 503, 503, 503, 503, 200]);
  const ended = await runAgent([
    ...LOOPBACK, '--port', String(server.port), '--uri', '/', '--mode', 'until-ready', '--interval', '100ms', '--startup-timeout', '200ms',
  ]);
  t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
  t.equal(server.requests(), 7);
});

t.test('liveness: runs until a check fails, then reports it', async (t) => {
  const server = await statusServer(t, [200, 200, 200, 500]);
  const ended = await runAgent([...LOOPBACK, '--port', String(server.port), '--uri', '/', '--mode', 'running', '--interval', '100ms']);
  t.equal(ended.code, 6);
  t.match(ended.stdout, /^liveness failed after \d+\.\d\ds \(4 attempts\): 1 of 1 check failing\n.*received status code 500/);
  t.equal(server.requests(), 4);
});

t.test('liveness: --failure-threshold counts failures in a row', async (t) => {
  const server = await statusServer(t, [200, 500, 500, 200, 500, 500, 500, 200]);
  const ended = await runAgent([
    ...LOOPBACK, '--port', String(server.port), '--uri', '/', '--mode', 'liveness', '--interval', '100ms', '--failure-threshold', '3',
  ]);
  t.equal(ended.code, 6);
  t.equal(server.requests(), 7, 'two failures in a row were tolerated, the third in a row was not');
});

t.test('--initial-delay: nothing is checked before it', async (t) => {
  let firstAt = 0;
  const began = performance.now();
  const port = await tcpServer(t, (socket) => {
    firstAt ||= performance.now() - began;
    socket.end();
  });
  const ended = await runAgent([...LOOPBACK, '--port', String(port), '--initial-delay', '1s']);
  t.equal(ended.code, 0);
  t.ok(firstAt >= 1000, `first check after ${Math.round(firstAt)}ms`);
});

t.test('several checks: readiness needs each to pass once; a report names only the failing ones', async (t) => {
  const tcp = await tcpServer(t, (socket) => socket.end());
  const http = await statusServer(t, [503, 503, 200]);
  const ready = await runAgent([
    '--check', `tcp://127.0.0.1:${tcp}`, '--check', `http://127.0.0.1:${http.port}/ready`, '--mode', 'readiness', '--interval', '100ms',
  ]);
  t.same([ready.code, ready.stdout], [0, '']);
  t.equal(http.requests(), 3);

  const refused = await closedPort();
  const once = await runAgent(['--host', '127.0.0.1', '--check', `tcp://:${tcp}`, '--check', `tcp://:${refused}`]);
  t.equal(once.code, 4);
  const lines = once.stdout.trimEnd().split('\n');
  t.match(lines[0], /1 of 2 checks failed$/);
  t.same(lines.slice(1), [`failed to make TCP connection to 127.0.0.1:${refused}: connect: connection refused`]);
});

t.test('--json replaces the report with one object', async (t) => {
  const refused = await closedPort();
  const ended = await runAgent([...LOOPBACK, '--port', String(refused), '--json']);
  t.equal(ended.code, 4);
  t.equal(ended.stdout.trimEnd().split('\n').length, 1, 'one line');
  const report = JSON.parse(ended.stdout);
  t.match(report, {
    mode: 'once',
    passed: false,
    exitCode: 4,
    elapsedMs: Number,
    attempts: 1,
    checks: [{ target: `tcp://127.0.0.1:${refused}`, kind: 'tcp', passed: false, lastError: { exitCode: 4 }, lastLatencyMs: Number }],
  });
  const server = await statusServer(t, [200]);
  const passed = JSON.parse((await runAgent([...LOOPBACK, '--port', String(server.port), '--uri', '/', '--json'])).stdout);
  t.match(passed, { passed: true, exitCode: 0, checks: [{ passed: true, lastError: null }] }, 'said on success too');
});

const noIpv6 = await closedPort('::1').then(
  () => false,
  () => 'no IPv6 loopback here',
);

t.test('IPv6: --host ::1', { skip: noIpv6 }, async (t) => {
  const port = await tcpServer(t, (socket) => socket.end(), '::1');
  t.equal((await runAgent(['--host', '::1', '--port', String(port)])).code, 0);
  const refused = await closedPort('::1');
  const ended = await runAgent(['--check', `tcp://[::1]:${refused}`]);
  t.equal(ended.code, 4);
  t.match(ended.stdout, `failed to make TCP connection to [::1]:${refused}: connect: connection refused`);
});

t.test('$PORT is the default port', async (t) => {
  const port = await tcpServer(t, (socket) => socket.end());
  t.equal((await runAgent(LOOPBACK, { env: { PORT: String(port) } })).code, 0);
});

t.test('--heartbeat-fd: a booted line, then one JSON line per completed round on the inherited descriptor', async (t) => {
  const port = await tcpServer(t, (socket) => socket.end());
  const agent = startAgent([...LOOPBACK, '--port', String(port), '--mode', 'liveness', '--interval', '100ms', '--heartbeat-fd', '3'], {
    extraStdio: ['pipe'],
  });
  t.teardown(() => agent.child.kill('SIGKILL'));
  const text = await readDescriptor(agent, 3, (sofar) => sofar.split('\n').length > 4); // four complete lines
  agent.child.kill('SIGTERM');
  const lines = text.split('\n').slice(0, 4).map((line) => JSON.parse(line));
  t.match(lines, [{ booted: true }, { attempt: 1, passed: true, elapsedMs: Number, latencyMs: Number }, { attempt: 2, passed: true }, { attempt: 3, passed: true }]);
  t.equal((await agent.ended).code, 143);
});

t.test('--help and --version', async (t) => {
  const help = await runAgent(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: healthcheck[\s\S]*--mode[\s\S]*--definition[\s\S]*Exit codes/);
  const version = await runAgent(['--version']);
  t.same([version.code, version.stdout], [0, `${VERSION}\n`]);
});
