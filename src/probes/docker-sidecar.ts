/**
 * Sidecar agents for the docker driver: each agent is a container of its own that joins the app container's
 * network namespace (NetworkMode `container:<app>`) and runs the single executable bind-mounted read-only at
 * /etc/lifeguard/healthcheck, as Diego mounts /etc/cf-assets/healthcheck. With no --host it finds the app
 * container's address the Diego way.
 *
 * A container inherits no pipe, so the heartbeat goes to the agent's stderr (--heartbeat-fd=2) and its --json
 * report to stdout; both come back over one attach stream, demultiplexed. Attaching before the start means not a
 * line is missed. The exit code comes from wait(); the verdict is given only once the stream has ended too, so
 * that the report is complete. A container that stops sending lines (paused, stuck) is the watchdog's to judge.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import type { AgentRun, AgentRunner, AgentSink } from './agent-runner.js';
import { engineMessage } from '../shared/engine-message.js';

const AGENT_MOUNT = '/etc/lifeguard/healthcheck';

/** Creating and starting a container, then booting the agent, on a loaded machine. */
const CONTAINER_STARTUP_MS = 15_000;

export interface SidecarContainerSpec {
  readonly docker: Docker;
  /** The app container whose network the sidecar joins. */
  readonly appContainerId: string;
  /** Its name: the sidecar's is `<it>-healthcheck-<6 hex>`, so that `docker ps` shows which serves which. */
  readonly appContainerName: string;
  readonly image: string;
  /** Absolute path of the single executable on the engine's host. */
  readonly agentBinary: string;
  readonly labels: Readonly<Record<string, string>>;
}

export class ContainerAgentRunner implements AgentRunner {
  readonly inContext = true;
  readonly startupAllowanceMs = CONTAINER_STARTUP_MS;

  constructor(private readonly spec: SidecarContainerSpec) {}

  start(args: readonly string[], sink: AgentSink): AgentRun {
    return new SidecarContainer(this.spec, args, sink);
  }
}

/** One sidecar container from create to removal; it is always removed, whichever way it ends. */
class SidecarContainer implements AgentRun {
  readonly pid = null;
  readonly closed: Promise<void>;
  private container: Docker.Container | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private killed = false;

  constructor(
    private readonly spec: SidecarContainerSpec,
    args: readonly string[],
    private readonly sink: AgentSink,
  ) {
    this.closed = this.run(args);
  }

  describe(): string {
    return this.container === undefined ? 'container not yet created' : `container ${this.container.id.slice(0, 12)}`;
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    // Forced removal kills it; the wait and the attach stream then end, and run() finishes.
    void this.container?.remove({ force: true }).catch(() => undefined);
    (this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
  }

  private async run(args: readonly string[]): Promise<void> {
    const { docker, appContainerId, appContainerName, image, agentBinary, labels } = this.spec;
    try {
      this.container = await docker.createContainer({
        // A suffix of its own: the one this replaces may still be on its way out under the same prefix.
        name: `${appContainerName}-healthcheck-${randomBytes(3).toString('hex')}`,
        Image: image,
        Entrypoint: [AGENT_MOUNT],
        Cmd: [...args, '--heartbeat-fd=2'],
        Labels: { ...labels },
        AttachStdout: true,
        AttachStderr: true,
        // The agent needs no environment of the app's, and must not take a proxy setting from anywhere.
        Env: [],
        HostConfig: { NetworkMode: `container:${appContainerId}`, Binds: [`${agentBinary}:${AGENT_MOUNT}:ro`] },
      });
      if (this.killed) return;
      const stream = await this.container.attach({ stream: true, stdout: true, stderr: true });
      this.stream = stream;
      const drained = this.demux(stream);
      await this.container.start();
      const [result] = await Promise.all([this.container.wait() as Promise<{ StatusCode: number }>, drained]);
      if (!this.killed) this.sink.exited({ code: result.StatusCode, signal: null });
    } catch (error) {
      if (!this.killed) this.sink.failed(`cannot run the health check sidecar container: ${engineMessage(error)}`);
    } finally {
      this.stream = undefined;
      await this.container?.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Heartbeat lines from stderr, the report from stdout; resolves once the stream has ended and every line is out. */
  private async demux(stream: NodeJS.ReadableStream): Promise<void> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.spec.docker.modem.demuxStream(stream, stdout, stderr);
    stdout.setEncoding('utf8').on('data', (text: string) => this.sink.stdout(text));
    const lines = createInterface({ input: stderr });
    lines.on('line', (line) => this.sink.line(line));
    const ended = () => {
      stdout.end();
      stderr.end();
    };
    stream.once('end', ended);
    stream.once('close', ended);
    await once(lines, 'close');
  }
}

