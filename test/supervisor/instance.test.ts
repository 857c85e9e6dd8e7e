// The instance state machine on its own, with a driver and a probe the test drives by hand.
import t, { type Test } from 'tap';
import type { Driver, RunningInstance } from '../../src/supervisor/drivers/driver.js';
import type { Exit } from '../../src/shared/exit.js';
import { Instance, type InstanceContext } from '../../src/supervisor/app/instance.js';
import type { Probe, ProbeObserver, RoutingObserver } from '../../src/probes/probe.js';
import { StateDir } from '../../src/supervisor/host/state-dir.js';
import type { Transition } from '../../src/shared/transition.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { appSpec } from './harness.js';

interface Rig {
  readonly instance: Instance;
  readonly transitions: Transition[];
  readonly observers: ProbeObserver[];
  readonly cancelled: number[];
  /** The routing probes started, in order, and which of them were cancelled. */
  readonly routers: RoutingObserver[];
  readonly routersCancelled: number[];
  /** When the driver's destroy was called, on the rig's clock. */
  readonly destroyedAt: number[];
  exit(exit: Exit): void;
  /** The app exits: the driver knows (`exited`), and has not told onExit yet (it waits for the last stderr lines). */
  gone(): void;
  readonly settled: () => Promise<void>;
}

/** `destroyFails`: the running instance's destroy rejects, as a scan of /proc with no descriptor left would. */
function rig(t: Test, launch: 'ok' | 'fails' = 'ok', more: Partial<InstanceContext> = {}, destroyFails = false): Rig {
  const transitions: Transition[] = [];
  const observers: ProbeObserver[] = [];
  const cancelled: number[] = [];
  const routers: RoutingObserver[] = [];
  const routersCancelled: number[] = [];
  const destroyedAt: number[] = [];
  const now = () => more.clock?.now() ?? 0;
  let onExit: (exit: Exit) => void = () => {};
  const running: { -readonly [K in keyof RunningInstance]: RunningInstance[K] } = {
    pid: null,
    address: '127.0.0.1:1',
    tracked: [],
    endpoint: (port) => ({ host: '127.0.0.1', port }),
    destroy: destroyFails
      ? async () => Promise.reject(Object.assign(new Error('scandir /proc: EMFILE: too many open files'), { code: 'EMFILE', syscall: 'scandir' }))
      : async () => (destroyedAt.push(now()), { forced: false }),
  };
  const driver: Driver = {
    launch: async (request) => {
      onExit = request.onExit;
      return launch === 'ok' ? { ok: true, running } : { ok: false, reason: 'command not found: x' };
    },
  };
  const handle = () => {
    const n = observers.length - 1;
    return { agentPid: null, cancel: () => cancelled.push(n) };
  };
  const probe: Probe = {
    lifecycle: (_target, _plan, observer) => (observers.push(observer), handle()),
    liveness: (_target, _plan, observer) => (observers.push(observer), handle()),
    close: async () => {},
  };
  const ctx: InstanceContext = {
    spec: appSpec('native'),
    driver,
    probe,
    routing: {
      routing: (_target, _plan, observer) => {
        const n = routers.push(observer) - 1;
        return { agentPid: null, cancel: () => routersCancelled.push(n) };
      },
    },
    records: new StateDir(t.testdir({})),
    pingPlan: { checks: [], intervalMs: 100, failureThreshold: 3 },
    transition: (transition) => transitions.push(transition),
    checked: () => {},
    ready: () => {},
    destroyed: () => {},
    ...more,
  };
  const instance = new Instance('web-1', 'member', 0, ctx);
  const settled = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
  const gone = () => {
    running.exited = true;
  };
  return { instance, transitions, observers, cancelled, routers, routersCancelled, destroyedAt, exit: (exit) => onExit(exit), gone, settled };
}

const path = (r: Rig) => r.transitions.map((x) => x.to);

