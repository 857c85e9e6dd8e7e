// What a new operator met (issue 23): bad state directories, commands and limits that `run` and `validate` must
// judge alike, the lock before the port, and a SIGUSR1 that must not open a debugger. Real CLI processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { makeDirectory } from '../../src/shared/make-directory.js';
import { run, start } from '../helpers/agent.js';
import { tempDir } from '../helpers/temp-dir.js';
import { recordedPids } from '../supervisor/harness.js';
import { CLI, fixtureApp, markedProcesses, runCli, stopCleanly, stoppedLine } from './cli-supervisor.js';

/** `lifeguard ARGS`, killed after 20s: a hang fails the test instead of hanging it. */
const lifeguard = (args: readonly string[]) => run(process.execPath, [CLI, ...args], { killAfterMs: 20_000 });

function configFile(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

t.test('makeDirectory: a file system that makes nothing is an error at once, not a loop (Node\'s recursive mkdir spins on /proc/nope)', async (t) => {
  for (const path of ['/proc/nope', '/proc/self/nope/deeper']) t.throws(() => makeDirectory(path), { code: 'ENOENT' }, path);
  const dir = tempDir(t);
  t.same(makeDirectory(join(dir, 'a', 'b')), [join(dir, 'a'), join(dir, 'a', 'b')], 'the missing ones, parents first');
  t.same(makeDirectory(join(dir, 'a', 'b')), [], 'made already');
  writeFileSync(join(dir, 'file'), '');
  t.throws(() => makeDirectory(join(dir, 'file', 'x')), { code: 'ENOTDIR' });
});

t.test('a state directory where nothing can be made: run and validate say so in one line, exit 2', async (t) => {
  const dir = tempDir(t);
  const config = configFile(dir, { apps: [fixtureApp('web', {})] });
  const cases = [
    ['/proc/nope', 'its file system does not allow making it'],
    ['/proc/self/nope', 'its file system does not allow making it'],
    ['/sys/kernel/nope', process.getuid?.() === 0 ? 'not permitted here (EPERM)' : 'not writable by this user'],
  ] as const;
  // Side by side: each is a process of its own.
  const ends = await Promise.all(cases.flatMap(([stateDir]) => [lifeguard(['run', config, '--state-dir', stateDir, '--duration', '30s']), lifeguard(['validate', config, '--state-dir', stateDir])]));
  cases.forEach(([stateDir, why], i) => {
    const [ran, validated] = [ends[2 * i]!, ends[2 * i + 1]!];
    t.same([ran.code, ran.stderr, ran.stdout], [2, `state directory '${stateDir}' cannot be used: ${why}\n`, ''], `run --state-dir ${stateDir}`);
    t.same([validated.code, validated.stderr], [2, `${config}: state directory '${stateDir}' cannot be used: ${why}\n`], `validate --state-dir ${stateDir}`);
  });
  const made = join(dir, 'new', 'state');
  const valid = await lifeguard(['validate', config, '--state-dir', made]);
  t.same([valid.code, valid.stdout], [0, `${config}: valid (1 app: web)\n`], 'a state directory that can be made is valid; one app, not "1 apps"');
  t.same(makeDirectory(join(dir, 'new')), [join(dir, 'new')], 'and validate left nothing behind');
});

t.test('a command that is not there: run refuses it as validate does, before anything starts', async (t) => {
  const dir = tempDir(t);
  const config = configFile(dir, { apps: [fixtureApp('web', {}, { command: ['no-such-command-i23'] })], stateDir: join(dir, 'state') });
  const problem = `${config}: apps[0].command: 'no-such-command-i23' is not found in PATH\n`;
  const [validated, ran] = await Promise.all([lifeguard(['validate', config]), lifeguard(['run', config, '--duration', '30s'])]);
  t.same([validated.code, validated.stderr], [2, problem]);
  t.same([ran.code, ran.stderr, ran.stdout], [2, problem, ''], 'not exit 0 with nothing running');
});

t.test('limits: validate and run judge them alike on this host', async (t) => {
  const dir = tempDir(t);
  const config = configFile(dir, { apps: [fixtureApp('web', {}, { instances: 1, limits: { memory: '256Mi', pids: 64 } })], stateDir: join(dir, 'state') });
  const [validated, ran] = await Promise.all([lifeguard(['validate', config]), lifeguard(['run', config, '--duration', '1ms'])]);
  if (validated.code === 0) {
    t.equal(ran.code, 0, 'valid, and run runs it');
    t.match(ran.stderr, stoppedLine('--duration'), 'saying only that it stopped');
  } else {
    t.equal(validated.code, 2);
    t.equal(ran.code, 2, 'refused by both');
    t.equal(ran.stderr.replace(/^.*?apps\[0\]\.limits: /, ''), validated.stderr.replace(/^.*?apps\[0\]\.limits: /, ''), 'with the same reason');
  }
});

t.test('a second run on a state directory in use is told so first, even when the port is taken too', async (t) => {
  const dir = tempDir(t);
  const first = await runCli(t, dir, [fixtureApp('web', { OPERATOR_23: 'lock' }, { instances: 1 })]);
  await first.until((all) => all.some((x) => x.to === 'healthy'));
  // The same file again: the same stateDir and the same http.listen, which the first one holds.
  const second = await lifeguard(['run', join(dir, 'config.json')]);
  t.equal(second.code, 2);
  t.match(second.stderr, /^state directory '.*' is in use by another lifeguard \(pid \d+\); give each supervisor its own stateDir\n$/);
  await stopCleanly(t, first, 'OPERATOR_23', 'lock');
});

t.test('SIGUSR1 stops lifeguard run in order and opens no debugger', async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [fixtureApp('web', { OPERATOR_23: 'usr1' }, { instances: 1 })]);
  await cli.until((all) => all.some((x) => x.to === 'healthy'));
  cli.child.kill('SIGUSR1');
  const ended = await cli.ended;
  t.same([ended.code, ended.signal], [0, null], 'stopped as on SIGTERM');
  t.match(ended.stderr, stoppedLine('SIGUSR1'), 'and only that said on stderr');
  t.same(markedProcesses('OPERATOR_23', 'usr1'), [], 'its instance was stopped');
});

