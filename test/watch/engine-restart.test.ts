// The engine goes away mid-run and comes back: this test starts Podman's API service on a socket of its own,
// stops the service process while the watcher runs, changes things behind its back with the podman CLI (which
// needs no service), starts the service again on the same socket, and checks that the watcher reconnected and
// listed the containers again. The containers outlive the service (conmon keeps them), as under Docker's
// live-restore.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import t from 'tap';
import { createWatcher } from '../../src/watch/create-watcher.js';
import { parseWatchSettings } from '../../src/watch/settings.js';
import type { EngineState } from '../../src/watch/watcher.js';
import { ROOT } from '../supervisor/harness.js';
import { tempDir } from '../helpers/temp-dir.js';
import { exec, IMAGE, project, record, RUN_LABEL, skip, startApp, to } from './harness.js';

const run = promisify(execFile);
const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(ROOT, 'test/containers/containers.conf') };
const noPodman = skip || (process.getuid?.() !== 0 ? 'needs root (the podman of the other tests is root\'s)' : false);

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
  t.match(await log.until(to('destroyed', `${token}-goes`)), { msg: /Container exited/ }, 'the stop it missed is seen on the resync');
  await log.until(to('healthy', `${token}-comes`));
  t.pass('the container started while it was away is watched');

  // And the stream works again: a container turning unhealthy now is restarted.
  const from = log.transitions.length;
  await exec(stays, ['rm', '/www/health']);
  await log.until((x) => x.instance === `${token}-stays` && x.from === 'destroying' && x.to === 'starting', 20_000, from);
  t.pass('an unhealthy container is restarted after the reconnection');
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}