t.test('scheduled -> starting -> healthy -> unhealthy -> destroying -> destroyed, one transition each', async (t) => {
  const r = rig(t);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  r.observers[0]?.ready();
  r.observers[0]?.end({ phase: 'liveness', cause: 'unhealthy', reason: 'boom' });
  await r.settled();
  t.same(path(r), ['scheduled', 'starting', 'healthy', 'unhealthy', 'destroying', 'destroyed']);
  t.match(r.transitions[3], { level: 'warn', reason: 'boom', cause: 'unhealthy' });
  t.match(r.transitions.slice(4), [{ cause: 'unhealthy' }, { cause: 'unhealthy' }], 'destroying and destroyed say what led there');
});

t.test('an exit while running is a crash; an exit after that changes nothing', async (t) => {
  const r = rig(t);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  r.exit({ code: null, signal: 'SIGKILL' });
  await r.settled();
  t.same(path(r), ['scheduled', 'starting', 'crashed', 'destroying', 'destroyed']);
  t.match(r.transitions[2], { reason: 'killed by SIGKILL' });
  t.same(r.cancelled, [0], 'the readiness probe was cancelled');
  r.exit({ code: 0, signal: null });
  t.equal(r.transitions.length, 5);
});

t.test('a check that fails because the app has exited waits for the exit: a crash, not unhealthy or timed out', async (t) => {
  for (const phase of ['liveness', 'readiness'] as const) {
    const r = rig(t);
    r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
    await r.settled();
    if (phase === 'liveness') r.observers[0]?.ready();
    r.gone();
    r.observers[0]?.end(phase === 'liveness' ? { phase, cause: 'unhealthy', reason: 'connection refused' } : { phase, cause: 'timed-out', reason: 'never passed' });
    await r.settled();
    const before = phase === 'liveness' ? ['scheduled', 'starting', 'healthy'] : ['scheduled', 'starting'];
    t.same(path(r), before, `${phase}: nothing until the exit is told`);
    r.exit({ code: 7, signal: null, stderr: ['Error: out of cheese'] });
    await r.settled();
    t.same(path(r), [...before, 'crashed', 'destroying', 'destroyed'], `${phase}: crashed`);
    t.match(r.transitions[before.length], { msg: 'Container crashed', reason: /^exited with code 7/ });
  }
});

t.test('a launch that fails is a crash from scheduled', async (t) => {
  const r = rig(t, 'fails');
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  t.same(path(r), ['scheduled', 'crashed', 'destroying', 'destroyed']);
  t.equal(r.transitions[1]?.reason, 'command not found: x');
});

t.test('destroy before the start delay ends: nothing is launched', async (t) => {
  const r = rig(t);
  r.instance.schedule(10_000, 'Rescheduled', { cause: 'restart' });
  await r.instance.destroy('supervisor stopping', 'stopping');
  t.same(path(r), ['scheduled', 'destroying', 'destroyed']);
  t.equal(r.observers.length, 0);
  t.equal(r.instance.destroy('again', 'asked'), r.instance.destroy('and again', 'asked'), 'joins the destroy under way');
});

t.test('a move the table does not allow is a bug and throws', async (t) => {
  const r = rig(t);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  t.throws(() => r.instance.claim(), /bug: illegal transition of web-1 from starting to claimed/);
  t.throws(() => r.instance.giveUp('no'), /from starting to given-up/);
  await r.instance.destroy('stop', 'asked');
});

t.test('the start delay runs on the instance clock', async (t) => {
  const clock = new FakeClock();
  const r = rig(t, 'ok', { clock });
  r.instance.schedule(300, 'Rescheduled', { cause: 'restart', replaces: 'web-0', restart: 3, restartLimit: 5 });
  await clock.advance(299);
  t.same(path(r), ['scheduled']);
  t.match(r.transitions[0], { cause: 'restart', replaces: 'web-0', restart: 3, restartLimit: 5 });
  await clock.advance(1);
  t.same(path(r), ['scheduled', 'starting']);
  await r.instance.destroy('stop', 'asked');
});

