// Oneshot probing: one `healthcheck --mode=once` process per round, judged on the supervisor's clock.
import t from 'tap';
import { appSpec, ensureAgent, supervise, to } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

t.before(ensureAgent);

t.test('oneshot: a healthy start', async (t) => {
  const h = await supervise(t, [appSpec('oneshot', { startupIntervalMs: 200, env: { READY_AFTER_MS: '300' } })]);
  await h.until(to('healthy', 'web-1'), 15_000);
  t.same(h.transitions.map((x) => x.to), ['scheduled', 'starting', 'healthy']);
});

t.test('oneshot: a liveness failure (HTTP 500) carries the agent report and replaces the instance', async (t) => {
  const once = `${tempDir(t)}/once`;
  const h = await supervise(t, [appSpec('oneshot', { startupIntervalMs: 200, livenessIntervalMs: 300, env: { UNHEALTHY_AFTER_MS: '1500', ONCE: once } })]);
  const unhealthy = await h.until(to('unhealthy', 'web-1'), 15_000);
  t.match(unhealthy, { from: 'healthy', msg: 'Container became unhealthy', reason: /^failed to make HTTP request to '\/health' on 127\.0\.0\.1:\d+: received status code 500/ });
  await h.until(to('healthy', 'web-2'), 15_000);
});

t.test('oneshot: an app that never becomes ready times out with the last failure', async (t) => {
  const h = await supervise(t, [appSpec('oneshot', { startupIntervalMs: 200, startTimeoutMs: 1500, env: { NEVER_READY: '1' } })]);
  const timedOut = await h.until(to('timed-out', 'web-1'), 15_000);
  t.match(timedOut.reason, /failed to make HTTP request to '\/health'/);
});
