// The engine goes away mid-run and comes back, whichever engine LIFEGUARD_TEST_DOCKER_SOCKET names:
//  - Podman: the test starts Podman's API service on a socket of its own, stops it while the watcher runs, changes
//    things behind its back with the podman CLI (which needs no service), and starts the service again; the
//    containers outlive the service (conmon keeps them);
//  - Docker: the test restarts the very daemon serving that socket (same arguments), which must run with
//    --live-restore so that the containers outlive it (.ci/run starts it so); a container is killed behind its
//    back. Docker before 23 never runs a restored container's HEALTHCHECK again (moby#41871): the watcher says
//    so once. Docker 23 and later keep running it: the watcher says nothing.
// Either way the watcher must reconnect and list the containers again.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import t from 'tap';
import { createWatcher } from '../../src/watch/create-watcher.js';
import { parseWatchSettings } from '../../src/watch/settings.js';
import type { EngineState } from '../../src/watch/watcher.js';
import { ROOT } from '../supervisor/harness.js';
import { tempDir } from '../helpers/temp-dir.js';
import { exec, IMAGE, project, record, RUN_LABEL, skip, SOCKET, startApp, to } from './harness.js';

const run = promisify(execFile);
const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(ROOT, 'test/containers/containers.conf') };
const ENGINE = SOCKET === undefined ? undefined : await new Docker({ socketPath: SOCKET }).version().catch(() => undefined);
const KIND = ENGINE?.Components?.some((c) => c.Name === 'Podman Engine') === true ? 'podman' : 'docker';
const DOCKERD = KIND === 'docker' && SOCKET !== undefined ? daemonServing(SOCKET) : undefined;
const noRoot = process.getuid?.() !== 0 ? 'needs root (the engines of the other tests are root\'s)' : false;
const noPodman = skip || noRoot || (ENGINE === undefined ? `no engine answers on ${SOCKET}` : KIND !== 'podman' ? `the engine on ${SOCKET} is ${KIND}` : !onPath('podman') ? 'no podman CLI' : false);
const noDocker = skip || noRoot || (ENGINE === undefined ? `no engine answers on ${SOCKET}` : KIND !== 'docker' ? `the engine on ${SOCKET} is ${KIND}`
  : DOCKERD === undefined ? `no dockerd of this machine serves ${SOCKET}` : !DOCKERD.argv.includes('--live-restore') ? `the dockerd serving ${SOCKET} runs without --live-restore: its containers would not outlive a restart` : false);

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, program)));
}

interface Daemon {
  readonly pid: number;
  readonly argv: string[];
  /** Where its output went, when a file: the restarted daemon writes there too. */
  readonly log?: string;
}

/** The dockerd process whose arguments name `socket`. */
function daemonServing(socket: string): Daemon | undefined {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (!/(^|\/)dockerd$/.test(argv[0] ?? '') || !argv.some((arg) => arg.endsWith(`unix://${socket}`))) continue;
    let log: string | undefined;
    try {
      const target = readlinkSync(`/proc/${name}/fd/2`);
      if (target.startsWith('/') && !target.startsWith('/dev/')) log = target.replace(/ \(deleted\)$/, '');
    } catch {
      // not ours to read
    }
    return { pid: Number(name), argv, ...(log === undefined ? {} : { log }) };
  }
  return undefined;
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  return until(() => !existsSync(`/proc/${pid}`), timeoutMs);
}