t.test('an event raised inside a transition waits its turn: a listener that destroys the instance on healthy', async (t) => {
  let instance: Instance | undefined;
  const seen: string[] = [];
  const r = rig(t, 'ok', {
    transition: (transition) => {
      seen.push(`${transition.to} (from ${transition.from})`);
      // Mid-transition: the instance is not re-entered; the destroy runs once `healthy` is complete.
      if (transition.to === 'healthy') void instance?.destroy('asked mid-transition', 'asked');
      if (transition.to === 'healthy') seen.push('listener returned');
    },
  });
  instance = r.instance;
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  r.observers[0]?.ready();
  await r.settled();
  t.same(seen, ['scheduled (from null)', 'starting (from scheduled)', 'healthy (from starting)', 'listener returned', 'destroying (from healthy)', 'destroyed (from destroying)']);
  t.same(r.cancelled, [0], 'the probe was stopped by the destroy');
});

t.test('a probe that speaks after it was stopped is not heard', async (t) => {
  const r = rig(t);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  const stale = r.observers[0];
  r.exit({ code: 1, signal: null });
  await r.settled();
  stale?.ready();
  stale?.end({ phase: 'readiness', cause: 'timed-out', reason: 'late' });
  t.same(path(r), ['scheduled', 'starting', 'crashed', 'destroying', 'destroyed']);
});

t.test('a driver whose destroy throws still brings the instance to destroyed, saying why', async (t) => {
  const r = rig(t, 'ok', {}, true);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  await r.instance.destroy('stop', 'asked');
  t.same(path(r), ['scheduled', 'starting', 'destroying', 'destroyed']);
  t.match(r.transitions.at(-1), { reason: 'destroy failed: scandir /proc: EMFILE: too many open files' });
});

const ROUTING = { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 100, failureThreshold: 1, successThreshold: 1, drainMs: 0 } as const;
const lines = (r: Rig) => r.transitions.map((x) => `${x.from ?? '-'}>${x.to}${x.cause === undefined ? '' : `:${x.cause}`}`);

t.test('routing: a healthy member is listed from its first passing verdict, and routing verdicts never end it', async (t) => {
  const r = rig(t, 'ok', { spec: appSpec('native', { routing: ROUTING }) });
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  t.equal(r.routers.length, 0, 'no routing probe while starting');
  r.observers[0]?.ready();
  await r.settled();
  t.equal(r.routers.length, 1, 'routing checks start with healthy');
  t.equal(r.instance.routable, false, 'not listed before a verdict');
  const router = r.routers[0]!;
  router.round(true, 3);
  router.verdict(true, '');
  router.verdict(true, '');
  t.equal(r.instance.routable, true);
  t.match(r.instance.status(), { state: 'healthy', routable: true });
  router.verdict(false, 'failed to make TCP connection to 127.0.0.1:8080: connection refused');
  t.equal(r.instance.routable, false);
  router.verdict(true, '');
  t.same(lines(r).slice(3), ['->routable:checks-passed', 'routable>unroutable:checks-failed', 'unroutable>routable:checks-passed'], 'one line per change, the first from null');
  t.match(r.transitions[4], { level: 'warn', msg: 'Instance became unroutable', reason: /connection refused/ });
  t.match(r.instance.status().checks, [{ phase: 'routing', passed: true, latencyMs: 3 }], 'routing rounds are in the check history');
  t.equal(r.instance.state, 'healthy', 'routing verdicts neither destroy nor restart');
  // Liveness fails: out of the endpoints at once, with the failure's cause; the routing probe is stopped.
  r.observers[0]?.end({ phase: 'liveness', cause: 'unhealthy', reason: 'boom' });
  await r.settled();
  t.same(lines(r).slice(6), ['healthy>unhealthy:unhealthy', 'routable>unroutable:unhealthy', 'unhealthy>destroying:unhealthy', 'destroying>destroyed:unhealthy']);
  t.same(r.routersCancelled, [0]);
  router.verdict(true, '');
  t.equal(r.transitions.length, 10, 'a stopped routing probe\'s words are dropped');
});

