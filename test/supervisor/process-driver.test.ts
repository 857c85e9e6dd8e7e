// The process driver: argv only, its own process group, mapped ports in the environment, graceful then forced destroy.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import type { RunningInstance } from '../../src/supervisor/drivers/driver.js';
import type { Exit } from '../../src/shared/exit.js';
import { Containment } from '../../src/supervisor/host/containment.js';
import { ProcessDriver } from '../../src/supervisor/drivers/process.js';
import { isRunning, readProcStat } from '../../src/supervisor/host/state-dir.js';
import { appSpec } from './harness.js';

async function launch(t: Test, command: string[], extra: Parameters<typeof appSpec>[1] = {}): Promise<{ running: RunningInstance; exits: Exit[] }> {
  const exits: Exit[] = [];
  const containment = new Containment(t.testdir({}));
  const result = await new ProcessDriver({ containment, outputDir: t.testdir({}) }).launch({ instance: 'web-7', spec: appSpec('native', { command, ...extra }), onExit: (exit) => exits.push(exit) });
  if (!result.ok) throw new Error(result.reason);
  // Last-registered first: the instance goes, then its owner's cgroup subtree.
  t.teardown(() => containment.close());
  t.teardown(() => result.running.destroy(0));
  return { running: result.running, exits };
}

t.test('environment: app env, PORT and PORT_<n> per mapped port, the instance id; not the supervisor environment', async (t) => {
  process.env.LIFEGUARD_TEST_SECRET = 'not for apps';
  const out = `${t.testdir({})}/env.json`;
  const dump = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`;
  const { running, exits } = await launch(t, [process.execPath, '-e', dump], { ports: [8080, 9090], env: { GREETING: 'hi' } });
  // A node process may take seconds to start on a loaded machine: wait (bounded) for its exit, not a fixed 2s.
  for (let i = 0; i < 500 && exits.length === 0; i++) await sleep(20);
  const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
  const web = running.endpoint(8080);
  const admin = running.endpoint(9090);
  t.equal(running.address, `127.0.0.1:${web.port}`);
  t.not(web.port, admin.port);
  t.match(env, { GREETING: 'hi', PORT: String(web.port), PORT_8080: String(web.port), PORT_9090: String(admin.port), LIFEGUARD_INSTANCE: 'web-7' });
  t.notOk('LIFEGUARD_TEST_SECRET' in env);
  t.same(exits, [{ code: 0, signal: null }]);
});

t.test('argv goes to the program as is: no shell ever sees it', async (t) => {
  const dir = t.testdir({});
  const out = `${dir}/argv.json`;
  const { exits } = await launch(t, [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1)))`, `$(touch ${dir}/pwned); *`]);
  for (let i = 0; i < 100 && exits.length === 0; i++) await sleep(20);
  t.same(JSON.parse(readFileSync(out, 'utf8')), [`$(touch ${dir}/pwned); *`]);
  t.throws(() => readFileSync(`${dir}/pwned`));
});

t.test('a start failure is a value with a clear reason', async (t) => {
  const containment = new Containment(t.testdir({}));
  t.teardown(() => containment.close());
  const driver = new ProcessDriver({ containment, outputDir: t.testdir({}) });
  const spec = appSpec('native');
  t.same(await driver.launch({ instance: 'web-1', spec: { ...spec, command: ['no-such-lifeguard-cmd'] }, onExit: () => {} }), { ok: false, reason: 'command not found: no-such-lifeguard-cmd', permanent: true });
  const dir = t.testdir({ 'not-executable': 'x' });
  t.same(await driver.launch({ instance: 'web-1', spec: { ...spec, command: [`${dir}/not-executable`] }, onExit: () => {} }), { ok: false, reason: `permission denied: ${dir}/not-executable`, permanent: true });
});

t.test('its own process group; destroy takes the whole group, stopped or not', async (t) => {
  const forker = `require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); process.kill(process.pid, 'SIGSTOP')`;
  const { running, exits } = await launch(t, [process.execPath, '-e', forker]);
  const pid = running.pid as number;
  t.equal(readProcStat(pid)?.pgid, pid, 'leads its own group');
  for (let i = 0; i < 100 && readProcStat(pid)?.state !== 'T'; i++) await sleep(20);
  t.equal(readProcStat(pid)?.state, 'T', 'stopped itself');
  const group = groupMembers(pid);
  t.equal(group.length, 2, 'the app and what it forked');
  t.same(await running.destroy(2000), { forced: false }, 'SIGTERM with SIGCONT was enough');
  t.same(exits, [{ code: null, signal: 'SIGTERM' }]);
  await sleep(100);
  for (const member of group) t.notOk(isRunning(member), `group member ${member} is gone`);
});

