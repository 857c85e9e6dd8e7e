/**
 * The docker driver: each instance is a container from the app's `image` (with `command` as its Cmd), on the
 * engine's default network, reached by the supervisor at the container's own address on its container ports
 * (PORT is the first). Sidecar agents join its network (see docker-sidecar.ts). Works against Docker or against
 * Podman's Docker-compatible API service.
 *
 * Everything the driver creates carries labels: lifeguard.supervisor (the owner tag of the state directory),
 * lifeguard.app, lifeguard.instance and lifeguard.role (app | sidecar). A supervisor started on the same state
 * directory removes every container with its owner label (cleanup, not adoption: a fresh instance is started in
 * its place, as after any crash, which keeps one code path for every instance's life). Images are not pulled:
 * an image the engine does not have fails the start with the engine's message.
 */
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import { settlesWithin } from '../../checks/deadline.js';
import { LifeguardFailure, usageError } from '../../checks/errors.js';
import { dockerClient } from '../../shared/docker-client.js';
import { ContainerAgentRunner } from '../../probes/docker-sidecar.js';
import { engineMessage, engineUnreachable } from '../../shared/engine-message.js';
import type { Exit } from '../../shared/exit.js';
import type { Endpoint } from '../../probes/probe.js';
import type { DestroyOutcome, Driver, LaunchRequest, LaunchResult, RunningInstance } from './driver.js';
import { engineSocket } from '../../shared/engine-socket.js';
import { ownerTag, ROLE_LABEL } from '../../shared/owner.js';
import { portEnv } from './process.js';

/** How long past the grace period a stop may take before the container is removed by force regardless. */
const STOP_SLACK_MS = 10_000;
/** SIGKILL's exit status: what a container killed at the end of its grace period exits with. */
const KILLED_STATUS = 137;

export interface DockerDriverOptions {
  /** The engine's unix socket; absent: dockerode's defaults (DOCKER_HOST, else /var/run/docker.sock). */
  readonly socketPath?: string;
  /** The single executable (dist/healthcheck) bind-mounted into every sidecar container. */
  readonly agentBinary: string;
  /** The sidecar containers' image; absent: the app's own image, as Diego runs the check in the app's rootfs. */
  readonly sidecarImage?: string;
  /** Names the owner label, so that a supervisor on the same state directory finds the containers again. */
  readonly stateDir: string;
}

export class DockerDriver implements Driver {
  private readonly docker: Docker;
  private readonly socket: string;
  private readonly owner: string;

  constructor(private readonly options: DockerDriverOptions) {
    this.socket = engineSocket(options.socketPath);
    this.docker = dockerClient(this.socket);
    this.owner = ownerTag(options.stateDir);
  }

  async launch({ instance, spec, onExit }: LaunchRequest): Promise<LaunchResult> {
    if (spec.image === undefined) return { ok: false, reason: 'no image given' };
    const sidecarImage = this.options.sidecarImage ?? spec.image;
    // The sidecar is created only once the probe starts, when a missing image would read as a failed health check
    // and be retried; asked first, it is a failed start, permanent as a missing app image is.
    if (spec.probe === 'sidecar' && sidecarImage !== spec.image) {
      const refused = await this.docker.getImage(sidecarImage).inspect().then(
        () => undefined,
        (error: unknown): LaunchResult => {
          const permanent = (error as { statusCode?: number }).statusCode === 404;
          const why = permanent ? noImage(sidecarImage) : engineMessage(error);
          return { ok: false, reason: `cannot start the health check sidecar (docker.sidecarImage): ${why}`, permanent };
        },
      );
      if (refused !== undefined) return refused;
    }
    const labels = { 'lifeguard.supervisor': this.owner, 'lifeguard.app': spec.name, 'lifeguard.instance': instance };
    const env = { ...spec.env, ...portEnv(new Map(spec.ports.map((port) => [port, port]))), LIFEGUARD_INSTANCE: instance };
    let container: Docker.Container | undefined;
    const name = `lg-${this.owner}-${instance}`;
    try {
      container = await this.docker.createContainer({
        name,
        Image: spec.image,
        ...(spec.command === undefined ? {} : { Cmd: [...spec.command] }),
        Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
        Labels: { ...labels, [ROLE_LABEL]: 'app' },
      });
      await container.start();
      const info = await container.inspect();
      // Its address on the first network it joined (the engine's default bridge unless configured otherwise).
      const host = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
      if (!host) throw new Error('the container has no IP address (network mode none?)');
      const agent = new ContainerAgentRunner({
        docker: this.docker,
        appContainerId: container.id,
        appContainerName: name,
        image: sidecarImage,
        agentBinary: resolve(this.options.agentBinary),
        labels: { ...labels, [ROLE_LABEL]: 'sidecar' },
      });
      return { ok: true, running: new ContainerInstance(this.docker, container, host, spec.ports[0] ?? 0, labels, agent, onExit) };
    } catch (error) {
      await container?.remove({ force: true }).catch(() => undefined);
      // The engine has no such image (images are not pulled): no retry will find it.
      const permanent = container === undefined && (error as { statusCode?: number }).statusCode === 404;
      return { ok: false, reason: `cannot start a container from ${spec.image}: ${engineMessage(error)}`, permanent };
    }
  }

