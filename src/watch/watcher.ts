/**
 * `lifeguard watch`'s core: follows the engine's event stream for the selected containers and keeps one
 * ContainerWatch per running one, fed with health from the engine's HEALTHCHECK status or from lifeguard's own
 * probes, and carries out what the watches decide.
 *
 * Events, not polling: each event about a container makes the watcher inspect it (the inspect is the truth; the
 * event only says when to look). Everything about one container runs in order, on a queue of its own, so an
 * inspect never overtakes an action. When the stream breaks (the engine restarted), the watcher reconnects with
 * a bounded backoff, and on every (re)connection lists the containers again, so that what happened while it was
 * away is seen; the stream is open before the list is taken, so that nothing falls between the two.
 *
 * Safety: a container is acted on only after an inspect right before the action shows that it still matches the
 * selector and is still the same run (same start time) that was judged.
 */
import { EventEmitter } from 'node:events';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { engineUnreachable } from '../shared/engine-message.js';
import { engineMessage } from '../shared/engine-message.js';
import type { WatchState, WatchTransition } from '../shared/transition.js';
import { backoffMs } from '../shared/restart-policy.js';
import type { Clock, Timer } from '../checks/clock.js';
import { ContainerWatch, type Lineage, type WatchAction, type WatchRules } from './container-watch.js';
import type { ContainerFacts, Engine, EngineEvent, EventSubscription, ProbeRecord } from './engine.js';
import { formatDuration } from '../checks/duration.js';
import type { ProbeHealth, ProbeRun } from './probe-health.js';
import type { Selector } from './selector.js';

const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

export interface ReconnectBackoff {
  readonly minMs: number;
  readonly maxMs: number;
}

const DEFAULT_RECONNECT: ReconnectBackoff = { minMs: 250, maxMs: 10_000 };

export interface WatcherOptions {
  readonly engine: Engine;
  readonly selector: Selector;
  readonly rules: WatchRules;
  /** The grace a stop or restart gives the container before SIGKILL. */
  readonly stopTimeoutMs: number;
  /** Absent: the engine's HEALTHCHECK status is the health. */
  readonly probes?: ProbeHealth;
  readonly clock: Clock;
  readonly reconnect?: ReconnectBackoff;
  /** Runs once the engine is reachable, before anything is watched (removing a killed predecessor's sidecars). */
  readonly beforeStart?: () => Promise<void>;
}

export type EngineState = { readonly connected: true } | { readonly connected: false; readonly reason: string; readonly retryInMs: number };

export interface ActionEvent {
  readonly action: WatchAction;
  readonly outcome: 'done' | 'failed';
}

export interface WatcherEvents {
  transition: [WatchTransition];
  engine: [EngineState];
  action: [ActionEvent];
}

export interface WatchedStatus {
  readonly id: string;
  readonly name: string;
  /** The compose service, else the container's name. */
  readonly app: string;
  readonly state: WatchState | null;
  /** Its IP address, when it has one. */
  readonly address: string | null;
  /** Restarts (or stops) lifeguard made of it. */
  readonly restarts: number;
  /** When it entered its state, in ms since the epoch. */
  readonly sinceMs: number;
}

interface Entry {
  readonly watch: ContainerWatch;
  readonly app: string;
  readonly name: string;
  address: string | null;
  probe?: ProbeRun;
  /** Seen not running: the exit is said once EXIT_SETTLE_MS pass without it starting again (see refresh). */
  exiting?: Timer;
  /** Engine health: the newest HEALTHCHECK run seen, and when (our clock) it was first seen. */
  lastRun?: { readonly at: string; readonly seenMs: number };
  /** Engine health frozen: said once, and ignored until it moves. */
  stale?: boolean;
  /** Looks again once the HEALTHCHECK should have run a few more times (no event says it ran). */
  staleCheck?: Timer;
}

/** Engine health that has not moved for this many of its intervals is frozen (moby#41871), not health. */
export const STALE_INTERVALS = 3;

/**
 * How long an exit waits to be said. `docker restart` is a die and then a start: within this, it is one restart
 * (not by lifeguard), not an exit followed by a new container. And an engine that stops its containers as it
 * shuts down breaks the event stream within this: those exits are the engine's.
 */
export const EXIT_SETTLE_MS = 2000;