t.test('SIGUSR1 to lifeguard in a command that does not stop on it: exit 138, no debugger', async (t) => {
  // `status` waits on an endpoint that accepts and never answers, long enough to be signalled.
  const held: Socket[] = [];
  const server = createServer((socket) => held.push(socket)).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const cli = start(process.execPath, [CLI, 'status', '--endpoint', `127.0.0.1:${port}`], { killAfterMs: 20_000 });
  await new Promise((resolve) => server.once('connection', resolve));
  cli.child.kill('SIGUSR1');
  const ended = await cli.ended;
  t.same([ended.code, ended.signal], [138, null]);
  t.notMatch(ended.stderr, /Debugger|inspector/);
});

t.test('a sidecar agent runs as its app\'s user, not as root', { skip: process.getuid?.() !== 0 && 'needs root (user)' }, async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [fixtureApp('web', { OPERATOR_23: 'user' }, { instances: 1, user: 'nobody', probe: 'sidecar' })]);
  await cli.until((all) => all.some((x) => x.to === 'healthy'));
  const owners = (role: 'app' | 'agent') => recordedPids(join(dir, 'state'), role).map((pid) => /^Uid:\s+(\d+)\s/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  t.same(owners('app'), ['65534'], 'the app as nobody');
  t.same(owners('agent'), ['65534'], 'and its agent too');
  await stopCleanly(t, cli, 'OPERATOR_23', 'user');
});