t.test('routing: without routing checks a healthy member is routable and the log says nothing more', async (t) => {
  const r = rig(t);
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await r.settled();
  r.observers[0]?.ready();
  t.equal(r.instance.routable, true);
  t.equal(r.routers.length, 0);
  await r.instance.destroy('asked', 'asked');
  t.same(path(r), ['scheduled', 'starting', 'healthy', 'destroying', 'destroyed']);
  t.equal(r.instance.routable, false);
});

t.test('drain: a requested destroy of a routable instance leaves the endpoints at once and destroys after drain', async (t) => {
  const clock = new FakeClock();
  const r = rig(t, 'ok', { clock, spec: appSpec('native', { routing: { ...ROUTING, drainMs: 5000 } }) });
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await clock.advance(0);
  await r.settled();
  r.observers[0]?.ready();
  r.routers[0]?.verdict(true, '');
  await clock.advance(1000);
  let gone = false;
  void r.instance.destroy('scaled down', 'asked').then(() => (gone = true));
  await clock.advance(0);
  t.equal(r.instance.routable, false, 'out of the endpoints at destroying');
  t.same(lines(r).slice(3), ['->routable:checks-passed', 'healthy>destroying:asked', 'routable>unroutable:asked']);
  t.match(r.transitions[4], { reason: 'scaled down; draining for 5s first' });
  // A stop during the drain joins it: the drain still runs out before the driver's destroy.
  void r.instance.destroy('supervisor stopping', 'stopping');
  await clock.advance(4999);
  t.same(r.destroyedAt, [], 'the driver is not asked to destroy during the drain');
  await clock.advance(1);
  await r.settled();
  t.same(r.destroyedAt, [6000], 'drain after leaving the endpoints, then the driver');
  t.ok(gone);
  t.equal(clock.timers, 0, 'no timer left behind');
});

t.test('drain: failures, and instances that were not routable, are destroyed at once', async (t) => {
  const spec = appSpec('native', { routing: { ...ROUTING, drainMs: 5000 } });
  for (const how of ['failure', 'unroutable', 'no verdict yet'] as const) {
    const clock = new FakeClock();
    const r = rig(t, 'ok', { clock, spec });
    r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
    await clock.advance(0);
    await r.settled();
    r.observers[0]?.ready();
    if (how === 'failure') {
      r.routers[0]?.verdict(true, '');
      r.observers[0]?.end({ phase: 'liveness', cause: 'unhealthy', reason: 'boom' });
    } else {
      if (how === 'unroutable') r.routers[0]?.verdict(false, 'refused');
      void r.instance.destroy('asked', 'asked');
    }
    await clock.advance(0);
    await r.settled();
    t.same(r.destroyedAt, [0], `${how}: no drain`);
    t.equal(r.instance.state, 'destroyed', how);
  }
});

t.test("a startup timeout's 'Failed after' counts from the probe's start, even when the probe takes time to start", async (t) => {
  const fake = new FakeClock();
  // The instance's clock, whose time also moves while the probe starts (5 ms: a busy loop, a collection).
  let startCost = 0;
  const clock = { now: () => fake.now() + startCost, unixMs: () => fake.unixMs(), setTimeout: fake.setTimeout.bind(fake), clearTimeout: fake.clearTimeout.bind(fake) };
  const observers: ProbeObserver[] = [];
  const probe: Probe = {
    lifecycle: (_target, _plan, observer) => {
      observers.push(observer);
      startCost += 5;
      return { agentPid: null, cancel: () => {} };
    },
    liveness: () => ({ agentPid: null, cancel: () => {} }),
    close: async () => {},
  };
  const r = rig(t, 'ok', { clock, probe });
  r.instance.schedule(0, 'Backfilling', { cause: 'backfill' });
  await fake.advance(0);
  await r.settled();
  t.same(path(r), ['scheduled', 'starting']);
  // The probe's startup deadline (1 s) falls due 1 s after it started: 995 ms of fake time after its start returned.
  await fake.advance(995);
  observers[0]?.end({ phase: 'readiness', cause: 'timed-out', reason: 'never passed' });
  await r.settled();
  t.match(r.transitions[2], { to: 'timed-out', msg: 'Failed after 1s: startup health check never passed.' });
  await r.instance.destroy('stop', 'asked');
});
