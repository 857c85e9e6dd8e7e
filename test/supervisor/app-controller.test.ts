// The app controller's timing rules on a fake clock: Diego's restart backoff between a crash and its replacement's
// start, the give-up, and a claim whose instance fails waiting for the next one within its limit.
import t, { type Test } from 'tap';
import { AppController } from '../../src/supervisor/app/app-controller.js';
import type { Driver, RunningInstance } from '../../src/supervisor/drivers/driver.js';
import type { Probe, ProbeObserver } from '../../src/probes/probe.js';
import { StateDir } from '../../src/supervisor/host/state-dir.js';
import type { Transition } from '../../src/shared/transition.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { appSpec } from './harness.js';

const running: RunningInstance = { pid: null, address: '127.0.0.1:1', tracked: [], endpoint: (port) => ({ host: '127.0.0.1', port }), destroy: async () => ({ forced: false }) };

function controller(t: Test, driver: Driver, probe: Probe, clock: FakeClock, overrides: Parameters<typeof appSpec>[1] = {}) {
  const transitions: Transition[] = [];
  const app = new AppController(appSpec('native', overrides), {
    resources: () => ({ driver, probe, pingPlan: { checks: [], intervalMs: 100, failureThreshold: 3 } }),
    routing: { routing: () => ({ agentPid: null, cancel: () => {} }) },
    clock,
    records: new StateDir(t.testdir({})),
    transition: (transition) => transitions.push(transition),
    checked: () => {},
  });
  return { app, transitions };
}

const idleProbe: Probe = { lifecycle: () => ({ agentPid: null, cancel: () => {} }), liveness: () => ({ agentPid: null, cancel: () => {} }), close: async () => {} };

t.test('restart backoff: immediate restarts, then doubling to the cap, then give-up', async (t) => {
  const clock = new FakeClock();
  const launches: number[] = [];
  const failing: Driver = { launch: async () => (launches.push(clock.now()), { ok: false, reason: 'command not found: x' }) };
  const { app, transitions } = controller(t, failing, idleProbe, clock, { restart: { immediate: 2, backoffMinMs: 300, backoffMaxMs: 600, maxRestarts: 5, resetAfterMs: 60_000 } });
  app.start();
  await clock.advance(10_000);
  t.same(launches, [0, 0, 0, 300, 900, 1500], 'delays 0, 0, 300, 600, 600 between a crash and the next start');
  const scheduled = transitions.filter((x) => x.to === 'scheduled');
  t.same(scheduled.map((x) => [x.cause, x.replaces, x.restart, x.restartLimit]), [
    ['backfill', undefined, undefined, undefined],
    ['restart', 'web-1', 1, 5],
    ['restart', 'web-2', 2, 5],
    ['restart', 'web-3', 3, 5],
    ['restart', 'web-4', 4, 5],
    ['restart', 'web-5', 5, 5],
  ]);
  t.match(transitions.at(-1), { instance: 'web-6', to: 'given-up', cause: 'restart-limit' });
  await app.stop();
});

t.test('a claim whose instance fails its first check waits for the next ready one, within the start timeout', async (t) => {
  const clock = new FakeClock();
  const observers: ProbeObserver[] = [];
  const probe: Probe = {
    lifecycle: (_target, _plan, observer) => (observers.push(observer), { agentPid: null, cancel: () => {} }),
    liveness: (_target, _plan, observer) => (observers.push(observer), { agentPid: null, cancel: () => {} }),
    close: async () => {},
  };
  const driver: Driver = { launch: async () => ({ ok: true, running }) };
  const { app } = controller(t, driver, probe, clock, { instances: 0, prewarm: 1, startupTimeoutMs: 5000 });
  app.start();
  await clock.advance(0);
  observers[0]?.ready();
  const claim = app.claim();
  await clock.advance(0);
  // observers[1]: the claimed instance's liveness, whose first round fails; observers[2]: the backfill's lifecycle.
  t.equal(observers.length, 3);
  observers[1]?.round('liveness', false, 1);
  await clock.advance(4999);
  let settled = false;
  void claim.then(() => (settled = true));
  await clock.advance(0);
  t.equal(settled, false, 'still waiting just before the limit');
  await clock.advance(1);
  t.equal(await claim, undefined, 'given up at the limit, with no instance');
  await app.stop();
});

t.test('a healthy stretch as long as resetAfter forgives the past: the next restart counts from 1 again', async (t) => {
  const clock = new FakeClock();
  const observers: ProbeObserver[] = [];
  const probe: Probe = { ...idleProbe, lifecycle: (_target, _plan, observer) => (observers.push(observer), { agentPid: null, cancel: () => {} }) };
  const driver: Driver = { launch: async () => ({ ok: true, running }) };
  const { app, transitions } = controller(t, driver, probe, clock, { restart: { immediate: 0, backoffMinMs: 1000, backoffMaxMs: 8000, maxRestarts: 5, resetAfterMs: 60_000 } });
  app.start();
  await clock.advance(0);
  const failAfter = async (healthyMs: number) => {
    const observer = observers.at(-1);
    observer?.ready();
    await clock.advance(healthyMs);
    observer?.end({ phase: 'liveness', cause: 'unhealthy', reason: 'boom' });
    await clock.advance(10_000);
  };
  await failAfter(1000);
  await failAfter(1000);
  await failAfter(60_000);
  t.same(transitions.filter((x) => x.cause === 'restart').map((x) => x.restart), [1, 2, 1], 'two short stretches count up; a long one resets');
  await app.stop();
});
