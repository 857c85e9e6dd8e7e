// Real containers for the `lifeguard watch` tests, on Podman's Docker-compatible API service (.ci/run starts it
// and names it in LIFEGUARD_TEST_DOCKER_SOCKET), from the offline test image of scripts/build-test-images.sh.
// Every container a test makes carries `lifeguard-test.run=<token>` and is removed by it when the test ends;
// the token is also the compose project the watcher is told to watch, so no watcher here sees anything else.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Test } from 'tap';
import type { WatchTransition } from '../../src/shared/transition.js';
import type { Watcher } from '../../src/watch/watcher.js';
import { ROOT } from '../supervisor/harness.js';

export const SOCKET = process.env.LIFEGUARD_TEST_DOCKER_SOCKET;
export const IMAGE = process.env.LIFEGUARD_TEST_IMAGE ?? 'localhost/lifeguard-test:latest';
export const AGENT_BINARY = join(ROOT, 'dist/healthcheck');
export const RUN_LABEL = 'lifeguard-test.run';

export const skip =
  SOCKET === undefined ? 'set LIFEGUARD_TEST_DOCKER_SOCKET to a Docker API socket (.ci/run starts `podman system service` and sets it)' : false;

export const docker = new Docker({ socketPath: SOCKET ?? '/nonexistent' });

/** A compose project of the test's own; its containers are removed at the end, whatever happened. */
export function project(t: Test, engine: Docker = docker): string {
  const token = `lgw-${randomBytes(4).toString('hex')}`;
  t.teardown(async () => {
    const left = await engine.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${token}`] } }).catch(() => []);
    // Sidecars first (they carry the watched container's id): the engine refuses to remove a container while
    // another shares its network.
    for (const { Id } of left) {
      const sidecars = await engine.listContainers({ all: true, filters: { label: [`lifeguard.watched=${Id}`] } }).catch(() => []);
      for (const sidecar of sidecars) await engine.getContainer(sidecar.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const { Id } of left) await engine.getContainer(Id).remove({ force: true }).catch(() => undefined);
  });
  return token;
}

export interface AppOptions {
  readonly watched?: boolean;
  readonly env?: Record<string, string>;
  /** Set at create time, as `docker run --health-cmd` does (podman import cannot give an image a HEALTHCHECK). */
  readonly healthcheck?: { readonly test: string[]; readonly intervalMs: number; readonly retries: number; readonly startPeriodMs?: number };
}

/** Starts a test app container (busybox httpd answering GET /health on 8080) in the project. */
export async function startApp(token: string, name: string, options: AppOptions = {}, engine: Docker = docker): Promise<Docker.Container> {
  const labels: Record<string, string> = { [RUN_LABEL]: token, 'com.docker.compose.project': token, 'com.docker.compose.service': name };
  if (options.watched !== false) labels['lifeguard.watch'] = 'true';
  const hc = options.healthcheck;
  const container = await engine.createContainer({
    name: `${token}-${name}`,
    Image: IMAGE,
    Cmd: ['/bin/lifeguard-test-app'],
    Env: Object.entries({ PORT: '8080', ...options.env }).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    ...(hc === undefined ? {} : {
      Healthcheck: { Test: hc.test, Interval: hc.intervalMs * 1e6, Timeout: 1e9, Retries: hc.retries, StartPeriod: (hc.startPeriodMs ?? 0) * 1e6 },
    }),
  });
  await container.start();
  return container;
}

/** Runs a command in a container and waits for it to end. */
export async function exec(container: Docker.Container, cmd: string[]): Promise<void> {
  const run = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await run.start({});
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.resume();
  });
}

export async function startedAt(container: Docker.Container): Promise<string> {
  return (await container.inspect()).State.StartedAt;
}

export function agentBinaryMissing(): string | false {
  return existsSync(AGENT_BINARY) ? false : 'needs dist/healthcheck (npm run build:binary)';
}

export interface Recorder {
  readonly transitions: (WatchTransition & { at: number })[];
  /** The first transition matching, among those from index `from` on; rejects after timeoutMs, listing what was seen. */
  until(match: (t: WatchTransition) => boolean, timeoutMs?: number, from?: number): Promise<WatchTransition & { at: number }>;
}

/** Records a watcher's transitions, with the moment each arrived. */
export function record(watcher: Watcher): Recorder {
  const transitions: (WatchTransition & { at: number })[] = [];
  const waiters = new Set<() => void>();
  watcher.on('transition', (x) => {
    transitions.push({ ...x, at: Date.now() });
    for (const w of waiters) w();
  });
  const until: Recorder['until'] = (match, timeoutMs = 20_000, from = 0) =>
    new Promise((resolve, reject) => {
      const look = () => transitions.slice(from).find(match);
      const seen = look();
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching transition within ${timeoutMs}ms; saw:\n${transitions.map((x) => `${x.instance} ${x.from} -> ${x.to}: ${x.msg} (${x.reason ?? ''})`).join('\n')}`));
      }, timeoutMs);
      const waiter = () => {
        const found = look();
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(found);
      };
      waiters.add(waiter);
    });
  return { transitions, until };
}

export const to = (state: WatchTransition['to'], instance?: string) => (x: WatchTransition) => x.to === state && (instance === undefined || x.instance === instance);