  /** Removes every container of this owner, sidecars first (an app container cannot go while one shares its network). */
  async cleanup(): Promise<void> {
    const left = await this.docker.listContainers({ all: true, filters: { label: [`lifeguard.supervisor=${this.owner}`] } }).catch((error: unknown) => {
      throw new LifeguardFailure(usageError(engineUnreachable(this.socket, error, CONFIG_SETTING)));
    });
    const order = (role: string | undefined) => (role === 'sidecar' ? 0 : 1);
    left.sort((a, b) => order(a.Labels[ROLE_LABEL]) - order(b.Labels[ROLE_LABEL]));
    for (const { Id } of left) await this.docker.getContainer(Id).remove({ force: true }).catch(() => undefined);
  }
}

const CONFIG_SETTING = 'docker.socketPath in the config';

/**
 * What `lifeguard validate` can know of docker apps before any start: the engine answers, and it has every image
 * an instance or a sidecar would run (images are never pulled). One line per problem.
 */
export async function checkEngine(socketPath: string | undefined, images: ReadonlyMap<string, string>): Promise<string[]> {
  let socket: string;
  try {
    socket = engineSocket(socketPath);
  } catch (error) {
    return [(error as Error).message];
  }
  const docker = dockerClient(socket);
  try {
    await docker.ping();
  } catch (error) {
    return [engineUnreachable(socket, error, CONFIG_SETTING)];
  }
  const problems: string[] = [];
  for (const [image, field] of images) {
    await docker.getImage(image).inspect().catch(() => problems.push(`${field}: ${noImage(image)}`));
  }
  return problems;
}

function noImage(image: string): string {
  return `the engine has no image '${image}' (images are not pulled: pull it first)`;
}

/** One app container; it owns the wait() on it, and destroy takes its sidecars with it. */
class ContainerInstance implements RunningInstance {
  readonly pid = null;
  readonly tracked = [];
  readonly address: string;
  private exit: Exit | undefined;
  private readonly waited: Promise<void>;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    private readonly host: string,
    firstPort: number,
    private readonly labels: Readonly<Record<string, string>>,
    readonly agent: ContainerAgentRunner,
    onExit: (exit: Exit) => void,
  ) {
    this.address = `${host}:${firstPort}`;
    this.waited = (container.wait() as Promise<{ StatusCode: number }>).then(
      (result) => ({ code: result.StatusCode, signal: null }),
      // The engine lost it (removed behind our back, the API service went away): it is not running for us.
      (): Exit => ({ code: null, signal: null }),
    ).then((exit) => {
      this.exit = exit;
      onExit(exit);
    });
  }

  endpoint(containerPort: number): Endpoint {
    return { host: this.host, port: containerPort };
  }

  async destroy(gracePeriodMs: number): Promise<DestroyOutcome> {
    await this.removeSidecars();
    let forced = false;
    let reason: string | undefined;
    if (this.exit === undefined) {
      // A paused container cannot be stopped (Podman: 500 "container state improper"): unpause it first, as the
      // process driver sends SIGCONT with its SIGTERM.
      const paused = await this.container.inspect().then((info) => info.State.Paused, () => false);
      if (paused) await this.container.unpause().catch(() => undefined);
      // The API takes whole seconds; a grace period is rounded up, never cut short.
      const refused = await this.container.stop({ t: Math.ceil(gracePeriodMs / 1000) }).then(
        () => undefined,
        // 304: it stopped on its own meanwhile.
        (error: unknown) => ((error as { statusCode?: number }).statusCode === 304 ? undefined : engineMessage(error)),
      );
      await settlesWithin(this.waited, gracePeriodMs + STOP_SLACK_MS);
      // Still no exit seen: the removal below is what ends it.
      const exit = this.exit as Exit | undefined; // set by the wait() above, which TypeScript cannot see
      forced = exit === undefined || exit.code === KILLED_STATUS;
      if (refused !== undefined) reason = `the engine refused to stop it (${refused}): removed by force`;
      else if (paused) reason = forced ? 'was paused: unpaused, still running after SIGTERM, killed' : 'was paused: unpaused, then stopped';
    }
    // A sidecar whose creation was in flight when its probe was cancelled may have appeared since: once more.
    await this.container.remove({ force: true }).catch(async () => {
      await this.removeSidecars();
      await this.container.remove({ force: true }).catch(() => undefined);
    });
    return reason === undefined ? { forced } : { forced, reason };
  }

  /** A sidecar's probe is cancelled before destroy, but its removal may still be in flight: make sure of it. */
  private async removeSidecars(): Promise<void> {
    const filters = { label: [`lifeguard.instance=${this.labels['lifeguard.instance']}`, `lifeguard.supervisor=${this.labels['lifeguard.supervisor']}`, `${ROLE_LABEL}=sidecar`] };
    const sidecars = await this.docker.listContainers({ all: true, filters }).catch(() => []);
    await Promise.all(sidecars.map(({ Id }) => this.docker.getContainer(Id).remove({ force: true }).catch(() => undefined)));
  }
}
