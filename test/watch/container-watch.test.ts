// The timing rules of `lifeguard watch` on a fake clock: start grace (and the HEALTHCHECK's start period),
// minimum unhealthy duration, the restart policy's backoff and give-up, dry run.
import t from 'tap';
import { ContainerWatch, type Lineage, type WatchAction, type WatchRules } from '../../src/watch/container-watch.js';
import type { WatchTransition } from '../../src/shared/transition.js';
import { FakeClock } from '../helpers/fake-clock.js';

const RULES: WatchRules = {
  action: 'restart',
  minUnhealthyMs: 0,
  startGraceMs: 0,
  dryRun: false,
  restart: { immediate: 1, backoffMinMs: 30_000, backoffMaxMs: 120_000, maxRestarts: 3, resetAfterMs: 300_000 },
};
const SICK = { kind: 'unhealthy', reason: 'HEALTHCHECK exited with code 1' } as const;
const WELL = { kind: 'healthy' } as const;

function watched(rules: Partial<WatchRules> = {}, startPeriodMs = 0) {
  const clock = new FakeClock();
  const log: WatchTransition[] = [];
  const acts: { at: number; action: WatchAction }[] = [];
  const lineage: Lineage = { restarts: 0 };
  const watch = new ContainerWatch({
    id: 'c0ffee', app: 'web', name: 'web-1', rules: { ...RULES, ...rules }, clock, lineage,
    transition: (x) => log.push(x),
    onAct: (_, action) => acts.push({ at: clock.now(), action }),
  });
  const started = clock.now();
  watch.begin({ startedAtMs: started, startPeriodMs }, 'Watching container');
  const states = () => log.map((x) => x.to);
  return { clock, log, acts, lineage, watch, started, states };
}

t.test('a healthy container that turns unhealthy is restarted at once, then watched again', async (t) => {
  const w = watched();
  w.watch.report(WELL);
  await w.clock.advance(5000);
  w.watch.report(SICK);
  t.same(w.acts.map((a) => a.at - w.started), [5000], 'restart asked for the moment it turned unhealthy');
  t.same(w.states(), ['starting', 'healthy', 'unhealthy', 'restarting']);
  t.match(w.log[3], { level: 'info', msg: 'Restarting container (restart 1 of 3)', reason: 'unhealthy for 0s: HEALTHCHECK exited with code 1', app: 'web', instance: 'web-1', from: 'unhealthy' });
  t.match(w.log[2], { level: 'warn', msg: 'Container became unhealthy' });
  w.watch.restarted({ startedAtMs: w.clock.now(), startPeriodMs: 0 });
  t.match(w.log[4], { from: 'restarting', to: 'starting', msg: 'Restarted container; waiting for it to become healthy' });
  t.equal(w.lineage.restarts, 1);
});

t.test('nothing is done during the start grace; failures then count from its end', async (t) => {
  const w = watched({ startGraceMs: 10_000 });
  w.watch.report(SICK);
  await w.clock.advance(9_999);
  t.same(w.states(), ['starting'], 'still starting, although reported unhealthy');
  await w.clock.advance(1);
  t.same(w.states(), ['starting', 'unhealthy', 'restarting'], 'unhealthy and acted on at the grace end');
  t.equal(w.acts[0]?.at, w.started + 10_000);
});

t.test('a container healthy early but failing within the grace waits for its end', async (t) => {
  const w = watched({ startGraceMs: 10_000 });
  await w.clock.advance(1000);
  w.watch.report(WELL);
  await w.clock.advance(1000);
  w.watch.report(SICK);
  t.same(w.states(), ['starting', 'healthy', 'unhealthy'], 'it is unhealthy at once');
  await w.clock.advance(7_999);
  t.same(w.acts, []);
  await w.clock.advance(1);
  t.same(w.acts.map((a) => a.at - w.started), [10_000]);
});

t.test("the HEALTHCHECK's start period counts when longer than the grace", async (t) => {
  const w = watched({ startGraceMs: 1000 }, 20_000);
  w.watch.report(SICK);
  await w.clock.advance(19_000);
  t.same(w.acts, []);
  await w.clock.advance(1000);
  t.same(w.acts.map((a) => a.at - w.started), [20_000]);
});

t.test('minimum unhealthy duration: a recovery in time means nothing is done', async (t) => {
  const w = watched({ minUnhealthyMs: 60_000 });
  w.watch.report(WELL);
  w.watch.report(SICK);
  await w.clock.advance(59_000);
  w.watch.report(SICK);
  w.watch.report(WELL);
  await w.clock.advance(600_000);
  t.same(w.acts, [], 'not acted on');
  t.same(w.states(), ['starting', 'healthy', 'unhealthy', 'healthy']);
  t.equal(w.clock.timers, 0, 'no timer left');
  w.watch.report(SICK);
  await w.clock.advance(59_999);
  t.same(w.acts, []);
  await w.clock.advance(1);
  t.equal(w.acts.length, 1, 'acted on once unhealthy for the whole minimum');
  t.match(w.log.at(-1), { reason: /^unhealthy for 1m0s: / });
});

