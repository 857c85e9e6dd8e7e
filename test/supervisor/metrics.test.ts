// SupervisorMetrics counts check latency itself (no label hashing per check): its exposition must stay prom-client's
// Histogram's, byte for byte, for the same checks in the same order.
import { EventEmitter } from 'node:events';
import { Histogram, Registry } from 'prom-client';
import t from 'tap';
import { SupervisorMetrics, type CheckEvent } from '../../src/supervisor/serve/metrics.js';

const NAME = 'lifeguard_health_check_duration_seconds';

/** The lines of one metric family in a Prometheus text exposition. */
function family(text: string, name: string): string {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}_`) || line.startsWith(`${name}{`) || line.endsWith(` ${name} histogram`) || line.startsWith(`# HELP ${name} `))
    .join('\n');
}

t.test('check latency: the exposition prom-client Histogram gives, for the same checks in the same order', async (t) => {
  const source = Object.assign(new EventEmitter(), { status: () => ({ apps: [] }) as never });
  const metrics = new SupervisorMetrics(source);
  t.teardown(() => metrics.close());
  const reference = new Registry();
  const histogram = new Histogram({
    name: NAME,
    help: 'How long health checks took, passed or failed, by app and phase.',
    labelNames: ['app', 'phase'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [reference],
  });
  const before = await metrics.metrics();
  t.equal(family(before, NAME), family(await reference.metrics(), NAME), 'nothing observed: the family with no series');
  // Bounds exactly, between bounds, past the last one, fractions whose float sum depends on order; series first seen
  // interleaved across apps; a name that needs escaping.
  const apps = ['web', 'api', 'odd "name"\\\nx'];
  const phases: CheckEvent['phase'][] = ['readiness', 'liveness', 'routing', 'prewarm'];
  const latencies = [1, 0.3, 2.5, 4.9999, 7.1, 100, 250, 999.99, 1000, 4999, 5000, 5000.5, 12_345, 0.1, 0.2, 0.7];
  let n = 0;
  for (const latencyMs of latencies) {
    for (const app of apps) {
      const phase = phases[n++ % phases.length] as CheckEvent['phase'];
      const check = { app, instance: `${app}-1`, phase, passed: n % 3 !== 0, latencyMs };
      source.emit('check', check);
      histogram.observe({ app, phase }, latencyMs / 1000);
    }
  }
  const ours = family(await metrics.metrics(), NAME);
  t.equal(ours, family(await reference.metrics(), NAME));
  t.match(ours, new RegExp(`^${NAME}_bucket\\{le="0.001",app="web",phase="readiness"\\} 1$`, 'm'), 'a bound holds what equals it');
  t.match(ours, /^lifeguard_health_check_duration_seconds_count\{app="odd \\"name\\"\\\\\\nx",phase="routing"\} \d+$/m, 'label values escaped');
  t.equal(ours.split('\n').length, 2 + apps.length * phases.length * 15, 'every series: 12 bounds, +Inf, sum, count');
});
