// The built `lifeguard` CLI (bin/lifeguard.js, made by `npm run build`), run as an operator runs it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort } from '../helpers/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { start, type Ended, type Started } from '../helpers/agent.js';
import { getJson } from '../helpers/http-get.js';
import { stoppedLine } from '../reliability/cli-supervisor.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin/lifeguard.js');
const APP = join(ROOT, 'examples/app.mjs');
const STATES = ['scheduled', 'starting', 'healthy', 'unhealthy', 'timed-out', 'crashed', 'destroying', 'destroyed', 'claimed', 'given-up'];

/** A healthy app under native probing, quick to start and to check. */
function healthyApp(name: string, instances: number): Record<string, unknown> {
  return {
    name,
    command: [process.execPath, APP],
    env: { DEMO_READY_MS: '300' },
    instances,
    checks: [{ http_check: { port: 8080, path: '/health' } }],
    startTimeout: '20s',
    startupInterval: '200ms',
    livenessInterval: '500ms',
    probe: 'native',
    gracePeriod: '5s',
  };
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeConfig(dir: string, config: unknown, name = 'config.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

interface Running extends Started {
  /** Resolves with the stdout lines so far once `predicate` holds for them (rejects after `ms`). */
  linesUntil(predicate: (lines: string[]) => boolean, ms?: number): Promise<string[]>;
}

/** Starts the CLI; teardown stops it (SIGTERM, then the helper's SIGKILL limit) if the test did not. */
function lifeguard(t: Test, args: string[]): Running {
  const started = start(process.execPath, [CLI, ...args], { killAfterMs: 90_000 });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  started.child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  t.teardown(async () => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
    await started.ended.catch(() => {});
  });
  return {
    ...started,
    linesUntil: (predicate, ms = 45_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(lines)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...lines]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting; stdout so far:\n${lines.join('\n')}`));
        }, ms);
        waiters.add(check);
        check();
      }),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** exit 2, nothing on stdout, exactly one line on stderr and no trace of a stack. */
function assertUsageError(t: Test, ended: Ended, pattern: RegExp, name: string): void {
  t.equal(ended.code, 2, `${name}: exit 2`);
  t.equal(ended.stdout, '', `${name}: nothing on stdout`);
  t.match(ended.stderr, /^[^\n]+\n$/, `${name}: one stderr line`);
  t.notMatch(ended.stderr, /\n\s+at |Error:/, `${name}: no stack trace`);
  t.match(ended.stderr.trimEnd(), pattern, name);
}

t.test('bad configs and bad arguments: exit 2, one line on stderr naming the problem', async (t) => {
  const dir = await tempDir(t);
  const good = healthyApp('web', 1);
  const cases: [string, string[] | ((dir: string) => Promise<string[]>), RegExp][] = [
    ['invalid duration', async (d) => ['run', await writeConfig(d, { apps: [{ ...good, restart: { backoffMin: '5' } }] }, 'a.json')], /^config: apps\[0\]\.restart\.backoffMin: .*"5"/],
    ['unknown field', async (d) => ['run', await writeConfig(d, { apps: [{ ...good, replicas: 2 }] }, 'b.json')], /^config: apps\[0\]\.replicas: unknown field$/],
    ['shell-string command', async (d) => ['run', await writeConfig(d, { apps: [{ ...good, command: 'node app.mjs' }] }, 'c.json')], /^config: apps\[0\]\.command: /],
    ['check port not among ports', async (d) => ['validate', await writeConfig(d, { apps: [{ ...good, ports: [9000] }] }, 'd.json')], /^config: apps\[0\]\.checks\[0\]\.http_check\.port: /],
    ['non-loopback endpoint', async (d) => ['run', await writeConfig(d, { apps: [good], http: { listen: '0.0.0.0:9464' } }, 'e.json')], /^config: http\.listen: /],
    ['not JSON', async (d) => ['run', await writeConfig(d, '{"apps": [', 'f.json')], /^config: .*f\.json:1:\d+: not valid JSON/],
    ['missing file', ['run', join(dir, 'nope.json')], /^config: cannot read '.*nope\.json': no such file$/],
    ['unknown flag', ['run', join(dir, 'nope.json'), '--frobnicate'], /unknown option '--frobnicate'/],
    ['bad log format', ['run', join(dir, 'nope.json'), '--log-format', 'xml'], /--log-format 'xml'/],
    ['bare-number duration flag', ['run', join(dir, 'nope.json'), '--duration', '5'], /--duration '5'/],
    ['no config argument', ['run'], /missing required argument 'config'/],
    ['no command', [], /missing command/],
    ['unknown command', ['start', 'x.json'], /unknown command 'start'/],
  ];
  for (const [name, args, pattern] of cases) {
    const argv = typeof args === 'function' ? await args(dir) : args;
    const ended = await start(process.execPath, [CLI, ...argv]).ended;
    assertUsageError(t, ended, pattern, name);
  }
});

t.test('validate: exit 0 on a good config, without starting anything', async (t) => {
  const dir = await tempDir(t);
  const path = await writeConfig(dir, { apps: [healthyApp('web', 2), healthyApp('api', 1)] });
  const ended = await start(process.execPath, [CLI, 'validate', path]).ended;
  t.equal(ended.code, 0);
  t.match(ended.stdout, /valid \(2 apps: web, api\)/);
  t.equal(ended.stderr, '');
});

t.test("validate looks for a bare command in the PATH the app is given, as its start does", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'tools'));
  await writeFile(join(dir, 'tools', 'lifeguard-own-tool'), '#!/bin/sh\n', { mode: 0o755 });
  const app = { ...healthyApp('web', 1), command: ['lifeguard-own-tool'], env: { PATH: join(dir, 'tools') } };
  const ended = await start(process.execPath, [CLI, 'validate', await writeConfig(dir, { apps: [app] })]).ended;
  t.equal(ended.code, 0, ended.stderr);
});

t.test('validate checks what a run would only find by giving up: commands, the engine, images', async (t) => {
  const dir = await tempDir(t);
  const docker = { name: 'box', driver: 'docker', image: 'localhost/lifeguard-no-such-image:1', checks: [{ tcp_check: { port: 8080 } }] };
  const cases: [string, unknown, RegExp][] = [
    ['a command not in PATH', { apps: [{ ...healthyApp('web', 1), command: ['lifeguard-no-such-command'] }] }, /^.*g\.json: apps\[0\]\.command: 'lifeguard-no-such-command' is not found in PATH$/],
    ['a relative command not there, from the config\'s directory', { apps: [healthyApp('ok', 1), { ...healthyApp('web', 1), command: ['./bin/nope'] }] }, new RegExp(`^.*h\\.json: apps\\[1\\]\\.command: './bin/nope' is not an executable file \\(from ${dir}\\)$`)],
    ['two problems', { apps: [{ ...healthyApp('a', 1), command: ['nope-1'] }, { ...healthyApp('b', 1), command: ['nope-2'] }] }, /apps\[0\]\.command: 'nope-1' is not found in PATH \(and 1 more problem\)$/],
    ['an engine that does not answer', { apps: [docker], docker: { socketPath: join(dir, 'no.sock') } }, /cannot reach the Docker engine at .*no\.sock: .*\(set docker\.socketPath in the config, or DOCKER_HOST\)$/],
  ];
  for (const [i, [name, config, pattern]] of cases.entries()) {
    const path = await writeConfig(dir, config, `${'ghij'[i]}.json`);
    assertUsageError(t, await start(process.execPath, [CLI, 'validate', path]).ended, pattern, name);
  }
  const socket = process.env.LIFEGUARD_TEST_DOCKER_SOCKET;
  if (socket !== undefined) {
    const path = await writeConfig(dir, { apps: [docker], docker: { socketPath: socket } }, 'k.json');
    assertUsageError(t, await start(process.execPath, [CLI, 'validate', path]).ended, /apps\[0\]\.image: the engine has no image 'localhost\/lifeguard-no-such-image:1' \(images are not pulled: pull it first\)$/, 'a missing image');
    const image = process.env.LIFEGUARD_TEST_IMAGE ?? 'localhost/lifeguard-test:latest';
    const sidecar = await writeConfig(dir, { apps: [{ ...docker, image }], docker: { socketPath: socket, sidecarImage: 'localhost/lifeguard-no-such-sidecar:1' } }, 'l.json');
    assertUsageError(t, await start(process.execPath, [CLI, 'validate', sidecar]).ended, /l\.json: docker\.sidecarImage: the engine has no image 'localhost\/lifeguard-no-such-sidecar:1' \(images are not pulled: pull it first\)$/, 'a missing sidecar image');
  }
});

t.test('--help and --version exit 0', async (t) => {
  const help = await start(process.execPath, [CLI, 'run', '--help']).ended;
  t.equal(help.code, 0);
  t.match(help.stdout, /--log-format/);
  const version = await start(process.execPath, [CLI, '--version']).ended;
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

t.test('run, then SIGTERM: every instance is stopped and the CLI exits 0', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const path = await writeConfig(dir, { apps: [healthyApp('web', 2), healthyApp('api', 1)], http: { listen: `127.0.0.1:${port}` }, stateDir: join(dir, 'state') });
  const cli = lifeguard(t, ['run', path]);
  const healthy = (lines: string[]) => lines.filter((line) => line.includes('"to":"healthy"')).length;
  const lines = await cli.linesUntil((l) => healthy(l) >= 3);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    t.match(entry, { time: String, level: String, app: String, instance: String, to: String, msg: String }, 'each stdout line is one JSON transition');
    t.ok(STATES.includes(entry['to'] as string));
  }
  const status = (await getJson(port, '/status')) as { apps: { name: string; instances: { pid: number | null; state: string }[] }[] };
  const pids = status.apps.flatMap((app) => app.instances.map((i) => i.pid)).filter((pid): pid is number => pid !== null);
  t.equal(pids.length, 3, 'three instances running');
  t.ok(pids.every(alive));

  cli.child.kill('SIGTERM');
  const ended = await cli.ended;
  t.equal(ended.code, 0, 'exit 0');
  t.match(ended.stderr, stoppedLine('SIGTERM'), 'on stderr, only that it stopped');
  t.same(pids.filter(alive), [], 'every instance process is gone');
  const destroyed = ended.stdout.split('\n').filter((line) => line.includes('"to":"destroyed"'));
  t.equal(destroyed.length, 3, 'each instance logged its destroy');
});

t.test('--log-format text, SIGINT, and an instance that can never start', async (t) => {
  const dir = await tempDir(t);
  // It starts, and exits at once, every time (a command that is not there at all is refused before anything starts).
  const missing = { ...healthyApp('missing', 1), command: [process.execPath, '-e', "console.error('lifeguard-test-never-starts'); process.exit(3)"], restart: { immediate: 1, backoffMin: '100ms', backoffMax: '200ms', maxRestarts: 1 } };
  const path = await writeConfig(dir, { apps: [healthyApp('web', 1), missing], stateDir: join(dir, 'state') });
  const cli = lifeguard(t, ['run', path, '--log-format', 'text']);
  await cli.linesUntil((l) => l.some((line) => / web-\d+ starting -> healthy: /.test(line)) && l.some((line) => /-> given-up: /.test(line)));
  cli.child.kill('SIGINT');
  const ended = await cli.ended;
  t.equal(ended.code, 0);
  const lines = ended.stdout.trimEnd().split('\n');
  for (const line of lines) t.match(line, /^\S+ (INFO|WARN|ERROR) +\S+ \S+ -> [a-z-]+: /, 'a text transition line');
  t.ok(lines.some((line) => /missing-\d+ \S+ -> crashed: .*lifeguard-test-never-starts/.test(line)), 'the crash says what the app said');
});

t.test('--duration stops on its own, like SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const path = await writeConfig(dir, { apps: [healthyApp('web', 1)], stateDir: join(dir, 'state') });
  const cli = lifeguard(t, ['run', path, '--duration', '3s']);
  const ended = await cli.ended;
  t.equal(ended.code, 0);
  t.match(ended.stdout, /"to":"scheduled"/);
  t.match(ended.stdout, /"to":"destroyed"/);
});

t.test('an endpoint port already in use stops the run before any instance starts', async (t) => {
  const dir = await tempDir(t);
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => busy.once('listening', resolve));
  t.teardown(() => new Promise((resolve) => busy.close(resolve)));
  const { port } = busy.address() as { port: number };
  const path = await writeConfig(dir, { apps: [healthyApp('web', 1)], http: { listen: `127.0.0.1:${port}` }, stateDir: join(dir, 'state') });
  const ended = await lifeguard(t, ['run', path]).ended;
  assertUsageError(t, ended, /^http\.listen '127\.0\.0\.1:\d+': address already in use$/, 'port in use');
});
