/**
 * What `lifeguard watch` asks of the container engine, as one interface: the watcher's rules are tested against a
 * fake of it, and DockerEngine speaks the Docker Engine API (dockerode) to Docker or to Podman's API service.
 * Everything the engine says is turned into typed facts here, once; nothing above this file reads the API's JSON.
 */
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import { dockerClient } from '../shared/docker-client.js';
import { engineMessage } from '../shared/engine-message.js';
import { engineSocket } from '../shared/engine-socket.js';
import { Deadline } from '../checks/deadline.js';
import type { Selector } from './selector.js';

type EngineHealth =
  /** The container has no HEALTHCHECK: the engine has nothing to say. */
  | { readonly status: 'none' }
  | ({ readonly status: 'starting' } & ProbeRecord)
  | ({ readonly status: 'healthy' } & ProbeRecord)
  | ({ readonly status: 'unhealthy'; readonly reason: string } & ProbeRecord);

/** Whether the engine still runs the HEALTHCHECK: Docker before 23 stops for good after a live-restore restart (moby#41871). */
export interface ProbeRecord {
  /** When its newest HEALTHCHECK run began, as the engine wrote it; absent before the first. */
  readonly lastProbeAt?: string;
  /** Its HEALTHCHECK's interval (the engine's default, 30s, when unset). */
  readonly intervalMs?: number;
}

export interface ContainerFacts {
  readonly id: string;
  /** Without the leading `/` the API puts there. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly running: boolean;
  /** Frozen by `docker pause`: running, but not to be judged or touched. */
  readonly paused: boolean;
  /** When its current (or last) run began, in ms since the epoch; 0 if it never ran. */
  readonly startedAtMs: number;
  readonly exitCode: number | null;
  /** Its HEALTHCHECK's start period, during which failures do not count; 0 without one. */
  readonly startPeriodMs: number;
  readonly health: EngineHealth;
  /** Its IP address on the first network it joined, when it has one. */
  readonly address?: string;
}

/** One container event, as far as the watcher cares: which container, and what happened to it. */
export interface EngineEvent {
  readonly id: string;
  /** `start`, `die`, `health_status`, `destroy`…; Docker's `health_status: unhealthy` arrives as `health_status`. */
  readonly action: string;
  /** The container's labels, which Docker and Podman both copy into the event. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface EventSubscription {
  /** Ends the stream; its onEnd is not called after this. */
  close(): void;
}

export interface Engine {
  /** Where the engine is, for error lines. */
  readonly where: string;
  /** Ids of the running containers the selector matches. */
  listRunning(selector: Selector): Promise<string[]>;
  /** Undefined when there is no such container (any more). */
  inspect(id: string): Promise<ContainerFacts | undefined>;
  /** `timeoutS`: the stop's grace before SIGKILL, in whole seconds as the API takes it. */
  restart(id: string, timeoutS: number): Promise<void>;
  stop(id: string, timeoutS: number): Promise<void>;
  /**
   * Resolves once the event stream is open, so that a list made after it cannot miss an event; onEnd is told
   * once when the stream ends or breaks (the engine went away).
   */
  subscribe(selector: Selector, onEvent: (event: EngineEvent) => void, onEnd: (reason: string) => void): Promise<EventSubscription>;
}

/**
 * The events that can change what the watcher believes of a container; the rest (exec, attach…, and a HEALTHCHECK
 * run is an exec) are dropped here rather than by the engine's `event` filter, whose matching of `health_status:
 * unhealthy` differs between engines. Docker says `destroy` for a removal, Podman `remove`.
 */
const EVENTS: ReadonlySet<string> = new Set(['start', 'restart', 'die', 'stop', 'kill', 'destroy', 'remove', 'health_status', 'pause', 'unpause']);

/** A listing or an inspect that takes longer than this is an engine in trouble: a hard deadline, then an error. */
const QUERY_DEADLINE_MS = 10_000;
/** A failed HEALTHCHECK's output kept in a reason (the engine keeps 4 KiB of it). */
const HEALTHCHECK_OUTPUT_CHARS = 500;
/** A stop or restart takes its grace period, then this much more at most. */
const ACTION_SLACK_MS = 15_000;

export class DockerEngine implements Engine {
  readonly where: string;
  /** For the sidecars, which need the API itself. */
  readonly docker: Docker;

  /** Throws a usage error for a DOCKER_HOST that names no unix socket. */
  constructor(socketPath?: string) {
    this.where = engineSocket(socketPath);
    this.docker = dockerClient(this.where);
  }

  async listRunning(selector: Selector): Promise<string[]> {
    const listed = await withDeadline(QUERY_DEADLINE_MS, (abortSignal) =>
      this.docker.listContainers({ filters: { label: selector.labelFilters() }, abortSignal } as Docker.ContainerListOptions));
    return listed.filter((c) => selector.matches(c.Labels)).map((c) => c.Id);
  }

  async inspect(id: string): Promise<ContainerFacts | undefined> {
    try {
      const info = await withDeadline(QUERY_DEADLINE_MS, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal } as object));
      return toFacts(info);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async restart(id: string, timeoutS: number): Promise<void> {
    await withDeadline(timeoutS * 1000 + ACTION_SLACK_MS, (abortSignal) => this.docker.getContainer(id).restart({ t: timeoutS, abortSignal }));
  }

