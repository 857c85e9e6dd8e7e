/**
 * Prometheus metrics for the supervisor, in a registry of their own so that embedding lifeguard never mixes its
 * series into (or collides with) the host application's default registry.
 * Gauges are read from status() at scrape time, so they can never drift from what the supervisor believes;
 * counters and the latency histogram follow the supervisor's events.
 */
import { Counter, Gauge, Registry, type Histogram } from 'prom-client';
import { INSTANCE_STATES, type Transition } from '../../shared/transition.js';
import type { SupervisorEvents } from '../spec/types.js';
import type { SupervisorStatus } from '../../shared/status.js';

export type CheckEvent = SupervisorEvents['check'][0];

/** What metrics need of a Supervisor; structural, so tests can feed events without processes. */
export interface MetricsSource {
  status(): SupervisorStatus;
  /** Sidecar agents booting, and waiting their turn to boot; absent where nothing starts agents. */
  agentStartQueue?(): { readonly booting: number; readonly waiting: number };
  on(event: 'transition', listener: (transition: Transition) => void): unknown;
  on(event: 'check', listener: (check: CheckEvent) => void): unknown;
  off(event: 'transition', listener: (transition: Transition) => void): unknown;
  off(event: 'check', listener: (check: CheckEvent) => void): unknown;
}

export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  private readonly transitions = new Counter({
    name: 'lifeguard_transitions_total',
    help: 'Instance state transitions, by app and the state entered.',
    labelNames: ['app', 'to'] as const,
    registers: [this.registry],
  });

  private readonly restarts = new Counter({
    name: 'lifeguard_restarts_total',
    help: 'Instances scheduled to replace one that ended without being asked to.',
    labelNames: ['app'] as const,
    registers: [this.registry],
  });

  private readonly failures = new Counter({
    name: 'lifeguard_health_check_failures_total',
    help: 'Failed health checks, by app and phase (readiness while starting, liveness while healthy, prewarm ping).',
    labelNames: ['app', 'phase'] as const,
    registers: [this.registry],
  });

  private readonly latency = new LatencyHistogram();

  constructor(private readonly source: MetricsSource) {
    // prom-client's types name only its own classes; its Registry reads a metric by name, help, type and get().
    this.registry.registerMetric(this.latency as unknown as Histogram);
    const status = (): SupervisorStatus => source.status();
    new Gauge({
      name: 'lifeguard_instances',
      help: 'Instances by app, pool (app or prewarm) and state; every state is reported, zero or not.',
      labelNames: ['app', 'pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const app of status().apps) {
          for (const [pool, instances] of [['app', app.instances], ['prewarm', app.prewarm]] as const) {
            for (const state of INSTANCE_STATES) {
              this.set({ app: app.name, pool, state }, instances.filter((i) => i.state === state).length);
            }
          }
        }
      },
    });
    new Gauge({
      name: 'lifeguard_desired_instances',
      help: 'Instances each app should have running (prewarmed instances not counted).',
      labelNames: ['app'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const app of status().apps) this.set({ app: app.name }, app.desired);
      },
    });
    const queue = source.agentStartQueue?.bind(source);
    if (queue !== undefined) {
      new Gauge({
        name: 'lifeguard_agent_starts',
        help: 'Sidecar agents booting now (state="booting") and waiting for their turn to boot (state="waiting").',
        labelNames: ['state'] as const,
        registers: [this.registry],
        collect() {
          const { booting, waiting } = queue();
          this.set({ state: 'booting' }, booting);
          this.set({ state: 'waiting' }, waiting);
        },
      });
    }
    source.on('transition', this.onTransition);
    source.on('check', this.onCheck);
  }

  /** The Prometheus text exposition of every lifeguard metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops following the supervisor's events. */
  close(): void {
    this.source.off('transition', this.onTransition);
    this.source.off('check', this.onCheck);
  }

  private readonly onTransition = (t: Transition): void => {
    this.transitions.inc({ app: t.app, to: t.to });
    if (t.to === 'scheduled' && t.cause === 'restart') this.restarts.inc({ app: t.app });
  };

  private readonly onCheck = (check: CheckEvent): void => {
    this.latency.observe(check.app, check.phase, check.latencyMs / 1000);
    if (!check.passed) this.failures.inc({ app: check.app, phase: check.phase });
  };
}

const LATENCY_NAME = 'lifeguard_health_check_duration_seconds';
/** Upper bounds of the latency buckets, in seconds. */
const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface LatencySeries {
  readonly labels: { readonly app: string; readonly phase: string };
  /** Observations per bucket, not cumulative (the exposition sums them). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * The check latency histogram, counted here and read by the registry at scrape time. prom-client's Histogram makes
 * a label object and hashes it into a string at every observation (~0.5 µs): a supervisor observes every check
 * of every instance, all day, and is scraped a few times a minute. The exposition is prom-client's, byte for byte
 * (test/supervisor/metrics.test.ts compares the two).
 */
class LatencyHistogram {
  readonly name = LATENCY_NAME;
  readonly help = 'How long health checks took, passed or failed, by app and phase.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byApp = new Map<string, Map<string, LatencySeries>>();
  /** In the order first observed, as prom-client lists its series. */
  private readonly series: LatencySeries[] = [];

  observe(app: string, phase: string, seconds: number): void {
    let phases = this.byApp.get(app);
    if (phases === undefined) {
      phases = new Map();
      this.byApp.set(app, phases);
    }
    let series = phases.get(phase);
    if (series === undefined) {
      series = { labels: { app, phase }, counts: new Float64Array(LATENCY_BOUNDS.length), sum: 0, count: 0 };
      phases.set(phase, series);
      this.series.push(series);
    }
    series.sum += seconds;
    series.count++;
    for (let i = 0; i < LATENCY_BOUNDS.length; i++) {
      if (seconds <= LATENCY_BOUNDS[i]!) {
        series.counts[i]++;
        break;
      }
    }
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values = [];
    for (const { labels, counts, sum, count } of this.series) {
      let below = 0;
      for (const [i, bound] of LATENCY_BOUNDS.entries()) {
        below += counts[i] as number;
        values.push({ labels: { le: bound, ...labels }, value: below, metricName: `${LATENCY_NAME}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${LATENCY_NAME}_bucket` });
      values.push({ labels: { ...labels }, value: sum, metricName: `${LATENCY_NAME}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${LATENCY_NAME}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}