t.test('a process that ignores SIGTERM is killed after the grace period', async (t) => {
  const ready = join(t.testdir({}), 'handler-installed');
  const { running, exits } = await launch(t, [process.execPath, '-e', `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`]);
  // Its handler is in place once it says so (bounded: a loaded machine starts node slowly).
  for (let i = 0; i < 500 && !existsSync(ready); i++) await sleep(20);
  const started = performance.now();
  t.same(await running.destroy(300), { forced: true });
  t.ok(performance.now() - started >= 290);
  t.same(exits, [{ code: null, signal: 'SIGKILL' }]);
});

t.test('an app that exited: destroy takes what it left in its group', async (t) => {
  const left = join(t.testdir({}), 'left.pid');
  const { running, exits } = await launch(t, ['/bin/sh', '-c', `sleep 30 & echo $! > ${left}; exit 3`]);
  for (let i = 0; i < 500 && exits.length === 0; i++) await sleep(10);
  t.match(exits, [{ code: 3, signal: null }], 'the leader exited');
  const orphan = Number(readFileSync(left, 'utf8'));
  t.equal(readProcStat(orphan)?.pgid, running.pid, 'what it forked is in its group');
  await running.destroy(0);
  for (let i = 0; i < 100 && isRunning(orphan); i++) await sleep(10);
  t.notOk(isRunning(orphan), 'and is gone');
});

// A busy host gives an exited app's pid to another process within seconds (pid_max 32768; CI rehearsal 55 lost a
// test's healthy app to a destroy elsewhere that signalled a pid given again): the stranger is made to get it here.
t.test("an app that exited: destroy signals no stranger that was given the app's pid", { skip: process.getuid?.() === 0 ? false : 'needs root: a PID namespace whose next pid it chooses' }, async (t) => {
  const fixture = join(import.meta.dirname, '../fixtures/pid-reuse.ts');
  const { stdout } = await promisify(execFile)('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', fixture, t.testdir({}), t.testdir({})], { timeout: 60_000 });
  const seen = JSON.parse(stdout) as { app: number; stranger: number; strangerAlive: boolean };
  t.equal(seen.stranger, seen.app, "the stranger has the app's pid, and leads a group of that id");
  t.ok(seen.strangerAlive, 'the stranger lives on after the destroy');
});

function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => isRunning(pid) && readProcStat(pid)?.pgid === pgid);
}

t.test('exited: true from the leader exit on, before onExit is told (which waits for the last stderr lines)', async (t) => {
  // The app exits 7; a child it left holds stderr open, so the driver waits its while for the last lines.
  const { running, exits } = await launch(t, ['/bin/sh', '-c', 'echo "Error: out of cheese" >&2; sleep 30 & sleep 0.2; exit 7']);
  t.equal(running.exited, false, 'running');
  let seenBeforeExit = false;
  for (let i = 0; i < 500 && exits.length === 0; i++) {
    if (running.exited === true && exits.length === 0) seenBeforeExit = true;
    await sleep(5);
  }
  t.ok(seenBeforeExit, 'exited before onExit was told');
  t.match(exits, [{ code: 7, signal: null, stderr: ['Error: out of cheese'] }]);
  t.equal(running.exited, true);
});

t.test('exited: true while the leader is a zombie not yet collected, before Node has seen its exit', async (t) => {
  const { running, exits } = await launch(t, ['/bin/sh', '-c', 'sleep 0.2; exit 7']);
  t.equal(running.exited, false, 'running');
  // The event loop is held (a synchronous wait), so the child, once dead, stays a zombie: nothing collects it.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let state: string | undefined;
  for (let i = 0; i < 1000 && state !== 'Z'; i++) {
    Atomics.wait(pause, 0, 0, 5);
    state = readProcStat(running.pid as number)?.state;
  }
  t.equal(state, 'Z', 'the leader is a zombie');
  t.equal(running.exited, true, 'exited, before any exit event');
  t.equal(exits.length, 0, 'onExit not told yet');
  for (let i = 0; i < 500 && exits.length === 0; i++) await sleep(10);
  t.match(exits, [{ code: 7, signal: null }]);
});
