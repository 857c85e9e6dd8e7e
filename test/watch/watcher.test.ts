// The watcher's own rules with a fake engine and a fake clock: the reconnect backoff is bounded and resets on a
// connection; a reconnection lists the containers again; a container that does not match is never inspected
// nor touched; a container is not acted on when it changed since it was judged.
import t, { type Test } from 'tap';
import type { ContainerFacts, Engine, EngineEvent, EventSubscription } from '../../src/watch/engine.js';
import { Selector } from '../../src/watch/selector.js';
import { EXIT_SETTLE_MS, STALE_INTERVALS, Watcher, type EngineState } from '../../src/watch/watcher.js';
import type { WatchRules } from '../../src/watch/container-watch.js';
import type { WatchTransition } from '../../src/shared/transition.js';
import { FakeClock, settle } from '../helpers/fake-clock.js';

const RULES: WatchRules = {
  action: 'restart', minUnhealthyMs: 0, startGraceMs: 0, dryRun: false,
  restart: { immediate: 3, backoffMinMs: 1000, backoffMaxMs: 8000, maxRestarts: 5, resetAfterMs: 60_000 },
};

/** An engine in memory: containers, a subscription that can be broken, and a record of every call. */
class FakeEngine implements Engine {
  readonly where = 'fake';
  readonly containers = new Map<string, ContainerFacts>();
  readonly calls: string[] = [];
  up = true;
  private listener: ((event: EngineEvent) => void) | undefined;
  private ended: ((reason: string) => void) | undefined;

  add(id: string, labels: Record<string, string>, health: ContainerFacts['health'], startedAtMs = 1): ContainerFacts {
    const facts: ContainerFacts = { id, name: `c-${id}`, image: 'img', labels, running: true, paused: false, startedAtMs, exitCode: null, startPeriodMs: 0, health };
    this.containers.set(id, facts);
    return facts;
  }

  emit(id: string, action: string): void {
    this.listener?.({ id, action, labels: this.containers.get(id)?.labels ?? {} });
  }

  breakStream(): void {
    this.up = false;
    const ended = this.ended;
    this.listener = undefined;
    this.ended = undefined;
    ended?.('the engine closed the event stream');
  }

  async listRunning(selector: Selector): Promise<string[]> {
    this.calls.push('list');
    if (!this.up) throw new Error('connect ENOENT');
    return [...this.containers.values()].filter((c) => c.running && selector.matches(c.labels)).map((c) => c.id);
  }

  async inspect(id: string): Promise<ContainerFacts | undefined> {
    this.calls.push(`inspect ${id}`);
    if (!this.up) throw new Error('connect ENOENT');
    return this.containers.get(id);
  }

  async restart(id: string): Promise<void> {
    this.calls.push(`restart ${id}`);
    const c = this.containers.get(id)!;
    this.containers.set(id, { ...c, startedAtMs: c.startedAtMs + 1, health: { status: 'starting' } });
  }

  async stop(id: string): Promise<void> {
    this.calls.push(`stop ${id}`);
  }

  async subscribe(_: Selector, onEvent: (event: EngineEvent) => void, onEnd: (reason: string) => void): Promise<EventSubscription> {
    this.calls.push('subscribe');
    if (!this.up) throw new Error('connect ENOENT');
    this.listener = onEvent;
    this.ended = onEnd;
    return { close: () => (this.listener = undefined) };
  }
}


function setup(t: Test) {
  const clock = new FakeClock();
  const engine = new FakeEngine();
  const watcher = new Watcher({ engine, selector: new Selector({ label: { key: 'watch', value: 'yes' } }), rules: RULES, stopTimeoutMs: 1000, clock, reconnect: { minMs: 100, maxMs: 800 } });
  const log: WatchTransition[] = [];
  const states: EngineState[] = [];
  watcher.on('transition', (x) => log.push(x));
  watcher.on('engine', (s) => states.push(s));
  t.teardown(() => watcher.stop());
  return { clock, engine, watcher, log, states };
}

