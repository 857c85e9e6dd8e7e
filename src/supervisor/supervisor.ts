/**
 * The supervisor: apps, their instances, and the one driver and probes they share. It emits a 'transition' for
 * every state change of every instance (the transition log writes them) and a 'check' for every probe round
 * (for metrics, never logged).
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import type { CheckSpec } from '../checks/types.js';
import { type AppChange, AppController } from './app/app-controller.js';
import type { Driver } from './drivers/driver.js';
import { addBuiltInDrivers } from './built-in-drivers.js';
import { Containment } from './host/containment.js';
import { defaultAgentStartConcurrency, Limit } from '../shared/limit.js';
import { NativeProbe } from '../probes/native.js';
import { OneshotProbe, oneshotRunner } from '../probes/oneshot.js';
import type { LivenessPlan, Probe } from '../probes/probe.js';
import { SidecarProbe } from '../probes/sidecar.js';
import { preflight } from './preflight.js';
import { StateDir } from './host/state-dir.js';
import { StateLock } from './host/state-lock.js';
import type { SupervisorOptions } from './config/options.js';
import type { RoutableInstances, Claim, SupervisorStatus } from '../shared/status.js';
import type { AppSpec, DriverName, ProbeStrategy, SupervisorEvents } from './spec/types.js';
import { isRoutingTransition, type Transition } from '../shared/transition.js';

const DEFAULT_AGENT = fileURLToPath(new URL('../../bin/healthcheck.cjs', import.meta.url));
const PREWARM_PING_INTERVAL_MS = 3000;
const PREWARM_PING_FAILURES = 3;
const PREWARM_PING_TIMEOUT_MS = 1000;
const HEARTBEAT_GRACE_MS = 1000;

/** The supervisor's own life: started once, stopped once. (`Phase` is a probe's: readiness or liveness.) */
type RunState = 'new' | 'running' | 'stopping' | 'stopped';

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly apps = new Map<string, AppController>();
  private readonly records: StateDir;
  // native also runs every app's routing checks, whatever its strategy.
  private readonly probes: Readonly<Record<ProbeStrategy, Probe>> & { readonly native: NativeProbe };
  /** An embedder's own driver, which runs every app whatever its spec names. */
  private readonly custom: Driver | undefined;
  /** The built-in drivers the apps name, made as apps that need them arrive. */
  private readonly builtIn = new Map<DriverName, Driver>();
  private readonly agentPath: string;
  /** Each instance's cgroup (or marker) under the built-in process and netns drivers. */
  private readonly containment: Containment | undefined;
  private runState: RunState = 'new';
  /** Sidecar agents booting at once, host-wide (Diego's rep bounds concurrent starts the same way). */
  private readonly agentStarts: Limit;
  private stopped: Promise<void> | undefined;
  private lock: StateLock | undefined;
  /** The options last applied: what a reload compares the next config with. */
  private options: SupervisorOptions;
  /** Apps removed by an applied config, until their instances are gone. */
  private readonly removing = new Set<AppController>();
  /** One apply at a time, in the order asked. */
  private applying: Promise<unknown> = Promise.resolve();
  private readonly pingIntervalMs: number;
  private readonly pingFailures: number;
  /** Apps whose endpoints may have changed since the last 'endpoints' events, told together on the next turn. */
  private readonly endpointsDirty = new Map<string, AppController>();
  private endpointsFlush: NodeJS.Immediate | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.options = options;
    const tuning = options.tuning ?? {};
    this.records = new StateDir(options.stateDir);
    this.agentPath = options.agentPath ?? DEFAULT_AGENT;
    this.agentStarts = new Limit(tuning.agentStartConcurrency ?? defaultAgentStartConcurrency());
    const native = new NativeProbe(undefined, options.clock);
    this.probes = {
      native,
      oneshot: new OneshotProbe(oneshotRunner(this.agentPath), options.clock),
      sidecar: new SidecarProbe({ agentPath: this.agentPath, heartbeatGraceMs: tuning.heartbeatGraceMs ?? HEARTBEAT_GRACE_MS, startGate: this.agentStarts, ...(tuning.agentStartupAllowanceMs === undefined ? {} : { localStartupAllowanceMs: tuning.agentStartupAllowanceMs }), handoff: native, ...(options.clock === undefined ? {} : { clock: options.clock }) }),
    };
    this.custom = options.driver;
    this.containment = this.custom === undefined ? new Containment(options.stateDir, options.containment) : undefined;
    if (this.containment !== undefined) {
      try {
        addBuiltInDrivers(this.builtIn, options, this.agentPath, this.containment);
      } catch (thrown) {
        this.containment.close();
        throw thrown;
      }
    }
    this.pingIntervalMs = tuning.prewarmPingIntervalMs ?? PREWARM_PING_INTERVAL_MS;
    this.pingFailures = tuning.prewarmPingFailures ?? PREWARM_PING_FAILURES;
    for (const spec of options.apps) this.apps.set(spec.name, this.controller(spec));
  }

  /**
   * Takes the state directory's lock now, if start() has not: a directory in use, or one that cannot be written,
   * is refused with a usage error. `lifeguard run` takes it before anything else, so that this is the first thing
   * a second supervisor on the same directory is told.
   */
  takeStateDir(): void {
    this.lock ??= StateLock.acquire(this.records.root);
  }

  /** What keeps this supervisor's config from running here (preflight.ts), one line per problem. */
  preflight(): Promise<string[]> {
    return preflight(this.options, this.containment);
  }

  /** Takes the state directory's lock, kills whatever a previous supervisor on it left running, then starts every app. */
  async start(): Promise<void> {
    if (this.runState !== 'new') throw new Error('bug: a Supervisor starts once');
    this.takeStateDir();
    this.runState = 'running';
    const reaped = await this.records.reapLeftovers();
    if (reaped.length > 0) this.emit('reaped', reaped);
    // Then what process records do not cover: a previous supervisor's namespaces and containers.
    for (const driver of this.drivers()) await driver.cleanup?.();
    if (this.runState !== 'running') return; // stop() came during the cleanup
    for (const app of this.apps.values()) app.start();
  }

  /**
   * Moves the running apps to `next` (README "Reload and apply"): new apps start, removed ones are drained, the
   * others are scaled or rolled, and an app that did not change is not touched. What cannot be applied to a
   * running supervisor (another state directory, other engine settings) or cannot run (preflight's problems)
   * refuses the whole config with a usage error, before anything changes. Applies run one at a time.
   */
  apply(next: SupervisorOptions): Promise<AppliedChange[]> {
    const applied = this.applying.then(() => this.applyNow(next));
    this.applying = applied.catch(() => {});
    return applied;
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
    const apps = [...this.apps.values()].map((app) => app.status());
    return this.containment === undefined ? { apps } : { apps, containment: this.containment.status() };
  }

  /** The routable instances of `app` (README "Routing"); undefined when there is no such app. */
  endpoints(app: string): RoutableInstances | undefined {
    const controller = this.apps.get(app);
    return controller === undefined ? undefined : { app, endpoints: controller.endpoints() };
  }

  /**
   * A prewarmed instance of `app`, or undefined when none is ready. Rejects with a LifeguardFailure when there
   * is no such app, so that an HTTP front can tell 404 from 503.
   */
  claim(app: string): Promise<Claim | undefined> {
    const controller = this.apps.get(app);
    if (controller === undefined) return Promise.reject(new LifeguardFailure(usageError(`no app named '${app}'`)));
    if (this.runState !== 'running') return Promise.resolve(undefined);
    return controller.claim();
  }

  /** Ends a claimed instance of `app`; resolves false when there is no such claim (nor app), once it is destroyed otherwise. */
  release(app: string, id: string): Promise<boolean> {
    return this.apps.get(app)?.release(id) ?? Promise.resolve(false);
  }

  private async applyNow(next: SupervisorOptions): Promise<AppliedChange[]> {
    if (this.runState !== 'running') throw refused('lifeguard is not running (it is starting or stopping)');
    const fixed = fixedSettingChanged(this.options, next);
    if (fixed !== undefined) throw refused(`${fixed} cannot change while lifeguard runs; restart it to change ${fixed}`);
    const problems = await preflight(next, this.containment);
    if (problems.length > 0) throw refused(problems[0] as string);
    const added = this.containment === undefined ? [] : addBuiltInDrivers(this.builtIn, next, this.agentPath, this.containment);
    for (const driver of added) await driver.cleanup?.();
    if (this.runState !== 'running') throw refused('lifeguard is stopping');
    this.options = next;
    const changes: AppliedChange[] = [];
    const wanted = new Set(next.apps.map((spec) => spec.name));
    for (const [name, app] of this.apps) {
      if (wanted.has(name)) continue;
      changes.push({ app: name, change: 'removed' });
      this.apps.delete(name);
      this.removing.add(app);
      void app.stop('removed').then(() => this.removing.delete(app));
    }
    for (const spec of next.apps) {
      const app = this.apps.get(spec.name);
      if (app !== undefined) {
        changes.push({ app: spec.name, change: app.update(spec) });
        continue;
      }
      // An app removed and given back: its instance names are free again once its old instances are gone.
      await [...this.removing].find((old) => old.spec.name === spec.name)?.stop();
      const fresh = this.controller(spec);
      this.apps.set(spec.name, fresh);
      changes.push({ app: spec.name, change: 'added' });
      fresh.start();
    }
    return changes;
  }

  private controller(spec: AppSpec): AppController {
    const { name } = spec;
    const controller: AppController = new AppController(spec, {
      records: this.records,
      routing: this.probes.native,
      ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
      // An embedder's own driver runs every app, whatever driver its spec names; else each spec names a built-in one.
      resources: (of) => ({
        driver: this.custom ?? (this.builtIn.get(of.driver) as Driver),
        probe: this.probes[of.probe],
        pingPlan: pingPlan(of, this.pingIntervalMs, this.pingFailures),
      }),
      transition: (transition) => {
        this.emit('transition', transition);
        this.endpointsMayHaveChanged(controller, transition);
      },
      checked: (instance, phase, passed, latencyMs, lateMs) => this.emit('check', { app: name, instance: instance.id, passed, latencyMs, phase, lateMs }),
    });
    return controller;
  }

  private drivers(): Driver[] {
    return this.custom === undefined ? [...this.builtIn.values()] : [this.custom];
  }

  private async stopAll(): Promise<void> {
    this.runState = 'stopping';
    // A removed app still draining is stopped with the rest: its controller's stop() is the one under way.
    await this.applying;
    await Promise.all([...this.apps.values(), ...this.removing].map((app) => app.stop()));
    await Promise.all(Object.values(this.probes).map((probe) => probe.close()));
    this.containment?.close();
    this.lock?.release();
    // The last lists (every instance gone) are told before the end.
    this.tellEndpoints();
    this.runState = 'stopped';
    this.emit('stopped');
  }

  /**
   * Routability changes only with `healthy` and with routing lines. A watch sends only what changed (endpoint-watch.ts).
   * A removed app's controller tells its instances leaving too (an app of its name comes back only once they are gone).
   */
  private endpointsMayHaveChanged(controller: AppController, t: Transition): void {
    // A list costs O(instances): made only for someone listening, once per turn of the event loop whatever the
    // number of transitions in it (10,000 instances becoming healthy must not cost 10,000 lists).
    if (this.listenerCount('endpoints') === 0) return;
    if (t.from !== 'healthy' && t.to !== 'healthy' && !isRoutingTransition(t)) return;
    this.endpointsDirty.set(t.app, controller);
    this.endpointsFlush ??= setImmediate(() => this.tellEndpoints());
  }

  private tellEndpoints(): void {
    clearImmediate(this.endpointsFlush);
    this.endpointsFlush = undefined;
    const dirty = [...this.endpointsDirty];
    this.endpointsDirty.clear();
    for (const [app, of] of dirty) this.emit('endpoints', { app, endpoints: of.endpoints() } satisfies RoutableInstances);
  }
}