/** Starts dockerd again as it was started, detached: it is the CI's daemon, and outlives the test. */
async function restartDaemon(daemon: Daemon, socket: string): Promise<void> {
  const out = openSync(daemon.log ?? '/dev/null', 'a');
  const child = spawn(daemon.argv[0] as string, daemon.argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
  const engine = new Docker({ socketPath: socket });
  for (let i = 0; i < 300; i++) {
    if (await engine.ping().then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dockerd did not answer on ${socket} again`);
}

/** A podman API service on `socket`, stopped (and waited for) at the end of the test. */
async function startService(socket: string): Promise<ChildProcess> {
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: PODMAN_ENV, stdio: 'ignore' });
  const engine = new Docker({ socketPath: socket });
  for (let i = 0; i < 100; i++) {
    if (existsSync(socket) && (await engine.ping().then(() => true, () => false))) return service;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  service.kill('SIGKILL');
  throw new Error(`podman system service did not answer on ${socket}`);
}

async function stopService(service: ChildProcess): Promise<void> {
  if (service.exitCode !== null || service.signalCode !== null) return;
  const exited = new Promise((resolve) => service.once('exit', resolve));
  service.kill('SIGTERM');
  await exited;
}

t.test('the engine service restarted mid-run: the watcher reconnects and resynchronises', { skip: noPodman }, async (t) => {
  const socket = join(tempDir(t), 'podman.sock');
  let service = await startService(socket);
  t.teardown(() => stopService(service));
  const engine = new Docker({ socketPath: socket });
  const token = project(t, engine);
  // Should the test fail while the service is down, the project's own teardown could not reach the containers:
  // the CLI, which needs no service, removes them first.
  t.teardown(async () => {
    const { stdout } = await run('podman', ['ps', '-aq', '--filter', `label=${RUN_LABEL}=${token}`], { env: PODMAN_ENV });
    const ids = stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('podman', ['rm', '-f', ...ids], { env: PODMAN_ENV });
  });
  const stays = await startApp(token, 'stays', {}, engine);
  const goes = await startApp(token, 'goes', {}, engine);
  const watcher = createWatcher(parseWatchSettings({
    socketPath: socket, project: token, startGrace: '0s', health: 'native', checks: ['http://:8080/health'], interval: '500ms', retries: 2,
  }, { values: {}, flagOf: {} }), { reconnect: { minMs: 100, maxMs: 1000 } });
  t.teardown(() => watcher.stop());
  const engineStates: EngineState[] = [];
  watcher.on('engine', (state) => engineStates.push(state));
  const log = record(watcher);
  await watcher.start();
  await log.until(to('healthy', `${token}-stays`));
  await log.until(to('healthy', `${token}-goes`));

  await stopService(service);
  t.ok(await until(() => engineStates.some((s) => !s.connected)), 'the watcher saw the event stream break');
  // Behind its back: one container stopped, one started; events it will never receive.
  await run('podman', ['stop', '-t', '1', goes.id], { env: PODMAN_ENV });
  await run('podman', ['run', '-d', '--name', `${token}-comes`, '-e', 'PORT=8080', '--label', `${RUN_LABEL}=${token}`,
    '--label', `com.docker.compose.project=${token}`, '--label', 'lifeguard.watch=true', IMAGE, '/bin/lifeguard-test-app'], { env: PODMAN_ENV });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const lostFor = engineStates.filter((s) => !s.connected).length;
  t.ok(lostFor >= 2, `it kept retrying while the engine was away (${lostFor} attempts)`);

  service = await startService(socket);
  t.ok(await until(() => engineStates.at(-1)?.connected === true, 10_000), 'reconnected');
  t.match(await log.until(to('stopped', `${token}-goes`)), { msg: /Container exited/ }, 'the stop it missed is seen on the resync');
  await log.until(to('healthy', `${token}-comes`));
  t.pass('the container started while it was away is watched');

  // And the stream works again: a container turning unhealthy now is restarted.
  const from = log.transitions.length;
  await exec(stays, ['rm', '/www/health']);
  await log.until((x) => x.instance === `${token}-stays` && x.from === 'restarting' && x.to === 'starting', 20_000, from);
  t.pass('an unhealthy container is restarted after the reconnection');
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

t.test('the Docker daemon restarted mid-run (live-restore): the watcher reconnects and resynchronises; frozen HEALTHCHECKs are said', { skip: noDocker }, async (t) => {
  const socket = SOCKET as string;
  const daemon = DOCKERD as Daemon;
  const engine = new Docker({ socketPath: socket });
  // Should the test fail while the daemon is down, it is started again before anything else is torn down.
  let down = false;
  t.teardown(async () => {
    if (down) await restartDaemon(daemon, socket);
  });
  const token = project(t, engine);
  const stays = await startApp(token, 'stays', {}, engine);
  const goes = await startApp(token, 'goes', {}, engine);
  await startApp(token, 'checked', { healthcheck: { test: ['CMD-SHELL', 'test -f /www/health'], intervalMs: 500, retries: 2 } }, engine);
  const settings = { socketPath: socket, project: token, startGrace: '0s' };
  const watcher = createWatcher(parseWatchSettings({ ...settings, health: 'native', checks: ['http://:8080/health'], interval: '500ms', retries: 2 }, { values: {}, flagOf: {} }), { reconnect: { minMs: 100, maxMs: 1000 } });
  // The engine's own HEALTHCHECK status, for the container that has one (the others have none: nothing to say).
  const engineHealth = createWatcher(parseWatchSettings({ ...settings, dryRun: true }, { values: {}, flagOf: {} }), { reconnect: { minMs: 100, maxMs: 1000 } });
  t.teardown(() => watcher.stop());
  t.teardown(() => engineHealth.stop());
  const engineStates: EngineState[] = [];
  watcher.on('engine', (state) => engineStates.push(state));
  const log = record(watcher);
  const healthLog = record(engineHealth);
  await watcher.start();
  await engineHealth.start();
  await log.until(to('healthy', `${token}-stays`));
  await log.until(to('healthy', `${token}-goes`));
  await healthLog.until(to('healthy', `${token}-checked`));
  const goesPid = (await goes.inspect()).State.Pid;

  process.kill(daemon.pid, 'SIGTERM');
  down = true;
  t.ok(await gone(daemon.pid, 30_000), 'the daemon stopped');
  t.ok(await until(() => engineStates.some((s) => !s.connected)), 'the watcher saw the event stream break');
  t.notOk(engineStates.some((s) => !s.connected && /aborted/.test(s.reason)), 'and did not call it "aborted"');
  t.ok((await stays.inspect().then(() => false, () => true)), 'the daemon is really away');
  // Behind its back: one container's process killed; the event is never sent.
  process.kill(goesPid, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.ok(engineStates.filter((s) => !s.connected).length >= 2, 'it kept retrying while the daemon was away');

  await restartDaemon(daemon, socket);
  down = false;
  t.ok(await until(() => engineStates.at(-1)?.connected === true, 10_000), 'reconnected');
  t.match(await log.until(to('stopped', `${token}-goes`)), { msg: /Container exited/ }, 'the exit it missed is seen on the resync');
  t.equal((await stays.inspect()).State.Running, true, 'live-restore kept the others running');

  const version = Number(/^(\d+)\./.exec((await engine.version()).Version)?.[1] ?? 0);
  if (version < 23) {
    const frozen = await healthLog.until((x) => x.instance === `${token}-checked` && /Engine health stopped moving/.test(x.msg), 20_000);
    t.match(frozen.reason, /no HEALTHCHECK run for .*moby#41871/, `Docker ${version}: the restored container's HEALTHCHECK never runs again, and the watcher says so`);
  } else {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    t.notOk(healthLog.transitions.some((x) => /Engine health stopped moving/.test(x.msg)), `Docker ${version}: HEALTHCHECKs keep running after a live-restore restart`);
  }

  // And the stream works again: a container turning unhealthy now is restarted.
  const from = log.transitions.length;
  await exec(stays, ['rm', '/www/health']);
  await log.until((x) => x.instance === `${token}-stays` && x.from === 'restarting' && x.to === 'starting', 20_000, from);
  t.pass('an unhealthy container is restarted after the reconnection');
});