t.test('reconnects with a bounded, doubling backoff, and lists again once connected', async (t) => {
  const { clock, engine, watcher, states } = setup(t);
  await watcher.start();
  engine.breakStream();
  // Each retry falls due exactly when its delay has passed, and fails while the engine is down.
  for (const ms of [100, 200, 400, 800, 800, 800]) await clock.advance(ms);
  t.same(states.filter((s) => !s.connected).map((s) => (s as { retryInMs: number }).retryInMs), [100, 200, 400, 800, 800, 800, 800], 'doubling from 100ms, capped at 800ms');
  engine.up = true;
  engine.add('a', { watch: 'yes' }, { status: 'healthy' });
  const listsBefore = engine.calls.filter((c) => c === 'list').length;
  await clock.advance(800);
  await settle();
  await settle();
  t.equal(states.at(-1)?.connected, true);
  t.equal(engine.calls.filter((c) => c === 'list').length, listsBefore + 1, 'listed again');
  t.ok(watcher.status().some((c) => c.id === 'a' && c.state === 'healthy'), 'the container found on the resync is watched');
  engine.breakStream();
  t.equal((states.at(-1) as { retryInMs: number }).retryInMs, 100, 'the backoff starts over after a connection');
});

t.test('a container that does not match is never inspected or touched', async (t) => {
  const { engine, watcher, log } = setup(t);
  engine.add('other', { watch: 'no' }, { status: 'unhealthy', reason: 'x' });
  engine.add('sidecar', { watch: 'yes', 'lifeguard.role': 'sidecar' }, { status: 'unhealthy', reason: 'x' });
  await watcher.start();
  engine.emit('other', 'health_status');
  engine.emit('sidecar', 'health_status');
  await settle();
  t.same(engine.calls.filter((c) => c !== 'list' && c !== 'subscribe'), []);
  t.same(log, []);
});

t.test('an unhealthy container is restarted only if still the run that was judged', async (t) => {
  const { clock, engine, watcher, log } = setup(t);
  engine.add('a', { watch: 'yes' }, { status: 'healthy' });
  await watcher.start();
  await settle();
  const facts = engine.containers.get('a')!;
  engine.containers.set('a', { ...facts, health: { status: 'unhealthy', reason: 'HEALTHCHECK exited with code 1' } });
  // The health event is inspected, the watch decides at once; before the restart the container is looked at
  // again, and by then someone else has restarted it.
  const realInspect = engine.inspect.bind(engine);
  let inspections = 0;
  engine.inspect = async (id) => {
    const seen = await realInspect(id);
    if (++inspections === 1) engine.containers.set('a', { ...facts, startedAtMs: 99, health: { status: 'starting' } });
    return seen;
  };
  engine.emit('a', 'health_status');
  await clock.advance(10);
  t.notOk(engine.calls.includes('restart a'), 'not restarted');
  t.match(log.map((x) => `${x.to}: ${x.msg}`).slice(-2), ['restarting: Restarting container (restart 1 of 5)', 'starting: Container restarted (not by lifeguard); waiting for it to become healthy']);
});

t.test('a paused container is not judged until unpaused', async (t) => {
  const { engine, watcher, log } = setup(t);
  const facts = engine.add('a', { watch: 'yes' }, { status: 'healthy' });
  await watcher.start();
  await settle();
  engine.containers.set('a', { ...facts, paused: true, health: { status: 'unhealthy', reason: 'frozen' } });
  engine.emit('a', 'pause');
  await settle();
  await settle();
  t.match(log.at(-1), { to: 'stopped', msg: 'Container paused (not by lifeguard); watched again when unpaused' });
  t.notOk(engine.calls.some((c) => c.startsWith('restart')));
  engine.containers.set('a', facts);
  engine.emit('a', 'unpause');
  await settle();
  await settle();
  t.same(log.slice(-2).map((x) => x.to), ['starting', 'healthy'], 'watched again');
});

t.test('a restart through the engine: inspected, restarted, watched again', async (t) => {
  const { clock, engine, watcher, log } = setup(t);
  engine.add('a', { watch: 'yes' }, { status: 'unhealthy', reason: 'HEALTHCHECK exited with code 1' });
  await watcher.start();
  await clock.advance(10);
  t.same(engine.calls.filter((c) => c.endsWith(' a')), ['inspect a', 'inspect a', 'restart a', 'inspect a']);
  t.same(log.map((x) => x.to), ['starting', 'unhealthy', 'restarting', 'starting']);
  engine.containers.delete('a');
  engine.emit('a', 'remove');
  await settle();
  await settle();
  t.match(log.at(-1), { to: 'stopped', msg: 'Container removed' });
  t.same(watcher.status(), []);
});