t.test('one that keeps failing backs off, then is given up', async (t) => {
  const w = watched();
  const restartedNow = () => w.watch.restarted({ startedAtMs: w.clock.now(), startPeriodMs: 0 });
  w.watch.report(SICK);
  t.equal(w.acts.length, 1, 'the first restart at once (immediate: 1)');
  restartedNow();
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'backing-off', msg: 'Restart 2 of 3 in 30s' });
  await w.clock.advance(29_999);
  t.equal(w.acts.length, 1);
  await w.clock.advance(1);
  t.equal(w.acts.length, 2, 'the second after backoffMin');
  restartedNow();
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'backing-off', msg: 'Restart 3 of 3 in 1m0s' });
  await w.clock.advance(60_000);
  t.equal(w.acts.length, 3, 'the third after twice that');
  restartedNow();
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'given-up', level: 'error', msg: 'Gave up after 3 restarts: leaving the container as it is' });
  await w.clock.advance(3_600_000);
  t.equal(w.acts.length, 3, 'nothing more');
  w.watch.report(SICK);
  t.equal(w.log.at(-1)?.to, 'given-up', 'further failures add no line');
  w.watch.report(WELL);
  t.equal(w.log.at(-1)?.to, 'healthy', 'a given-up container that recovers is healthy again');
});

t.test('a restart waiting out its backoff is called off when the container recovers', async (t) => {
  const w = watched({ restart: { ...RULES.restart, immediate: 0 } });
  w.watch.report(SICK);
  t.equal(w.log.at(-1)?.to, 'backing-off');
  await w.clock.advance(10_000);
  w.watch.report(WELL);
  await w.clock.advance(60_000);
  t.same(w.acts, []);
  t.same(w.states().slice(-2), ['backing-off', 'healthy']);
});

t.test('a long healthy stretch resets the count (resetAfter)', async (t) => {
  const w = watched();
  w.lineage.restarts = 3;
  w.watch.report(WELL);
  await w.clock.advance(300_000);
  w.watch.report(SICK);
  t.equal(w.acts.length, 1, 'restarted rather than given up');
  t.equal(w.lineage.restarts, 1);
});

t.test('a failed action counts and is retried under the backoff', async (t) => {
  const w = watched();
  w.watch.report(SICK);
  w.watch.actionFailed('no such container');
  t.match(w.log.slice(-2), [
    { from: 'restarting', to: 'unhealthy', msg: 'Could not restart the container', reason: 'no such container' },
    { to: 'backing-off', msg: 'Restart 2 of 3 in 30s' },
  ]);
  await w.clock.advance(30_000);
  t.equal(w.acts.length, 2);
});

t.test('stop: the container is stopped, and the watch ends', async (t) => {
  const w = watched({ action: 'stop' });
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'stopping', msg: 'Stopping container (stop 1 of 3)' });
  t.same(w.acts.map((a) => a.action), ['stop']);
  w.watch.stopped();
  t.match(w.log.at(-1), { from: 'stopping', to: 'stopped', msg: 'Stopped container' });
});

t.test('dry run: says what it would do, does nothing, times nothing', async (t) => {
  const w = watched({ dryRun: true });
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'backing-off', msg: 'Dry run: would restart now (restart 1 of 3)' });
  t.same(w.acts, []);
  t.equal(w.clock.timers, 0);
  w.watch.report(WELL);
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'backing-off', msg: 'Dry run: would restart in 30s (restart 2 of 3)' });
  w.watch.report(WELL);
  w.watch.report(SICK);
  w.watch.report(WELL);
  w.watch.report(SICK);
  t.match(w.log.at(-1), { to: 'given-up', msg: 'Dry run: would give up after 3 restarts: leaving the container as it is' });
  t.same(w.acts, []);
});

t.test('exit and removal end the watch with one line each, and cancel its timer', async (t) => {
  const w = watched({ minUnhealthyMs: 10_000 });
  w.watch.report(SICK);
  w.watch.exited('exited with code 137');
  t.match(w.log.at(-1), { to: 'stopped', msg: 'Container exited (not stopped by lifeguard); watched again if it starts', reason: 'exited with code 137' });
  t.equal(w.clock.timers, 0);
  w.watch.removed();
  t.equal(w.log.length, 3, 'no second line for a watch already ended');
});