t.test('lifeguard apply needs no fromEnv secret in its own environment: the supervisor reads its own', async (t) => {
  const dir = tempDir(t);
  const secret = 'LG_I23_SECRET';
  const app = (instances: number) => fixtureApp('web', { OPERATOR_23: 'apply', SECRET: { fromEnv: secret } } as unknown as Record<string, string>, { instances });
  // The supervisor's environment holds the secret (it inherits this process's); the operator's shell below does not.
  process.env[secret] = 'from-the-supervisor';
  const cli = await runCli(t, dir, [app(1)]);
  delete process.env[secret];
  await cli.until((all) => all.some((x) => x.to === 'healthy'));
  const scaled = configFile(dir, { apps: [app(2)], http: { listen: `127.0.0.1:${cli.port}` }, stateDir: join(dir, 'state') });
  const applied = await run(process.execPath, [CLI, 'apply', scaled], { killAfterMs: 20_000, env: { [secret]: undefined } });
  t.same([applied.code, applied.stderr], [0, ''], 'applied');
  await cli.until((all) => all.filter((x) => x.to === 'healthy').length >= 2);
  const environs = markedProcesses('OPERATOR_23', 'apply').map((pid) => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0'));
  t.equal(environs.length, 2);
  for (const environ of environs) t.ok(environ.includes('SECRET=from-the-supervisor'), "each instance has the supervisor's value");
  const ended = await cli.stop();
  t.equal(ended.code, 0);
  t.match(ended.stderr, /^\S+Z lifeguard: applied .*: web scaled\n/, 'the apply said on stderr, timed');
});

t.test('lifeguard status and /status name the config file SIGHUP reloads: run\'s, then the one applied', async (t) => {
  const dir = tempDir(t);
  const app = (instances: number) => fixtureApp('web', { OPERATOR_23: 'current' }, { instances });
  const cli = await runCli(t, dir, [app(1)]);
  await cli.until((all) => all.some((x) => x.to === 'healthy'));
  const named = async () => {
    const text = await lifeguard(['status', '--endpoint', `127.0.0.1:${cli.port}`]);
    const json = await lifeguard(['status', '--endpoint', `127.0.0.1:${cli.port}`, '--json']);
    const http = (await (await fetch(`http://127.0.0.1:${cli.port}/status`)).json()) as { config?: string };
    return { text: /^config: (.*) \(what SIGHUP reloads\)$/m.exec(text.stdout)?.[1], json: (JSON.parse(json.stdout) as { config?: string }).config, http: http.config };
  };
  const first = join(dir, 'config.json');
  t.same(await named(), { text: first, json: first, http: first }, "run's own file");
  const applied = join(dir, 'applied.json');
  writeFileSync(applied, JSON.stringify({ apps: [app(2)], http: { listen: `127.0.0.1:${cli.port}` }, stateDir: join(dir, 'state') }));
  // Relative, from another directory: status names it absolute, as SIGHUP will read it.
  const given = await run(process.execPath, [CLI, 'apply', 'applied.json'], { killAfterMs: 20_000, cwd: dir });
  t.same([given.code, given.stderr], [0, ''], 'applied');
  t.same(await named(), { text: applied, json: applied, http: applied }, 'the applied file, once applied');
  await cli.stop();
});

t.test('lifeguard status: localhost, a rejected token said as such, a given-up instance without its dead pid, exit 1', async (t) => {
  const dir = tempDir(t);
  const quitter = fixtureApp('quitter', { OPERATOR_23: 'status' }, { instances: 1, command: [process.execPath, '-e', 'process.exit(3)'], restart: { maxRestarts: 0 } });
  const cli = await runCli(t, dir, [quitter], { token: 'right' });
  await cli.until((all) => all.some((x) => x.to === 'given-up'));
  const status = (args: readonly string[]) => lifeguard(['status', '--endpoint', `localhost:${cli.port}`, ...args]);
  const wrong = await status(['--token', 'wrong']);
  t.equal(wrong.code, 2);
  t.match(wrong.stderr, /the endpoint rejected the bearer token given \(--token, or LIFEGUARD_TOKEN\)\n$/);
  const shown = await status(['--token', 'right']);
  t.equal(shown.code, 1, 'exit 1: fewer healthy than desired');
  const row = shown.stdout.split('\n').find((line) => line.startsWith('quitter-1 '));
  t.match(row, /^quitter-1\s+quitter\s+given-up\s+-\s+-\s+0\s/, 'no address, no pid: its process is gone');
  const json = await status(['--token', 'right', '--json']);
  t.match(JSON.parse(json.stdout), { ok: false, apps: [{ instances: [{ id: 'quitter-1', state: 'given-up', pid: null, address: null }] }] });
  await cli.stop();
});