export class Watcher extends EventEmitter<WatcherEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly lineages = new Map<string, Lineage>();
  private readonly queues = new Map<string, Promise<void>>();
  private subscription: EventSubscription | undefined;
  private reconnectTimer: Timer | undefined;
  /** Reconnections tried since the engine was last reached: the backoff's doublings. */
  private reconnects = 0;
  private stopped = false;

  constructor(private readonly options: WatcherOptions) {
    super();
  }

  private get backoff(): ReconnectBackoff {
    return this.options.reconnect ?? DEFAULT_RECONNECT;
  }

  /** Connects and takes stock; an engine that cannot be reached at all is an error here, and only here. */
  async start(): Promise<void> {
    try {
      await this.options.beforeStart?.();
      await this.connect();
    } catch (error) {
      throw new LifeguardFailure(usageError(engineUnreachable(this.options.engine.where, error, '--socket (socketPath)')));
    }
  }

  /** Stops following the engine and cancels every timer and probe; the containers are left as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.reconnectTimer);
    this.subscription?.close();
    for (const entry of this.entries.values()) this.forget(entry);
    this.entries.clear();
    await Promise.all([...this.queues.values()]);
    await this.options.probes?.close();
  }

  status(): WatchedStatus[] {
    return [...this.entries.values()].map(({ watch, name, app, address }) => ({
      id: watch.id,
      name,
      app,
      state: watch.state,
      address,
      restarts: this.lineages.get(watch.id)?.restarts ?? 0,
      sinceMs: watch.since,
    }));
  }

  private async connect(): Promise<void> {
    const { engine, selector } = this.options;
    this.subscription = await engine.subscribe(selector, (event) => this.onEvent(event), (reason) => this.lost(reason));
    if (this.stopped) return this.subscription.close();
    this.reconnects = 0;
    this.emit('engine', { connected: true });
    const running = await engine.listRunning(selector);
    // The ones already watched and not listed may have stopped or gone while we were away: look at them too.
    for (const id of new Set([...running, ...this.entries.keys()])) this.enqueue(id);
  }

  private lost(reason: string): void {
    this.subscription = undefined;
    if (this.stopped) return;
    // Exits just before the stream broke: the engine stopped them as it shut down.
    for (const entry of [...this.entries.values()]) if (entry.exiting !== undefined) this.drop(entry, () => entry.watch.stoppedByEngine());
    const retryInMs = backoffMs(this.backoff.minMs, this.backoff.maxMs, this.reconnects++);
    this.emit('engine', { connected: false, reason, retryInMs });
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.subscription?.close();
        this.lost(engineMessage(error));
      });
    }, retryInMs);
  }

  private onEvent(event: EngineEvent): void {
    // Events about other containers are not even inspected.
    if (!this.options.selector.matches(event.labels) && !this.entries.has(event.id)) return;
    this.enqueue(event.id);
  }

  /** Looks at a container again, after whatever is already queued for it. */
  private enqueue(id: string, task: () => Promise<void> = () => this.refresh(id)): void {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(task).catch(() => {
      // An engine that failed mid-way (gone, restarting) is noticed by the event stream; the resync after the
      // reconnection looks again.
    });
    this.queues.set(id, next);
    void next.then(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    });
  }

  private async refresh(id: string): Promise<void> {
    if (this.stopped) return;
    const facts = await this.options.engine.inspect(id);
    if (this.stopped) return;
    const entry = this.entries.get(id);
    if (facts === undefined) {
      if (entry !== undefined) this.drop(entry, () => entry.watch.removed());
      this.lineages.delete(id);
      return;
    }
    if (!this.options.selector.matches(facts.labels)) {
      if (entry !== undefined) this.drop(entry, () => entry.watch.removed());
      return;
    }
    if (!facts.running) {
      if (entry !== undefined && entry.exiting === undefined) {
        const reason = facts.exitCode === null ? 'stopped' : `exited with code ${facts.exitCode}`;
        this.stopHealth(entry);
        entry.exiting = this.options.clock.setTimeout(() => this.drop(entry, () => entry.watch.exited(reason)), EXIT_SETTLE_MS);
      }
      return;
    }
    if (entry !== undefined) this.settled(entry);
    if (facts.paused) {
      if (entry !== undefined) this.drop(entry, () => entry.watch.paused());
      return;
    }
    if (entry === undefined) {
      this.adopt(facts);
    } else if (facts.startedAtMs !== entry.watch.startedAtMs) {
      // It was started again behind our back (docker restart, a restart policy): a new run, judged afresh.
      entry.watch.begin(facts, 'Container restarted (not by lifeguard); waiting for it to become healthy', this.startHealth(entry, facts));
    }
    this.reportEngineHealth(facts);
  }

  private adopt(facts: ContainerFacts): void {
    const { rules, clock } = this.options;
    const lineage = this.lineages.get(facts.id) ?? { restarts: 0 };
    this.lineages.set(facts.id, lineage);
    const app = facts.labels[COMPOSE_SERVICE_LABEL] ?? facts.name;
    const watch = new ContainerWatch({
      id: facts.id,
      app,
      name: facts.name,
      rules,
      clock,
      lineage,
      transition: (t) => this.emit('transition', t),
      onAct: (w, action) => this.enqueue(w.id, () => this.act(w, action)),
    });
    const entry: Entry = { watch, app, name: facts.name, address: null };
    this.entries.set(facts.id, entry);
    watch.begin(facts, 'Watching container', this.startHealth(entry, facts));
  }

  /**
   * (Re)starts the container's probe, for this run of it. Returns why nothing will ever be done about this run,
   * if so (no HEALTHCHECK to read, no address to check), for the `starting` line.
   */
  private startHealth(entry: Entry, facts: ContainerFacts): string | undefined {
    this.stopHealth(entry);
    entry.address = facts.address ?? null;
    const probes = this.options.probes;
    if (probes === undefined) return facts.health.status === 'none' ? 'it has no HEALTHCHECK: the engine reports no health, so nothing will be done' : undefined;
    const run = probes.start(facts, entry.app, (health) => entry.watch.report(health));
    if (typeof run === 'string') return `${run}, so nothing will be done`;
    entry.probe = run;
    return undefined;
  }

  private stopHealth(entry: Entry): void {
    entry.probe?.cancel();
    entry.probe = undefined;
  }

  private reportEngineHealth(facts: ContainerFacts): void {
    if (this.options.probes !== undefined) return;
    const entry = this.entries.get(facts.id);
    if (entry === undefined || facts.health.status === 'none') return;
    if (this.engineHealthFrozen(entry, facts.health)) return;
    if (facts.health.status === 'healthy') entry.watch.report({ kind: 'healthy' });
    else if (facts.health.status === 'unhealthy') entry.watch.report({ kind: 'unhealthy', reason: facts.health.reason });
  }

  /**
   * Whether the engine's HEALTHCHECK stopped running (no new run for STALE_INTERVALS of its interval): Docker
   * before 23 never runs it again for a container restored by a live-restore restart (moby#41871), and its last
   * status stays for ever. Said once; the watch then waits, as for a container just started, until it moves.
   */
  private engineHealthFrozen(entry: Entry, health: ProbeRecord): boolean {
    const { clock } = this.options;
    const intervalMs = health.intervalMs ?? 0;
    this.options.clock.clearTimeout(entry.staleCheck);
    entry.staleCheck = undefined;
    if (health.lastProbeAt === undefined || intervalMs <= 0) return false;
    const staleAfterMs = STALE_INTERVALS * intervalMs;
    entry.staleCheck = clock.setTimeout(() => this.enqueue(entry.watch.id), staleAfterMs);
    if (entry.lastRun?.at !== health.lastProbeAt) {
      entry.lastRun = { at: health.lastProbeAt, seenMs: clock.now() };
      entry.stale = false;
      return false;
    }
    const stillMs = clock.now() - entry.lastRun.seenMs;
    if (stillMs < staleAfterMs) return entry.stale === true;
    if (entry.stale !== true) {
      entry.stale = true;
      entry.watch.healthUnknown(`no HEALTHCHECK run for ${formatDuration(stillMs)}, every ${formatDuration(intervalMs)} expected (Docker before 23 stops them after a live-restore restart, moby#41871)`);
    }
    return true;
  }

  private async act(watch: ContainerWatch, action: WatchAction): Promise<void> {
    const entry = this.entries.get(watch.id);
    if (this.stopped || entry?.watch !== watch || !watch.acting) return;
    const { engine, selector, stopTimeoutMs } = this.options;
    let before: ContainerFacts | undefined;
    try {
      before = await engine.inspect(watch.id);
    } catch (error) {
      this.emit('action', { action, outcome: 'failed' });
      return watch.actionFailed(`cannot inspect it before acting: ${engineMessage(error)}`);
    }
    if (before === undefined || !selector.matches(before.labels) || !before.running || before.paused || before.startedAtMs !== watch.startedAtMs) {
      // Not the run that was judged (stopped, paused, removed, relabelled, started again): nothing is done, and looking
      // again moves the watch on.
      return this.refresh(watch.id);
    }
    this.stopHealth(entry);
    const timeoutS = Math.ceil(stopTimeoutMs / 1000);
    try {
      await (action === 'stop' ? engine.stop(watch.id, timeoutS) : engine.restart(watch.id, timeoutS));
    } catch (error) {
      this.emit('action', { action, outcome: 'failed' });
      watch.actionFailed(engineMessage(error));
      // Still the same run: keep checking it, so that a recovery is seen.
      if (this.entries.get(watch.id) === entry) this.startHealth(entry, before);
      return;
    }
    this.emit('action', { action, outcome: 'done' });
    if (action === 'stop') return this.drop(entry, () => watch.stopped());
    const after = await engine.inspect(watch.id).catch(() => undefined);
    if (after === undefined || !after.running) {
      // Gone or not running: what became of it is for the next look (an event is on its way).
      return this.refresh(watch.id);
    }
    this.startHealth(entry, after);
    watch.restarted(after);
    this.reportEngineHealth(after);
  }

  private drop(entry: Entry, last: () => void): void {
    this.forget(entry);
    this.entries.delete(entry.watch.id);
    last();
  }

  /** Running after all: an exit waiting to be said is not one (a restart, said as such by the caller). */
  private settled(entry: Entry): void {
    this.options.clock.clearTimeout(entry.exiting);
    entry.exiting = undefined;
  }

  private forget(entry: Entry): void {
    this.settled(entry);
    this.options.clock.clearTimeout(entry.staleCheck);
    this.stopHealth(entry);
    entry.watch.close();
  }
}
