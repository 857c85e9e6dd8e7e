// The instance state machine on its own, with a driver and a probe the test drives by hand.
import t, { type Test } from 'tap';
import type { Driver, RunningInstance } from '../../src/supervisor/drivers/driver.js';
import type { Exit } from '../../src/supervisor/exit.js';
import { Instance, type InstanceContext } from '../../src/supervisor/instance.js';
import type { Probe, ProbeObserver } from '../../src/supervisor/probes/probe.js';
import { StateDir } from '../../src/supervisor/state-dir.js';
import type { Transition } from '../../src/supervisor/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { appSpec } from './harness.js';

interface Rig {
  readonly instance: Instance;
  readonly transitions: Transition[];
  readonly observers: ProbeObserver[];
  readonly cancelled: number[];
  exit(exit: Exit): void;
  readonly settled: () => Promise<void>;
}

/** `destroyFails`: the running instance's destroy rejects, as a scan of /proc with no descriptor left would. */
function rig(t: Test, launch: 'ok' | 'fails' = 'ok', more: Partial<InstanceContext> = {}, destroyFails = false): Rig {
  const transitions: Transition[] = [];
  const observers: ProbeObserver[] = [];
  const cancelled: number[] = [];
  let onExit: (exit: Exit) => void = () => {};
  const running: RunningInstance = {
    pid: null,
    address: '127.0.0.1:1',
    tracked: [],
    endpoint: (port) => ({ host: '127.0.0.1', port }),
    destroy: destroyFails ? async () => Promise.reject(Object.assign(new Error('scandir /proc: EMFILE: too many open files'), { code: 'EMFILE', syscall: 'scandir' })) : async () => ({ forced: false }),
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
  return { instance, transitions, observers, cancelled, exit: (exit) => onExit(exit), settled };
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