  async stop(id: string, timeoutS: number): Promise<void> {
    await withDeadline(timeoutS * 1000 + ACTION_SLACK_MS, (abortSignal) => this.docker.getContainer(id).stop({ t: timeoutS, abortSignal }))
      .catch((error: unknown) => {
        // 304: it was already stopped, which is what was asked.
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      });
  }

  async subscribe(selector: Selector, onEvent: (event: EngineEvent) => void, onEnd: (reason: string) => void): Promise<EventSubscription> {
    const abort = new AbortController();
    const filters = { type: ['container'], label: selector.labelFilters() };
    const stream = (await this.docker.getEvents({ filters, abortSignal: abort.signal } as object)) as NodeJS.ReadableStream;
    let closed = false;
    const end = (reason: string) => {
      if (closed) return;
      closed = true;
      onEnd(reason);
    };
    // A socket closed mid-response says `aborted` (or ECONNRESET): the engine went away, as an ended stream says.
    stream.on('error', (error: unknown) => end(streamBroken(error) ? STREAM_CLOSED : engineMessage(error)));
    stream.on('end', () => end(STREAM_CLOSED));
    stream.on('close', () => end(STREAM_CLOSED));
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      const event = toEvent(line);
      if (event !== undefined && !closed) onEvent(event);
    });
    // readline passes the stream's error on; the stream's own listener above has already ended it.
    lines.on('error', () => undefined);
    return {
      close: () => {
        closed = true;
        abort.abort();
      },
    };
  }
}

const STREAM_CLOSED = 'the engine closed the event stream';

function streamBroken(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || message === 'aborted';
}

function toEvent(line: string): EngineEvent | undefined {
  let raw: { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch {
    return undefined;
  }
  if (raw.Type !== 'container' || typeof raw.Action !== 'string' || typeof raw.Actor?.ID !== 'string') return undefined;
  // Docker says `health_status: unhealthy`, Podman `health_status` with the status in a field of its own; the
  // watcher inspects the container on any event anyway, so the name is enough.
  const action = raw.Action.split(':')[0] ?? raw.Action;
  return EVENTS.has(action) ? { id: raw.Actor.ID, action, labels: raw.Actor.Attributes ?? {} } : undefined;
}

function toFacts(info: Docker.ContainerInspectInfo): ContainerFacts {
  const startedAtMs = Date.parse(info.State.StartedAt);
  const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  const healthcheck = (info.Config as { Healthcheck?: { Test?: string[]; StartPeriod?: number; Interval?: number } }).Healthcheck;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    labels: info.Config.Labels ?? {},
    running: info.State.Running,
    paused: info.State.Paused,
    startedAtMs: Number.isFinite(startedAtMs) && startedAtMs > 0 ? startedAtMs : 0,
    exitCode: info.State.Running ? null : info.State.ExitCode,
    // Nanoseconds in the API.
    startPeriodMs: Math.round((healthcheck?.StartPeriod ?? 0) / 1e6),
    health: toHealth(info.State.Health, healthcheck?.Test, healthcheck?.Interval),
    ...(address ? { address } : {}),
  };
}

function toHealth(health: Docker.ContainerInspectInfo['State']['Health'] | undefined, test: string[] | undefined, intervalNs: number | undefined): EngineHealth {
  // ["NONE"] disables an image's HEALTHCHECK.
  if (health === undefined || test === undefined || test.length === 0 || test[0] === 'NONE') return { status: 'none' };
  const newest = (health.Log ?? []).at(-1) as { Start?: string } | undefined;
  const record: ProbeRecord = { intervalMs: intervalNs ? Math.round(intervalNs / 1e6) : DEFAULT_HEALTHCHECK_INTERVAL_MS, ...(newest?.Start ? { lastProbeAt: newest.Start } : {}) };
  switch (health.Status) {
    case 'healthy':
      return { status: 'healthy', ...record };
    case 'unhealthy':
      return { status: 'unhealthy', reason: lastFailure(health.Log ?? []), ...record };
    default:
      return { status: 'starting', ...record };
  }
}

/** Docker's and Podman's HEALTHCHECK interval when the image or the run gives none. */
const DEFAULT_HEALTHCHECK_INTERVAL_MS = 30_000;

/**
 * The newest failed probe's output, every line (our agent's first line is its summary, the next ones say why),
 * joined as the run driver joins an app's stderr; or its exit code when it printed nothing.
 */
function lastFailure(log: readonly { ExitCode: number; Output: string }[]): string {
  const failed = [...log].reverse().find((entry) => entry.ExitCode !== 0);
  if (failed === undefined) return 'the engine reports it unhealthy';
  const lines = failed.Output.split('\n').map((line) => line.trim()).filter(Boolean).join(' | ');
  const output = lines.length > HEALTHCHECK_OUTPUT_CHARS ? `${lines.slice(0, HEALTHCHECK_OUTPUT_CHARS)}…` : lines;
  return `HEALTHCHECK exited with code ${failed.ExitCode}${output ? `: ${output}` : ''}`;
}

/** Runs an engine call under a hard deadline: past it, the request is aborted and the call fails. */
async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new Deadline(ms, () => {});
  try {
    return await call(deadline.signal);
  } catch (error) {
    if (deadline.outcome === 'expired') throw new Error(`no answer from the engine in ${ms / 1000}s`);
    throw error;
  } finally {
    deadline.finish();
  }
}
