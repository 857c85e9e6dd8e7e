// What an operator does to a running supervisor: a second one on the same state directory, a SIGKILL, SIGQUIT,
// a state directory that cannot be used. Real CLI processes and real signals.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { recordedProcesses } from '../supervisor/harness.js';
import { SeenProcesses } from '../helpers/seen-processes.js';
import { run, start } from '../helpers/agent.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CLI, FIXTURE_APP, fixtureApp, markedProcesses, runCli, stopCleanly, stoppedLine } from './cli-supervisor.js';

function app(name: string, marker: string, probe = 'native'): Record<string, unknown> {
  return fixtureApp(name, { OPERATOR_TEST: marker }, { probe });
}

const healthy = (n: number) => (all: readonly { to: string }[]) => all.filter((x) => x.to === 'healthy').length >= n;

t.test('a state directory in use is refused with one line; a SIGKILLed owner leaves no stale lock', async (t) => {
  const dir = tempDir(t);
  const first = await runCli(t, dir, [app('web', 'lock')]);
  await first.until(healthy(2));
  const second = await runCli(t, dir, [app('web', 'lock')]);
  const refused = await second.ended;
  t.equal(refused.code, 2, 'the second supervisor exits 2');
  t.match(refused.stderr, /^state directory '.*' is in use by another lifeguard \(pid \d+\); give each supervisor its own stateDir\n$/);
  t.equal(refused.stderr.split('\n').length, 2, 'one line');
  t.equal(refused.stdout, '', 'no transition: it started nothing');
  await sleep(500);
  t.notOk(first.transitions.some((x) => x.to === 'destroying'), 'the first one\'s instances were left alone');

  first.child.kill('SIGKILL');
  await first.ended;
  const third = await runCli(t, dir, [app('web', 'lock')]);
  await third.until(healthy(2));
  t.pass('a successor takes the lock of a SIGKILLed supervisor');
  t.same(first.pids.running(), [], "the killed supervisor's processes were reaped");
  await stopCleanly(t, third, 'OPERATOR_TEST', 'lock', true);
});

// SIGHUP reloads instead (test/reliability/reload.test.ts).
for (const signal of ['SIGQUIT', 'SIGUSR2'] as const) {
  t.test(`${signal} stops the supervisor cleanly, agents included`, async (t) => {
    const dir = tempDir(t);
    const cli = await runCli(t, dir, [app('web', signal, 'sidecar')]);
    await cli.until(healthy(2));
    cli.child.kill(signal);
    const ended = await cli.ended;
    t.same([ended.code, ended.signal], [0, null], 'exit 0');
    t.match(ended.stderr, stoppedLine(signal));
    t.ok(ended.stdout.includes('"cause":"stopping"'), 'every instance destroyed as the supervisor stops');
    t.same(markedProcesses('OPERATOR_TEST', signal), [], 'no app left');
    t.same(cli.pids.running(), [], 'no agent left');
  });
}

t.test('agents end once their supervisor is SIGKILLed', async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [app('web', 'orphans', 'sidecar')]);
  await cli.until(healthy(2));
  const agents = new SeenProcesses();
  for (const { pid, startTime } of recordedProcesses(join(dir, 'state'), 'agent')) agents.add(pid, startTime);
  t.equal(agents.size, 2, 'one lifecycle agent per instance');
  cli.child.kill('SIGKILL');
  await cli.ended;
  // Each agent's next heartbeat (every 200ms) meets a broken pipe; its parent check would also see init adopt it.
  for (let waited = 0; waited < 10_000 && agents.running().length > 0; waited += 100) await sleep(100);
  t.same(agents.running(), [], 'no agent outlives its supervisor');
  // The apps are the successor's to reap (cleanup, not adoption).
  const successor = await runCli(t, dir, [app('web', 'orphans', 'sidecar')]);
  await successor.until(healthy(2));
  const ended = await stopCleanly(t, successor, 'OPERATOR_TEST', 'orphans', true);
  t.match(ended.stderr, /^\S+Z lifeguard: reaped 2 processes a previous lifeguard on /, 'its two apps, each counted once');
});

