// The docker driver against a real engine: Podman's Docker-compatible API service, which .ci/run starts and names
// in LIFEGUARD_TEST_DOCKER_SOCKET, with the offline test image of scripts/build-test-images.sh (busybox httpd as
// the app; the single executable's loader and libraries, so that the same image serves as sidecar). Traffic goes
// only to the containers these tests create; every container they create is removed, by label, at the end.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Docker from 'dockerode';
import t, { type Test } from 'tap';
import { DockerDriver } from '../../src/supervisor/drivers/docker.js';
import { ownerTag } from '../../src/shared/owner.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { SupervisorOptions } from '../../src/supervisor/config/options.js';
import type { AppSpec, ProbeStrategy } from '../../src/supervisor/spec/types.js';
import type { Transition } from '../../src/shared/transition.js';
import { appSpec, ROOT, STRATEGIES, supervise, to } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const SOCKET = process.env.LIFEGUARD_TEST_DOCKER_SOCKET;
const IMAGE = process.env.LIFEGUARD_TEST_IMAGE ?? 'localhost/lifeguard-test:latest';
const AGENT_BINARY = join(ROOT, 'dist/healthcheck');
const skip =
  SOCKET === undefined
    ? 'set LIFEGUARD_TEST_DOCKER_SOCKET to a Docker API socket (.ci/run starts `podman system service` and sets it)'
    : !existsSync(AGENT_BINARY)
      ? 'needs dist/healthcheck (npm run build:binary)'
      : false;

const docker = new Docker({ socketPath: SOCKET ?? '/nonexistent' });

function containerApp(probe: ProbeStrategy, overrides: Partial<AppSpec> = {}): AppSpec {
  return appSpec(probe, {
    driver: 'docker',
    image: IMAGE,
    command: ['/bin/lifeguard-test-app'],
    // Container creation and a cold start are slower than a process.
    startupTimeoutMs: 15_000,
    startupIntervalMs: 200,
    livenessIntervalMs: 500,
    ...overrides,
  });
}

/** The containers this state directory's supervisor owns, as the engine lists them. */
async function owned(stateDir: string, extra: string[] = []): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`lifeguard.supervisor=${ownerTag(stateDir)}`, ...extra] } });
}

/** The instance's sidecar container: one lifecycle agent for the instance's life (bounded wait). */
async function sidecarOf(stateDir: string, instance: string): Promise<Docker.ContainerInfo | undefined> {
  for (let i = 0; i < 100; i++) {
    const sidecars = await owned(stateDir, [`lifeguard.instance=${instance}`, 'lifeguard.role=sidecar']);
    const sidecar = sidecars.find((c) => c.Command.includes('--mode=lifecycle'));
    if (sidecar !== undefined) return sidecar;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** A state directory whose containers are all removed when the test ends, whatever happened in it. */
function stateDirFor(t: Test): string {
  const stateDir = tempDir(t);
  t.teardown(async () => {
    // Sidecars first: the engine refuses to remove an app container while one shares its network.
    const left = await owned(stateDir);
    left.sort((x, y) => Number(x.Labels['lifeguard.role'] === 'app') - Number(y.Labels['lifeguard.role'] === 'app'));
    for (const { Id } of left) await docker.getContainer(Id).remove({ force: true }).catch(() => undefined);
  });
  return stateDir;
}

async function superviseContainers(t: Test, apps: readonly AppSpec[], sidecarImage?: string) {
  const stateDir = stateDirFor(t);
  const driver = new DockerDriver({ socketPath: SOCKET as string, agentBinary: AGENT_BINARY, stateDir, ...(sidecarImage === undefined ? {} : { sidecarImage }) });
  const h = await supervise(t, apps, {}, undefined, driver);
  return { ...h, stateDir };
}

/** Reads a child supervisor's transition log (JSON lines) until `done`, bounded. */
async function follow(child: ReturnType<typeof spawn>, done: (t: Transition) => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      if (done(JSON.parse(line) as Transition)) return true;
    }
    return false;
  } finally {
    clearTimeout(deadline);
  }
}

