/**
 * The supervisor: apps, their instances, and the one driver and probes they share. It emits a 'transition' for
 * every state change of every instance (the transition log writes them) and a 'check' for every probe round
 * (for metrics, never logged).
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import type { CheckSpec } from '../checks/types.js';
import { AppController } from './app-controller.js';
import type { Driver } from './drivers/driver.js';
import { builtInDrivers } from './drivers/built-in.js';
import { Containment } from './containment.js';
import { Limit } from './probes/limit.js';
import { NativeProbe } from './probes/native.js';
import { OneshotProbe } from './probes/oneshot.js';
import type { LivenessPlan, Probe } from './probes/probe.js';
import { SidecarProbe } from './probes/sidecar.js';
import { StateDir } from './state-dir.js';
import { StateLock } from './state-lock.js';
import type { SupervisorOptions } from './options.js';
import type { AppSpec, Claim, DriverName, ProbeStrategy, SupervisorEvents, SupervisorStatus } from './types.js';

const DEFAULT_AGENT = fileURLToPath(new URL('../../bin/healthcheck.cjs', import.meta.url));
const PREWARM_PING_INTERVAL_MS = 3000;
const PREWARM_PING_FAILURES = 3;
const PREWARM_PING_TIMEOUT_MS = 1000;
const HEARTBEAT_GRACE_MS = 1000;

type Phase = 'new' | 'running' | 'stopping' | 'stopped';

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly apps: ReadonlyMap<string, AppController>;
  private readonly records: StateDir;
  private readonly probes: Readonly<Record<ProbeStrategy, Probe>>;
  private readonly drivers: readonly Driver[];
  /** Each instance's cgroup (or marker) under the built-in process and netns drivers. */
  private readonly containment: Containment | undefined;
  private phase: Phase = 'new';
  /** Sidecar agents booting at once, host-wide (Diego's rep bounds concurrent starts the same way). */
  private readonly agentStarts: Limit;
  private stopped: Promise<void> | undefined;
  private lock: StateLock | undefined;

  constructor(options: SupervisorOptions) {
    super();
    const tuning = options.tuning ?? {};
    this.records = new StateDir(options.stateDir);
    const agentPath = options.agentPath ?? DEFAULT_AGENT;
    this.agentStarts = new Limit(tuning.agentStartConcurrency ?? defaultAgentStartConcurrency());
    this.probes = {
      native: new NativeProbe(undefined, options.clock),
      oneshot: new OneshotProbe(agentPath),
      sidecar: new SidecarProbe({ agentPath, heartbeatGraceMs: tuning.heartbeatGraceMs ?? HEARTBEAT_GRACE_MS, startGate: this.agentStarts }),
    };
    // An embedder's own driver runs every app, whatever driver its spec names; else each app's names a built-in one.
    const custom = options.driver;
    this.containment = custom === undefined ? new Containment(options.stateDir, options.containment) : undefined;
    const builtIn = this.containment === undefined ? new Map<DriverName, Driver>() : builtInDrivers(options, agentPath, this.containment);
    this.drivers = custom === undefined ? [...builtIn.values()] : [custom];
    const pingIntervalMs = tuning.prewarmPingIntervalMs ?? PREWARM_PING_INTERVAL_MS;
    const pingFailures = tuning.prewarmPingFailures ?? PREWARM_PING_FAILURES;
    this.apps = new Map(
      options.apps.map((spec) => [
        spec.name,
        new AppController(spec, {
          driver: custom ?? (builtIn.get(spec.driver) as Driver),
          probe: this.probes[spec.probe],
          records: this.records,
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          pingPlan: pingPlan(spec, pingIntervalMs, pingFailures),
          transition: (transition) => this.emit('transition', transition),
          checked: (instance, phase, passed, latencyMs, lateMs) => this.emit('check', { app: spec.name, instance: instance.id, passed, latencyMs, phase, lateMs }),
        }),
      ]),
    );
  }

  /**
   * Takes the state directory's lock (a directory in use, or one that cannot be written, is refused with a usage
   * error), kills whatever a previous supervisor on it left running, then starts every app.
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error('bug: a Supervisor starts once');
    this.lock = StateLock.acquire(this.records.root);
    this.phase = 'running';
    await this.records.reapLeftovers();
    // Then what process records do not cover: a previous supervisor's namespaces and containers.
    for (const driver of this.drivers) await driver.cleanup?.();
    if (this.phase !== 'running') return; // stop() came during the cleanup
    for (const app of this.apps.values()) app.start();
  }

  /** Destroys every instance, each within its grace period; resolves when all are gone. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  /** Sidecar agents booting now, and waiting for their turn to boot. */
  agentStartQueue(): { readonly booting: number; readonly waiting: number } {
    return { booting: this.agentStarts.running, waiting: this.agentStarts.queued };
  }

  status(): SupervisorStatus {
    return { apps: [...this.apps.values()].map((app) => app.status()) };
  }

  /**
   * A prewarmed instance of `app`, or undefined when none is ready. Rejects with a LifeguardFailure when there
   * is no such app, so that an HTTP front can tell 404 from 503.
   */
  claim(app: string): Promise<Claim | undefined> {
    const controller = this.apps.get(app);
    if (controller === undefined) return Promise.reject(new LifeguardFailure(usageError(`no app named '${app}'`)));
    if (this.phase !== 'running') return Promise.resolve(undefined);
    return controller.claim();
  }

  /** Ends a claimed instance of `app`; resolves false when there is no such claim (nor app), once it is destroyed otherwise. */
  release(app: string, id: string): Promise<boolean> {
    return this.apps.get(app)?.release(id) ?? Promise.resolve(false);
  }

  private async stopAll(): Promise<void> {
    this.phase = 'stopping';
    await Promise.all([...this.apps.values()].map((app) => app.stop()));
    await Promise.all(Object.values(this.probes).map((probe) => probe.close()));
    this.containment?.close();
    this.lock?.release();
    this.phase = 'stopped';
  }
}

/**
 * Two agents booting per core keeps every core busy (an agent's boot is mostly CPU, with a little I/O) without
 * a thousand of them thrashing a few cores, which made every one of them, and every instance, late.
 */
export function defaultAgentStartConcurrency(): number {
  return Math.max(2, 2 * availableParallelism());
}

/** OpenWhisk pings a prewarmed container's port over TCP: its first port, else the port its first check names. */
function pingPlan(spec: AppSpec, intervalMs: number, failureThreshold: number): LivenessPlan {
  const port = spec.ports[0] ?? spec.checks[0]?.port ?? spec.readinessChecks[0]?.port ?? 8080;
  const ping: CheckSpec = { kind: 'tcp', port, timeoutMs: Math.min(PREWARM_PING_TIMEOUT_MS, intervalMs) };
  return { checks: [ping], intervalMs, failureThreshold };
}