/** One app's part in an applied config. */
export interface AppliedChange {
  readonly app: string;
  readonly change: AppChange | 'added' | 'removed';
}

/** The settings a running supervisor is built around: its state directory, its engine, its agent. */
function fixedSettingChanged(was: SupervisorOptions, next: SupervisorOptions): string | undefined {
  if (resolve(was.stateDir) !== resolve(next.stateDir)) return 'stateDir';
  if (!isDeepStrictEqual(was.docker ?? {}, next.docker ?? {})) return 'docker';
  if (was.tuning?.agentStartConcurrency !== next.tuning?.agentStartConcurrency) return 'agentStartConcurrency';
  return undefined;
}

function refused(detail: string): LifeguardFailure {
  return new LifeguardFailure(usageError(detail));
}

/** OpenWhisk pings a prewarmed container's port over TCP: its first port, else the port its first check names. */
function pingPlan(spec: AppSpec, intervalMs: number, failureThreshold: number): LivenessPlan {
  const port = spec.ports[0] ?? spec.checks[0]?.port ?? spec.readinessChecks[0]?.port ?? 8080;
  const ping: CheckSpec = { kind: 'tcp', port, timeoutMs: Math.min(PREWARM_PING_TIMEOUT_MS, intervalMs) };
  return { checks: [ping], intervalMs, failureThreshold };
}