/** A watched, healthy container whose process has just ended (its `die` event handled). */
async function healthyThenDied(t: Test, exitCode: number) {
  const harness = setup(t);
  const facts = harness.engine.add('a', { watch: 'yes' }, { status: 'healthy' });
  await harness.watcher.start();
  await settle();
  harness.engine.containers.set('a', { ...facts, running: false, exitCode });
  harness.engine.emit('a', 'die');
  await settle();
  return { ...harness, facts };
}

t.test('docker restart (a die, then a start) is one restart not by lifeguard, not an exit and a new container', async (t) => {
  const { clock, engine, log, facts } = await healthyThenDied(t, 0);
  await clock.advance(300);
  engine.containers.set('a', { ...facts, startedAtMs: 500 });
  engine.emit('a', 'start');
  await settle();
  await clock.advance(EXIT_SETTLE_MS * 2);
  t.same(log.map((x) => `${x.to}: ${x.msg}`), [
    'starting: Watching container',
    'healthy: Container became healthy',
    'starting: Container restarted (not by lifeguard); waiting for it to become healthy',
    'healthy: Container became healthy',
  ]);
});

t.test('an exit with no start after it is said once EXIT_SETTLE_MS have passed', async (t) => {
  const { clock, watcher, log } = await healthyThenDied(t, 3);
  await clock.advance(EXIT_SETTLE_MS - 1);
  t.equal(log.at(-1)?.to, 'healthy', 'not yet');
  await clock.advance(1);
  t.match(log.at(-1), { to: 'stopped', msg: 'Container exited (not stopped by lifeguard); watched again if it starts', reason: 'exited with code 3' });
  t.same(watcher.status(), []);
});

t.test('containers the engine stops as it shuts down (the stream breaks right after) are said to be the engine\'s', async (t) => {
  const { clock, engine, log } = await healthyThenDied(t, 0);
  await clock.advance(100);
  engine.breakStream();
  t.match(log.at(-1), { to: 'stopped', msg: 'Container stopped by the engine shutting down; watched again if it starts' });
  t.notOk(log.some((x) => /exited/.test(x.msg)), 'not an exit of its own');
});

t.test('engine health that stops moving (moby#41871) is said once and taken as unknown, until the engine runs the HEALTHCHECK again', async (t) => {
  const { clock, engine, watcher, log } = setup(t);
  const facts = engine.add('a', { watch: 'yes' }, { status: 'healthy', lastProbeAt: '2026-12-06T21:00:00Z', intervalMs: 1000 });
  await watcher.start();
  await settle();
  t.equal(log.at(-1)?.to, 'healthy');
  // Its status stays `healthy`, but no HEALTHCHECK runs any more: nothing new for three intervals.
  await clock.advance(STALE_INTERVALS * 1000);
  await settle();
  t.match(log.at(-1), { to: 'starting', msg: 'Engine health stopped moving: health unknown until the engine runs the HEALTHCHECK again', reason: /^no HEALTHCHECK run for 3s, every 1s expected \(Docker before 23 .*moby#41871\)$/ });
  const said = log.length;
  await clock.advance(STALE_INTERVALS * 1000 * 4);
  await settle();
  t.equal(log.length, said, 'said once');
  t.notOk(engine.calls.some((c) => c.startsWith('restart')), 'nothing done on a frozen status');
  // The engine runs it again, and it fails: judged as any report.
  engine.containers.set('a', { ...facts, health: { status: 'unhealthy', reason: 'HEALTHCHECK exited with code 1', lastProbeAt: '2026-12-06T21:05:00Z', intervalMs: 1000 } });
  engine.emit('a', 'health_status');
  await settle();
  await settle();
  t.same(log.slice(said).map((x) => x.to).slice(0, 2), ['unhealthy', 'restarting'], 'moving again: judged again');
});

t.test('engine health that keeps moving is never taken as frozen', async (t) => {
  const { clock, engine, watcher, log } = setup(t);
  const facts = engine.add('a', { watch: 'yes' }, { status: 'healthy', lastProbeAt: 'run 0', intervalMs: 1000 });
  await watcher.start();
  await settle();
  for (let i = 1; i <= 10; i++) {
    engine.containers.set('a', { ...facts, health: { status: 'healthy', lastProbeAt: `run ${i}`, intervalMs: 1000 } });
    await clock.advance(1000);
    await settle();
  }
  t.same(log.map((x) => x.to), ['starting', 'healthy']);
});
