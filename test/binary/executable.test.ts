// The single executable (dist/healthcheck), as users get it: copied alone into an empty directory and run there
// with a minimal environment (PATH=/usr/bin:/bin, no node_modules, no NODE_OPTIONS), against loopback servers.
// It is built first if it is not current (test/helpers/executable.ts).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { VERSION } from '../../src/checks/version.js';
import { closedPort, httpServer, tcpServer } from '../checks/fixtures.js';
import { run } from '../helpers/agent.js';
import { ensureExecutable } from '../helpers/executable.js';
import { netnsSkip } from '../helpers/netns.js';

const LOOPBACK = ['--host', '127.0.0.1'];

// Building takes a few seconds; give it room.
t.setTimeout(300_000);

const BINARY = ensureExecutable();
const dir = t.testdir({});
const agent = join(dir, 'healthcheck');
copyFileSync(BINARY, agent);
// copyFileSync keeps the mode bits on Linux; be explicit anyway.
spawnSync('chmod', ['755', agent]);

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the copied binary alone in its directory; SIGKILLed after killAfterMs so that a hang fails, not hangs. */
function startAgent(args: readonly string[], killAfterMs = 20_000) {
  const child = spawn(agent, [...args], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const limit = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const ended = new Promise<Ended>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, ended };
}
const runAgent = (args: readonly string[]) => startAgent(args).ended;

/** An HTTP server answering with status(n) for the n-th request (0-based); counts requests. */
async function statusServer(status: (n: number) => number) {
  let served = 0;
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = status(served++);
    res.end();
  });
  return { port, served: () => served };
}

t.test('it is the agent, not a plain node, and needs nothing beside it', async (t) => {
  const version = await runAgent(['--version']);
  t.same([version.code, version.stdout.trim(), version.stderr], [0, VERSION, '']);
  // Run from the empty directory: a stray node_modules or a script file would be found by node, not by a SEA.
  const help = await runAgent(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--mode/);
  t.match(help.stdout, /--port/);
  t.equal(help.stderr, '', 'no experimental-feature warning');
});

t.test('once: passes against a listening port, silently', async (t) => {
  const tcp = await tcpServer(t, (socket) => socket.end());
  const ended = await runAgent([...LOOPBACK, '--port', String(tcp)]);
  t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
  const http = await statusServer(() => 200);
  const viaHttp = await runAgent([...LOOPBACK, '--mode=once', '--port', String(http.port), '--uri', '/health']);
  t.same([viaHttp.code, viaHttp.stdout, viaHttp.stderr], [0, '', '']);
  t.equal(http.served(), 1);
});

t.test('once: fails with the code of the table', async (t) => {
  const port = await closedPort();
  const refused = await runAgent([...LOOPBACK, '--port', String(port)]);
  t.equal(refused.code, 4, 'TCP refused');
  t.match(refused.stdout, `failed to make TCP connection to 127.0.0.1:${port}: connect: connection refused`);

  const http = await statusServer(() => 500);
  const status = await runAgent([...LOOPBACK, '--port', String(http.port), '--uri', '/health']);
  t.equal(status.code, 6, 'HTTP unexpected status');
  t.match(status.stdout, `failed to make HTTP request to '/health' on 127.0.0.1:${http.port}: received status code 500`);

  const usage = await runAgent(['--port', '65536']);
  t.equal(usage.code, 2, 'usage error');
  t.equal(usage.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
});

t.test('readiness: exits 0 once a server appears', async (t) => {
  const port = await closedPort();
  const run = startAgent([...LOOPBACK, '--mode=readiness', '--port', String(port), '--uri', '/ready',
    '--interval', '100ms', '--startup-timeout', '15s']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(run.child.exitCode, null, 'still waiting while nothing listens');
  let served = 0;
  const server: Server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    served++;
    res.end('ok');
  });
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const ended = await run.ended;
  t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
  t.ok(served >= 1, 'it checked the server');
});

t.test('liveness: runs while the app answers, fails when it answers 500', async (t) => {
  const http = await statusServer((n) => (n < 3 ? 200 : 500));
  const ended = await runAgent([...LOOPBACK, '--mode=liveness', '--port', String(http.port), '--uri', '/health',
    '--interval', '100ms']);
  t.equal(ended.code, 6);
  t.equal(http.served(), 4, 'three passing checks, then the failing one');
  t.match(ended.stdout, 'received status code 500');
});

t.test('liveness: fails when the app stops answering', async (t) => {
  let served = 0;
  const server = createServer((_req, res) => {
    served++;
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const run = startAgent([...LOOPBACK, '--mode=liveness', '--port', String(port), '--uri', '/health',
    '--interval', '100ms']);
  for (let i = 0; i < 100 && served < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(served >= 2, 'it was checking');
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  const ended = await run.ended;
  t.equal(ended.code, 5, 'HTTP connection-level failure');
  t.match(ended.stdout, `failed to make HTTP request to '/health' on 127.0.0.1:${port}`);
});

t.test('SIGTERM ends a liveness agent with 128+15', async (t) => {
  const http = await statusServer(() => 200);
  const run = startAgent([...LOOPBACK, '--mode=liveness', '--port', String(http.port), '--uri', '/',
    '--interval', '100ms']);
  for (let i = 0; i < 100 && http.served() < 1; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  run.child.kill('SIGTERM');
  const ended = await run.ended;
  t.equal(ended.code, 143);
});

t.test('--definition works inside the executable (its parser is loaded on demand)', async (t) => {
  const http = await statusServer(() => 200);
  const file = join(dir, 'checks.json');
  writeFileSync(file, JSON.stringify({ checks: [{ http_check: { port: http.port, path: '/health' } }] }));
  const ended = await runAgent([...LOOPBACK, '--definition', file]);
  t.same([ended.code, ended.stdout, ended.stderr], [0, '', '']);
  t.equal(http.served(), 1);
  writeFileSync(file, JSON.stringify({ checks: [{ tcp_check: { port: 0 } }] }));
  const invalid = await runAgent([...LOOPBACK, '--definition', file]);
  t.equal(invalid.code, 2, 'an invalid definition is a usage error');
});

t.test('an agent with no descriptor to spare for listing the interfaces says so, exit 3', { skip: netnsSkip }, async (t) => {
  // getifaddrs opens a netlink socket; under `ulimit -n 5` the executable starts (with 4 Bun says it ran out
  // itself) but that socket is refused (EMFILE). Each limit in a namespace of its own with no interface up, so
  // that a run that gets further reaches nothing.
  const seen: string[] = [];
  for (let limit = 5; limit <= 8; limit++) {
    const ended = await run('unshare', ['-n', 'sh', '-c', 'ulimit -n "$1" && shift && exec "$@"', 'sh', String(limit), agent, '-port=8080'],
      { cwd: dir, env: { PATH: '/usr/bin:/bin' } });
    const said = `${ended.stdout}${ended.stderr}`;
    t.equal(ended.code, 3, `ulimit -n ${limit}: ${said.trim()}`);
    t.equal(said.trim().split('\n').length, 1, 'one line');
    seen.push(said);
  }
  t.match(seen[0], /^failure to find suitable interface: cannot list the network interfaces \(.+\)\n$/);
  t.equal(seen[3], 'failure to find suitable interface\n');
});
