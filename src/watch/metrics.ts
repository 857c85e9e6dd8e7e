/**
 * Prometheus metrics for `lifeguard watch`, in a registry of their own (as SupervisorMetrics keeps the
 * supervisor's). The gauge is read from the watcher's status at scrape time; the counters follow its events.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { WATCH_STATES, type WatchTransition } from '../shared/transition.js';
import type { ActionEvent, EngineState, WatchedStatus } from './watcher.js';

/** What the metrics need of a Watcher; structural, so that tests can feed events without an engine. */
export interface WatchMetricsSource {
  status(): WatchedStatus[];
  on(event: 'transition', listener: (transition: WatchTransition) => void): unknown;
  on(event: 'action', listener: (action: ActionEvent) => void): unknown;
  on(event: 'engine', listener: (state: EngineState) => void): unknown;
  off(event: 'transition', listener: (transition: WatchTransition) => void): unknown;
  off(event: 'action', listener: (action: ActionEvent) => void): unknown;
  off(event: 'engine', listener: (state: EngineState) => void): unknown;
}

// A stopped container is dropped from the watch (watcher.ts): the gauge counts the watched ones.
const STATES = WATCH_STATES.filter((state) => state !== 'stopped');

export class WatchMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  private readonly transitions = new Counter({
    name: 'lifeguard_watch_transitions_total',
    help: 'Watched containers\' state transitions, by app (compose service or container name) and the state entered.',
    labelNames: ['app', 'to'] as const,
    registers: [this.registry],
  });

  private readonly actions = new Counter({
    name: 'lifeguard_watch_actions_total',
    help: 'Restarts and stops carried out on unhealthy containers, by action and outcome (done or failed).',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly disconnects = new Counter({
    name: 'lifeguard_watch_engine_disconnects_total',
    help: 'Times the engine\'s event stream broke (the engine restarted or went away).',
    registers: [this.registry],
  });

  private readonly connected = new Gauge({
    name: 'lifeguard_watch_engine_connected',
    help: '1 while the engine\'s event stream is open, 0 while reconnecting.',
    registers: [this.registry],
  });

  constructor(private readonly source: WatchMetricsSource) {
    new Gauge({
      name: 'lifeguard_watch_containers',
      help: 'Watched containers by state; every state is reported, zero or not.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const watched = source.status();
        for (const state of STATES) this.set({ state }, watched.filter((c) => c.state === state).length);
      },
    });
    source.on('transition', this.onTransition);
    source.on('action', this.onAction);
    source.on('engine', this.onEngine);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.source.off('transition', this.onTransition);
    this.source.off('action', this.onAction);
    this.source.off('engine', this.onEngine);
  }

  private readonly onTransition = (t: WatchTransition): void => {
    this.transitions.inc({ app: t.app, to: t.to });
  };

  private readonly onAction = (a: ActionEvent): void => {
    this.actions.inc({ action: a.action, outcome: a.outcome });
  };

  private readonly onEngine = (state: EngineState): void => {
    this.connected.set(state.connected ? 1 : 0);
    if (!state.connected) this.disconnects.inc();
  };
}
