// History: each instance's last probe rounds (bounded by checkHistory) in status() and GET /status; the fleet's
// recent transitions and per-app latency buckets for the status page.
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import t from 'tap';
import { CheckHistory, FleetHistory, LATENCY_BUCKET_MS, Ring } from '../../src/supervisor/app/history.js';
import { startHttpServer } from '../../src/supervisor/serve/http-server.js';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import type { SupervisorEvents } from '../../src/supervisor/spec/types.js';
import type { Transition } from '../../src/shared/transition.js';
import { appSpec, supervise, to } from './harness.js';

t.test('an instance keeps its last checkHistory rounds, oldest first, in status() and GET /status', async (t) => {
  const { supervisor, until } = await supervise(t, [appSpec('native', { checkHistory: 3 })]);
  await until(to('healthy', 'web-1'));
  const rounds = () => supervisor.status().apps[0]?.instances[0]?.checks ?? [];
  for (let i = 0; i < 100 && !rounds().some((c) => c.phase === 'liveness'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < 100 && rounds().filter((c) => c.phase === 'liveness').length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const checks = rounds();
  t.equal(checks.length, 3, 'bounded');
  t.ok(checks.every((c) => c.phase === 'liveness' && c.passed && c.latencyMs >= 0), 'the latest rounds: liveness, passed');
  t.ok(Date.parse(checks[0]!.time) <= Date.parse(checks[2]!.time), 'oldest first');
  t.ok(checks.every((c) => Math.abs(Date.parse(c.time) - Date.now()) < 60_000), `wall-clock times, not a monotonic clock's (${checks[0]!.time})`);
  const metrics = new SupervisorMetrics(supervisor);
  const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0' });
  t.teardown(async () => {
    await server.close();
    metrics.close();
  });
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.address.port, path: '/status', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject).end();
  });
  const served = JSON.parse(body).apps[0].instances[0].checks as unknown[];
  t.equal(served.length, 3);
  t.same(Object.keys(served[0] as object), ['time', 'phase', 'passed', 'latencyMs']);
});

t.test('Ring forgets the oldest', async (t) => {
  const ring = new Ring<number>(2);
  for (const n of [1, 2, 3]) ring.push(n);
  t.same(ring.toArray(), [2, 3]);
});

t.test('FleetHistory: transitions bounded, latency per app in 10s buckets over the last 10 minutes', async (t) => {
  const source = new EventEmitter<SupervisorEvents>();
  let now = 1_000 * LATENCY_BUCKET_MS;
  const history = new FleetHistory(source, () => now);
  t.teardown(() => history.close());
  const seen: Transition[] = [];
  history.subscribe((transition) => seen.push(transition));
  for (let i = 0; i < 150; i++) source.emit('transition', { time: new Date(now).toISOString(), level: 'info', app: 'web', instance: `web-${i}`, from: null, to: 'scheduled', msg: 'x' });
  t.equal(history.recentTransitions().length, 100);
  t.equal(history.recentTransitions()[0]?.instance, 'web-50');
  t.equal(seen.length, 150, 'every transition told');
  source.emit('check', { app: 'web', instance: 'web-1', passed: true, latencyMs: 10, phase: 'liveness' });
  source.emit('check', { app: 'web', instance: 'web-1', passed: false, latencyMs: 30, phase: 'liveness' });
  now += LATENCY_BUCKET_MS;
  source.emit('check', { app: 'web', instance: 'web-1', passed: true, latencyMs: 5, phase: 'liveness' });
  t.same(history.latencyByApp(), {
    web: [
      { start: 1_000 * LATENCY_BUCKET_MS, count: 2, meanMs: 20, maxMs: 30, failed: 1 },
      { start: 1_001 * LATENCY_BUCKET_MS, count: 1, meanMs: 5, maxMs: 5, failed: 0 },
    ],
  });
  now += 60 * LATENCY_BUCKET_MS;
  t.same(history.latencyByApp(), { web: [] }, 'older than 10 minutes: gone');
});

t.test('CheckHistory: latencies to a tenth of a millisecond', async (t) => {
  const history = new CheckHistory(2);
  history.push(Date.UTC(2026, 11, 6), 'liveness', true, 1.23456789);
  history.push(Date.UTC(2026, 11, 6), 'liveness', false, 0.04);
  t.same(history.toArray().map((record) => record.latencyMs), [1.2, 0]);
});