t.test('a relative command, cwd and stateDir are found from the config file\'s directory, wherever lifeguard runs', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'site', 'bin'), { recursive: true });
  copyFileSync(FIXTURE_APP, join(dir, 'site', 'bin', 'app.mjs'));
  const port = await freePort();
  const config = join(dir, 'site', 'lifeguard.json');
  const apps = [
    { ...app('here', 'relative'), command: ['node', 'bin/app.mjs'], instances: 1 },
    { ...app('there', 'relative'), command: ['node', 'app.mjs'], cwd: 'bin', instances: 1 },
  ];
  writeFileSync(config, JSON.stringify({ apps, stateDir: 'state', http: { listen: `127.0.0.1:${port}` } }));
  const cli = start(process.execPath, [CLI, 'run', config], { killAfterMs: 60_000, cwd: '/' });
  const lines: string[] = [];
  cli.child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  for (let waited = 0; waited < 20_000 && lines.filter((l) => l.includes('"to":"healthy"')).length < 2; waited += 100) await sleep(100);
  t.equal(lines.filter((l) => l.includes('"to":"healthy"')).length, 2, 'both apps healthy, started from /');
  t.ok(existsSync(join(dir, 'site', 'state', 'lock')), 'the state directory is beside the config');
  cli.child.kill('SIGTERM');
  const ended = await cli.ended;
  t.equal(ended.code, 0);
  t.match(ended.stderr, stoppedLine('SIGTERM'));
});

t.test('a YAML config with --state-dir, a user to run as and a variable passed through, as an operator writes it', { skip: process.getuid?.() !== 0 && 'needs root (user)' }, async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const config = join(dir, 'lifeguard.yaml');
  writeFileSync(config, `apps:
  - name: web
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE_APP)}]
    user: nobody
    env:
      OPERATOR_TEST: yaml
      PASSED: {fromEnv: LG_OPERATOR_PASSED}
    checks:
      - tcp_check: {port: 8080}
    startupInterval: 100ms
    gracePeriod: 2s
    probe: native
http: {listen: "127.0.0.1:${port}"}
stateDir: not-this-one
`);
  const cli = start(process.execPath, [CLI, 'run', config, '--state-dir', join(dir, 'chosen')], { killAfterMs: 60_000, env: { LG_OPERATOR_PASSED: 'through' } });
  let pid: number | undefined;
  for (let waited = 0; waited < 20_000 && pid === undefined; waited += 100) {
    await sleep(100);
    [pid] = markedProcesses('OPERATOR_TEST', 'yaml');
  }
  t.ok(pid !== undefined, 'the app runs');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  t.match(status, /^Uid:\s+65534\s/m, 'as nobody');
  t.match(status, /^Gid:\s+65534\s/m, "with nobody's group");
  t.ok(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes('PASSED=through'), 'the named variable passed through');
  t.ok(existsSync(join(dir, 'chosen', 'lock')), '--state-dir wins over the file');
  t.notOk(existsSync(join(dir, 'not-this-one')));
  cli.child.kill('SIGTERM');
  const ended = await cli.ended;
  t.equal(ended.code, 0);
  t.match(ended.stderr, stoppedLine('SIGTERM'));
  t.same(markedProcesses('OPERATOR_TEST', 'yaml'), []);
});

t.test('a state directory that is a file: one line, exit 2, before anything starts', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'state'), 'not a directory');
  const cli = await runCli(t, dir, [app('web', 'file')]);
  const ended = await cli.ended;
  t.equal(ended.code, 2);
  t.equal(ended.stderr, `state directory '${join(dir, 'state')}' cannot be used: a file is in the way (it, or a parent, is not a directory)\n`);
  t.equal(ended.stdout, '');
});

t.test('a state directory on a read-only file system: one line, exit 2', { skip: process.getuid?.() !== 0 && 'needs root (a read-only mount in a mount namespace of its own)' }, async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ apps: [app('web', 'ro')], stateDir: join(dir, 'ro', 'state') }));
  const mount = join(dir, 'ro');
  const ended = await run('unshare', ['-m', 'sh', '-c', 'mkdir "$1" && mount -t tmpfs -o ro tmpfs "$1" && exec "$2" "$3" run "$4"', 'sh', mount, process.execPath, CLI, config]);
  t.equal(ended.code, 2);
  t.equal(ended.stderr, `state directory '${join(dir, 'ro', 'state')}' cannot be used: on a read-only file system\n`);
});