t.test('docker driver', { skip }, async (t) => {
  for (const probe of STRATEGIES) {
    t.test(`${probe}: an app container starts and becomes healthy at its own address`, async (t) => {
      const h = await superviseContainers(t, [containerApp(probe)]);
      await h.until(to('healthy', 'web-1'), 30_000);
      t.match(h.supervisor.status().apps[0]?.instances[0], { id: 'web-1', state: 'healthy', address: /^\d+\.\d+\.\d+\.\d+:8080$/ });
      const app = await owned(h.stateDir, ['lifeguard.instance=web-1', 'lifeguard.role=app']);
      t.equal(app.length, 1, 'one app container, labelled');
      t.match(app[0]?.Labels, { 'lifeguard.app': 'web', 'lifeguard.instance': 'web-1', 'lifeguard.role': 'app' });
      if (probe === 'sidecar') {
        const sidecar = await sidecarOf(h.stateDir, 'web-1');
        t.ok(sidecar, 'a sidecar container runs beside it');
        const info = await docker.getContainer(sidecar?.Id as string).inspect();
        t.equal(info.HostConfig.NetworkMode, `container:${app[0]?.Id}`, "in the app container's network");
        t.match(info.Name, new RegExp(`^/${app[0]?.Names[0]?.slice(1)}-healthcheck-[0-9a-f]{6}$`), 'named after the container it serves');
        t.match(info.Mounts, [{ Destination: '/etc/lifeguard/healthcheck', RW: false }], 'the agent bind-mounted read-only');
        t.ok(info.Config.Cmd.includes('http://:8080/health'), 'given no host: it finds the address itself');
      }
    });
  }

  t.test('sidecar: a liveness failure destroys the instance and a replacement is scheduled', async (t) => {
    const h = await superviseContainers(t, [containerApp('sidecar', { env: { UNHEALTHY_AFTER: '3' } })]);
    const unhealthy = await h.until(to('unhealthy', 'web-1'), 30_000);
    t.match(unhealthy.reason, /failed to make HTTP request to '\/health' on [\d.]+:8080: received status code 404/);
    await h.until(to('destroyed', 'web-1'), 20_000);
    t.same(await owned(h.stateDir, ['lifeguard.instance=web-1']), [], 'its app and sidecar containers are removed');
    // Its replacement misbehaves 3s after its start too: whether it is healthy first depends on how fast its
    // sidecar boots (on a loaded machine, with Docker's vfs storage, not within 3s). That it is scheduled and
    // started is what this test is about.
    t.match(await h.until((x) => x.to === 'scheduled' && x.replaces === 'web-1', 20_000), { instance: 'web-2' });
    await h.until(to('starting', 'web-2'), 30_000);
  });

  t.test('an app container that exits is a crash', async (t) => {
    const h = await superviseContainers(t, [containerApp('native', { livenessIntervalMs: 10_000, env: { CRASH_AFTER: '2', CRASH_CODE: '7' } })]);
    // Not necessarily web-1: a check that lands between the exit and the engine's word of it finds the address
    // freed, or already another parallel test's container (the engine reuses addresses at once), and fails first.
    const crashed = await h.until((x) => x.to === 'crashed' && x.reason === 'exited with code 7', 30_000);
    t.match(crashed, { msg: 'Container crashed', cause: 'crashed' });
    await h.until(to('destroyed', crashed.instance), 20_000);
    await h.until((x) => x.to === 'scheduled' && x.replaces === crashed.instance);
  });

  t.test('lifeguard run, then SIGTERM: every container is stopped and removed', async (t) => {
    const stateDir = stateDirFor(t);
    const config = join(stateDir, 'config.json');
    writeFileSync(config, JSON.stringify({
      apps: [{ name: 'web', driver: 'docker', image: IMAGE, command: ['/bin/lifeguard-test-app'], instances: 2, ports: [8080], gracePeriod: '2s', startupInterval: '200ms', livenessInterval: '1s', checks: [{ http_check: { port: 8080, path: '/health' } }] }],
      docker: { socketPath: SOCKET, agentBinary: AGENT_BINARY },
      stateDir,
    }));
    const run = spawn(process.execPath, [join(ROOT, 'bin/lifeguard.js'), 'run', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
    });
    const healthy = new Set<string>();
    t.ok(await follow(run, (x) => x.to === 'healthy' && healthy.add(x.instance).size === 2), 'both instances became healthy');
    t.equal((await owned(stateDir, ['lifeguard.role=app'])).length, 2);
    run.kill('SIGTERM');
    const code = await new Promise((resolve) => run.once('exit', resolve));
    t.equal(code, 0, 'lifeguard exits 0');
    t.same(await owned(stateDir), [], 'no container of its own is left, running or not');
  });

  t.test('a supervisor started after a SIGKILLed one removes the containers it left', async (t) => {
    const stateDir = stateDirFor(t);
    const options: SupervisorOptions = { apps: [containerApp('sidecar')], stateDir, docker: { socketPath: SOCKET as string, agentBinary: AGENT_BINARY } };
    const first = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/supervisor.ts'), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    });
    t.ok(await follow(first, (x) => x.to === 'healthy'), 'the first supervisor got an instance healthy');
    await sidecarOf(stateDir, 'web-1');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const left = await owned(stateDir);
    t.same(left.map((c) => c.Labels['lifeguard.role']).sort(), ['app', 'sidecar'], 'it left an app and a sidecar container behind');

    const second = new Supervisor({ ...options, apps: [containerApp('sidecar', { instances: 0 })] });
    t.teardown(() => second.stop());
    await second.start();
    t.same(await owned(stateDir), [], 'the next one on the same state directory removed them');
  });

  t.test('a paused container is unpaused, then stopped within its grace period, and the log says so', async (t) => {
    const h = await superviseContainers(t, [containerApp('native', { gracePeriodMs: 5_000 })]);
    await h.until(to('healthy', 'web-1'), 30_000);
    const [app] = await owned(h.stateDir, ['lifeguard.instance=web-1', 'lifeguard.role=app']);
    await docker.getContainer(app?.Id as string).pause();
    const began = performance.now();
    await h.supervisor.stop();
    t.ok(performance.now() - began < 15_000, 'not grace + 10s of a refused stop');
    t.match(h.transitions.find(to('destroyed', 'web-1')), { cause: 'stopping', reason: 'was paused: unpaused, then stopped' });
    t.same(await owned(h.stateDir), [], 'removed');
  });

  t.test('an applied config rolls containers: a replacement healthy before each old container is removed', async (t) => {
    const stateDir = stateDirFor(t);
    const driver = new DockerDriver({ socketPath: SOCKET as string, agentBinary: AGENT_BINARY, stateDir });
    const engine = { socketPath: SOCKET as string };
    const v1 = containerApp('sidecar', { instances: 2, env: { VERSION: '1' } });
    const h = await supervise(t, [v1], {}, undefined, driver, { stateDir, docker: engine });
    // Both serving first: an old instance still starting would go at once, as one that does not serve.
    for (const id of ['web-1', 'web-2']) await h.until(to('healthy', id), 30_000);
    const changes = await h.supervisor.apply({ apps: [{ ...v1, env: { VERSION: '2' } }], stateDir, docker: engine });
    t.same(changes, [{ app: 'web', change: 'rolling' }]);
    await h.until(to('healthy', 'web-4'), 60_000);
    await h.until(to('destroyed', 'web-2'), 30_000);
    for (const [old, fresh] of [['web-1', 'web-3'], ['web-2', 'web-4']]) {
      const at = (state: Transition['to'], id: string) => h.transitions.findIndex(to(state, id));
      t.ok(at('healthy', fresh) < at('destroying', old), `${fresh} healthy before ${old} is destroyed`, { transitions: h.transitions.map((x) => `${x.instance} ${x.to} ${x.cause ?? ''} ${x.reason ?? ''}`) });
    }
    const apps = await owned(stateDir, ['lifeguard.role=app']);
    t.same(apps.map((c) => c.Labels['lifeguard.instance']).sort(), ['web-3', 'web-4'], 'only the replacements\' containers are left');
    const env = await Promise.all(apps.map(async (c) => (await docker.getContainer(c.Id).inspect()).Config.Env.find((e) => e.startsWith('VERSION='))));
    t.same(env, ['VERSION=2', 'VERSION=2'], 'running the new spec');
  });

  t.test('an image the engine does not have is a permanent failure: given up at once', async (t) => {
    const h = await superviseContainers(t, [containerApp('native', { image: 'localhost/lifeguard-no-such-image:1' })]);
    const givenUp = await h.until(to('given-up', 'web-1'), 30_000);
    t.match(givenUp, { cause: 'permanent' });
    t.match(h.transitions.find(to('crashed', 'web-1')), { cause: 'permanent', reason: /^cannot start a container from localhost\/lifeguard-no-such-image:1: / });
    t.notOk(h.transitions.some((x) => x.cause === 'restart'), 'never retried');
  });

  t.test('a sidecar image the engine does not have is a permanent failure: given up at once, the image named', async (t) => {
    const missing = 'localhost/lifeguard-no-such-sidecar:1';
    const h = await superviseContainers(t, [containerApp('sidecar')], missing);
    const givenUp = await h.until(to('given-up', 'web-1'), 30_000);
    t.match(givenUp, { cause: 'permanent' });
    const crashed = h.transitions.filter((x) => x.instance === 'web-1' && x.to === 'crashed');
    t.equal(crashed.length, 1, 'one crash, one reason');
    t.match(crashed[0], { cause: 'permanent', reason: `cannot start the health check sidecar (docker.sidecarImage): the engine has no image '${missing}' (images are not pulled: pull it first)` });
    t.notOk(h.transitions.some((x) => x.cause === 'restart' || x.to === 'timed-out' || x.to === 'starting'), 'never started, never retried');
    t.same(await owned(h.stateDir), [], 'no container of its own is left');
  });
});
