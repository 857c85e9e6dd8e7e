// A readiness gate: `healthcheck --mode=readiness --check ... -- command args` runs the command once every check
// has passed, with the agent's stdio, passes signals on to it, and ends as it ended; when the checks do not pass
// the command never runs and the agent exits with the check's code. Real processes, real signals, through the
// built agent (npm run build).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { closedPort, tcpServer } from '../checks/fixtures.js';
import { runAgent, startAgent } from '../helpers/agent.js';
import { listeningPorts } from '../helpers/listening.js';
import { tempDir } from '../helpers/temp-dir.js';

t.test('the checks pass: the command runs with its arguments and stdio, and its exit status is the agent\'s', async (t) => {
  const port = await tcpServer(t, () => {});
  const ended = await runAgent(['--mode=readiness', '--check', `tcp://127.0.0.1:${port}`, '--', 'sh', '-c', 'echo "ran $1 $2"; echo oops >&2; exit 7', 'sh', '-port=1', '--x']);
  t.same([ended.code, ended.signal], [7, null]);
  t.equal(ended.stdout, 'ran -port=1 --x\n');
  t.equal(ended.stderr, 'oops\n');
});

t.test('the checks fail: the command never runs, the exit code is the check\'s', async (t) => {
  const dir = tempDir(t);
  const marker = join(dir, 'ran');
  const port = await closedPort();
  const once = await runAgent(['--check', `tcp://127.0.0.1:${port}`, '--', 'touch', marker]);
  t.equal(once.code, 4);
  t.match(once.stdout, /connection refused/);
  const readiness = await runAgent(['--mode=readiness', '--interval=50ms', '--startup-timeout=300ms', '--check', `tcp://127.0.0.1:${port}`, '--', 'touch', marker]);
  t.equal(readiness.code, 4);
  t.equal(existsSync(marker), false, 'never ran');
});

t.test('readiness waits for the check, then runs the command', async (t) => {
  const dir = tempDir(t);
  const marker = join(dir, 'ran');
  const port = await closedPort();
  const agent = startAgent(['--mode=readiness', '--interval=50ms', '--check', `tcp://127.0.0.1:${port}`, '--', 'sh', '-c', `touch ${marker}`]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(existsSync(marker), false, 'not yet: the check has not passed');
  // The port the agent polls now gets a listener.
  const { createServer } = await import('node:net');
  const server = createServer((socket) => socket.destroy()).listen(port, '127.0.0.1');
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const ended = await agent.ended;
  t.equal(ended.code, 0);
  t.equal(existsSync(marker), true, 'ran once the check passed');
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const) {
  t.test(`${signal} to the agent reaches the command once; its exit is the agent's`, async (t) => {
    const port = await tcpServer(t, () => {});
    // The command traps the signal, says so and exits 42 half a second later; it counts how often the trap ran.
    const name = signal.slice(3);
    const script = `n=0; trap 'n=$((n+1)); echo "got ${name} $n"; sleep 0.5; exit 42' ${name}; echo ready; while :; do sleep 0.05; done`;
    const agent = startAgent(['--check', `tcp://127.0.0.1:${port}`, '--', 'sh', '-c', script]);
    t.teardown(() => agent.child.kill('SIGKILL'));
    let said = '';
    agent.child.stdout?.on('data', (text: string) => (said += text));
    await waitFor(() => said.includes('ready'));
    agent.child.kill(signal);
    await waitFor(() => said.includes('got'));
    // Node opens its inspector on a SIGUSR1 that finds no listener; the agent forwards it instead and opens nothing.
    t.same(listeningPorts(agent.child.pid!), [], 'the agent listens on nothing');
    const ended = await agent.ended;
    t.same([ended.code, ended.signal], [42, null]);
    t.equal(ended.stdout, `ready\ngot ${name} 1\n`, 'delivered once');
    t.notMatch(ended.stderr, /Debugger|inspector/, 'no debugger');
  });
}

// The command signals the agent the moment it starts: the signal meets the agent between spawn(2) and the
// forwarding (where a SIGUSR1 once opened Node's inspector, and the command waited for ever). It must reach the
// command, once, whenever it comes.
t.test('a signal sent while the command is being started reaches it once', async (t) => {
  const port = await tcpServer(t, () => {});
  for (const signal of ['USR1', 'TERM'] as const) {
    const script = `n=0; trap 'n=$((n+1)); echo "got $n"; exit 42' ${signal}; kill -${signal} $PPID; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo never`;
    const ended = await runAgent(['--check', `tcp://127.0.0.1:${port}`, '--', 'sh', '-c', script]);
    t.same([ended.code, ended.signal, ended.stdout], [42, null, 'got 1\n'], `SIG${signal}`);
    t.notMatch(ended.stderr, /Debugger|inspector/, 'no debugger');
  }
});

t.test('a command killed by a signal: the agent ends by the same signal, as after an exec', async (t) => {
  const port = await tcpServer(t, () => {});
  const ended = await runAgent(['--check', `tcp://127.0.0.1:${port}`, '--', 'sh', '-c', 'kill -TERM $$']);
  t.same([ended.code, ended.signal], [null, 'SIGTERM']);
});

t.test('a command that cannot be run: 127 not found, 126 not executable, one line', async (t) => {
  const port = await tcpServer(t, () => {});
  const missing = await runAgent(['--check', `tcp://127.0.0.1:${port}`, '--', './no-such-server']);
  t.equal(missing.code, 127);
  t.equal(missing.stderr, 'cannot run "./no-such-server": no such file or directory (or not on PATH)\n');
  const dir = tempDir(t);
  const denied = await runAgent(['--check', `tcp://127.0.0.1:${port}`, '--', dir]);
  t.equal(denied.code, 126);
  t.match(denied.stderr, /^cannot run ".*": permission denied\n$/);
});

t.test('--json is written before the command runs', async (t) => {
  const port = await tcpServer(t, () => {});
  const ended = await runAgent(['--json', '--check', `tcp://127.0.0.1:${port}`, '--', 'echo', 'after']);
  t.equal(ended.code, 0);
  const [report, after] = ended.stdout.split('\n');
  t.match(JSON.parse(report ?? ''), { passed: true, exitCode: 0 });
  t.equal(after, 'after');
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition never held');
}
