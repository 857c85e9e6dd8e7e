// A running `lifeguard run` given a new config: SIGHUP reloads its file, `lifeguard apply CONFIG` hands it another
// one through the state directory and waits for the answer; an invalid config changes nothing; a closed terminal
// (SIGHUP, then EIO) still stops it cleanly. Real CLI processes, real signals, a real pseudo-terminal.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { run, start } from '../helpers/agent.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CLI, fixtureApp, markedProcesses, runCli, type CliRun } from './cli-supervisor.js';

function app(marker: string, version: string, instances = 2, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return fixtureApp('web', { RELOAD_TEST: marker, VERSION: version }, { instances, ...extra });
}

/** Rewrites the config runCli wrote, keeping its endpoint and state directory. */
function rewrite(dir: string, cli: CliRun, apps: readonly unknown[], name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ apps, http: { listen: `127.0.0.1:${cli.port}` }, stateDir: join(dir, 'state') }));
  return path;
}

const healthy = (id: string) => (all: readonly { to: string; instance: string }[]) => all.some((x) => x.to === 'healthy' && x.instance === id);

async function stopped(t: Test, cli: CliRun, marker: string): Promise<string> {
  const ended = await cli.stop();
  t.equal(ended.code, 0, 'exit 0 on SIGTERM');
  t.same(markedProcesses('RELOAD_TEST', marker), [], 'no app process left');
  t.same(cli.pids.running(), [], 'no recorded process left');
  return ended.stderr;
}

t.test('SIGHUP reloads the config file: a changed app rolls; an invalid edit changes nothing', async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [app('hup', '1')]);
  await cli.until(healthy('web-1'));
  await cli.until(healthy('web-2'));
  rewrite(dir, cli, [app('hup', '2')]);
  cli.child.kill('SIGHUP');
  await cli.until(healthy('web-4'));
  await cli.until((all) => all.some((x) => x.instance === 'web-2' && x.to === 'destroyed'));
  t.same(cli.transitions.filter((x) => x.to === 'destroying').map((x) => [x.instance, x.cause]), [['web-1', 'rolled'], ['web-2', 'rolled']], 'both old instances rolled');

  const count = cli.transitions.length;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ apps: [app('hup', '3', -1)], stateDir: join(dir, 'state'), http: { listen: `127.0.0.1:${cli.port}` } }));
  cli.child.kill('SIGHUP');
  await sleep(1000);
  t.equal(cli.transitions.length, count, 'the invalid config changed nothing');
  t.equal(cli.child.exitCode, null, 'and the supervisor runs on');
  const status = await cli.status();
  t.same(status.apps[0]?.instances.map((i) => [i.id, i.state]), [['web-3', 'healthy'], ['web-4', 'healthy']]);
  const stderr = await stopped(t, cli, 'hup');
  const lines = stderr.trim().split('\n');
  t.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z lifeguard: applied .*config\.json: web rolling$/, 'timed, in UTC');
  t.match(lines[1], /^\S+Z lifeguard: .*config\.json not applied, nothing changed: config: apps\[0\]\.instances: expected an integer of at least 0/);
  t.match(lines[2], /^\S+Z lifeguard: stopped \(SIGTERM\): every instance is gone$/);
  t.equal(lines.length, 3, 'one line per reload, then the stop, nothing else');
});

t.test('lifeguard apply: applied, refused, or no supervisor, each with its exit code; two at once are both answered', async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [app('apply', '1')]);
  await cli.until(healthy('web-2'));
  const applied = await run(process.execPath, [CLI, 'apply', rewrite(dir, cli, [app('apply', '1', 3)], 'scaled.json')]);
  t.same([applied.code, applied.stderr], [0, '']);
  t.match(applied.stdout, /^.*scaled\.json: applied: web scaled\n$/);
  await cli.until(healthy('web-3'));

  const invalid = await run(process.execPath, [CLI, 'apply', rewrite(dir, cli, [app('apply', '1', 3, { probe: 'smoke' })], 'invalid.json')]);
  t.same([invalid.code, invalid.stdout], [2, '']);
  t.match(invalid.stderr, /^config: apps\[0\]\.probe: expected "sidecar", "native" or "oneshot"/);
  t.notOk(existsSync(join(dir, 'state', 'apply')) && readdirSync(join(dir, 'state', 'apply')).length > 0, 'nothing was sent');

  // Valid here, refused there: the endpoint cannot move under a running supervisor.
  const moved = join(dir, 'moved.json');
  writeFileSync(moved, JSON.stringify({ apps: [app('apply', '1', 3)], http: { listen: '127.0.0.1:1' }, stateDir: join(dir, 'state') }));
  const refused = await run(process.execPath, [CLI, 'apply', moved]);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /^.*moved\.json not applied, nothing changed: http cannot change while lifeguard runs; restart it to change http\n$/);

  const nobody = await run(process.execPath, [CLI, 'apply', rewrite(dir, cli, [app('apply', '1', 3)], 'elsewhere.json'), '--state-dir', join(dir, 'elsewhere')]);
  t.same([nobody.code, nobody.stdout], [3, '']);
  t.match(nobody.stderr, /^no lifeguard is running on state directory '.*elsewhere' \(start one with: lifeguard run .*elsewhere\.json\)\n$/);

  const [four, five] = await Promise.all([
    run(process.execPath, [CLI, 'apply', rewrite(dir, cli, [app('apply', '1', 4)], 'four.json')]),
    run(process.execPath, [CLI, 'apply', rewrite(dir, cli, [app('apply', '1', 5)], 'five.json')]),
  ]);
  t.same([four.code, five.code], [0, 0], 'both answered');
  await sleep(300);
  const desired = (await cli.status()).apps[0]?.desired;
  t.ok(desired === 4 || desired === 5, `one after the other, the last one stands (${desired})`);
  await stopped(t, cli, 'apply');
});

t.test('a closed terminal: SIGHUP reloads, the dead terminal then stops the supervisor cleanly', { skip: !existsSync('/usr/bin/script') && 'needs script(1)' }, async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ apps: [app('tty', '1')], stateDir: join(dir, 'state') }));
  // script(1) gives the supervisor a real terminal; killing script closes it (the kernel sends SIGHUP).
  const session = start('script', ['-qfc', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run ${JSON.stringify(config)}`, '/dev/null'], { killAfterMs: 60_000 });
  for (let waited = 0; waited < 20_000 && markedProcesses('RELOAD_TEST', 'tty').length < 2; waited += 100) await sleep(100);
  t.equal(markedProcesses('RELOAD_TEST', 'tty').length, 2, 'two app instances under a terminal');
  const supervisor = Number(execFileSync('pgrep', ['-f', `${CLI} run ${config}`]).toString().trim().split('\n')[0]);
  session.child.kill('SIGKILL');
  await session.ended;
  for (let waited = 0; waited < 15_000 && isRunning(supervisor); waited += 100) await sleep(100);
  t.notOk(isRunning(supervisor), 'the supervisor ended');
  t.same(markedProcesses('RELOAD_TEST', 'tty'), [], 'its apps were stopped');
  t.notOk(existsSync(join(dir, 'state', 'lock')), 'and its lock released: a clean stop, not a death');
  t.same(readdirSync(join(dir, 'state', 'instances')), [], 'every instance record removed');
});
