// The paths of an instance's life, with real child processes, under both probing strategies.
import t from 'tap';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { appSpec, ensureAgent, show, STRATEGIES, supervise, to } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

for (const probe of STRATEGIES) t.test(`${probe} probing`, async (t) => {
  if (probe === 'sidecar') t.before(ensureAgent);

  t.test(`${probe}: a healthy start`, async (t) => {
    const h = await supervise(t, [appSpec(probe, { instances: 2, env: { READY_AFTER_MS: '200' } })]);
    await h.until(to('healthy', 'web-1'));
    await h.until(to('healthy', 'web-2'));
    const lines = h.transitions.filter((x) => x.instance === 'web-1').map((x) => [x.from, x.to, x.msg]);
    t.same(lines, [
      [null, 'scheduled', 'Backfilling: scheduled 1 of 2 instances'],
      ['scheduled', 'starting', 'Starting health monitoring of container'],
      ['starting', 'healthy', 'Container became healthy'],
    ]);
    const status = h.supervisor.status().apps[0];
    t.equal(status?.desired, 2);
    t.match(status?.instances, [{ id: 'web-1', state: 'healthy', address: /^127\.0\.0\.1:\d+$/, pid: Number, restarts: 0 }, { id: 'web-2', state: 'healthy' }]);
  });

  t.test(`${probe}: an app that crashes is destroyed, rescheduled, and the app is back to its desired count`, async (t) => {
    const once = `${tempDir(t)}/once`;
    // A long liveness interval: a check that ran as the app died could call it unhealthy. The first liveness round
    // comes at a random moment of the interval; at 10 s it once fell while the exit waited for the app's last stderr
    // lines. RunningInstance's `exited` covers that wait and the zombie before it now; what is left is the app's
    // sockets closing a moment before it becomes a zombie: at 60 s, six times less likely still to be hit.
    const h = await supervise(t, [appSpec(probe, { livenessIntervalMs: 60_000, env: { CRASH_AFTER_MS: '1500', CRASH_CODE: '7', ONCE: once } })]);
    const crashed = await h.until(to('crashed'));
    t.match(crashed, { instance: 'web-1', level: 'warn', msg: 'Container crashed', reason: 'exited with code 7' });
    const rescheduled = await h.until(to('scheduled', 'web-2'));
    t.match(rescheduled.msg, 'Rescheduled to replace web-1, starting at once (restart 1 of 5)');
    await h.until(to('healthy', 'web-2'));
    t.same(h.transitions.filter((x) => x.instance === 'web-1').map((x) => x.to), ['scheduled', 'starting', 'healthy', 'crashed', 'destroying', 'destroyed']);
    t.match(h.supervisor.status().apps[0]?.instances, [{ id: 'web-2', state: 'healthy', restarts: 1 }]);
  });

  t.test(`${probe}: a liveness failure (HTTP 500) makes the instance unhealthy and replaces it`, async (t) => {
    const once = `${tempDir(t)}/once`;
    const h = await supervise(t, [appSpec(probe, { env: { UNHEALTHY_AFTER_MS: '1500', ONCE: once } })]);
    const unhealthy = await h.until(to('unhealthy'));
    t.match(unhealthy, { instance: 'web-1', from: 'healthy', level: 'warn', msg: 'Container became unhealthy', reason: /received status code 500/ });
    await h.until(to('destroyed', 'web-1'));
    await h.until(to('healthy', 'web-2'));
  });

  t.test(`${probe}: an app that stops answering (SIGSTOP) fails liveness by timeout and is still destroyed`, async (t) => {
    const h = await supervise(t, [appSpec(probe)]);
    await h.until(to('healthy', 'web-1'));
    const pid = h.supervisor.status().apps[0]?.instances[0]?.pid as number;
    process.kill(pid, 'SIGSTOP');
    const unhealthy = await h.until(to('unhealthy', 'web-1'));
    t.match(unhealthy.reason, /timed out after 1\.00 seconds/);
    const destroyed = await h.until(to('destroyed', 'web-1'));
    t.equal(destroyed.reason, undefined, 'SIGTERM (with SIGCONT) was enough');
    t.notOk(isRunning(pid));
    await h.until(to('healthy', 'web-2'));
  });

  t.test(`${probe}: an app that never becomes ready times out`, async (t) => {
    const h = await supervise(t, [appSpec(probe, { startupTimeoutMs: 1000, env: { NEVER_READY: '1' } })]);
    const timedOut = await h.until(to('timed-out'));
    t.match(timedOut, { instance: 'web-1', from: 'starting', level: 'warn', msg: /^Failed after \d+(\.\d+)?s: startup health check never passed\.$/ }, h.transitions.map(show).join('\n'));
    t.match(timedOut.reason, /failed to make HTTP request to '\/health' on 127\.0\.0\.1:\d+/);
    await h.until(to('destroyed', 'web-1'));
    await h.until(to('scheduled', 'web-2'));
  });

  t.test(`${probe}: an app that ignores SIGTERM is killed after the grace period`, async (t) => {
    const h = await supervise(t, [appSpec(probe, { gracePeriodMs: 500, env: { IGNORE_SIGTERM: '1' } })]);
    await h.until(to('healthy', 'web-1'));
    const pid = h.supervisor.status().apps[0]?.instances[0]?.pid as number;
    const started = performance.now();
    await h.supervisor.stop();
    t.ok(performance.now() - started >= 450, 'waited for the grace period');
    const destroyed = h.transitions.find(to('destroyed', 'web-1'));
    t.equal(destroyed?.reason, 'still running 500ms after SIGTERM: killed');
    t.notOk(isRunning(pid));
  });

  t.test(`${probe}: a command that does not exist is a permanent failure: crashed, then given up at once`, async (t) => {
    const h = await supervise(t, [appSpec(probe, { command: ['lifeguard-no-such-command'], instances: 2 })]);
    await h.until(to('given-up', 'web-1'));
    await h.until(to('given-up', 'web-2'));
    for (const id of ['web-1', 'web-2']) {
      const mine = h.transitions.filter((x) => x.instance === id).map((x) => [x.to, x.cause]);
      t.same(mine, [['scheduled', 'backfill'], ['crashed', 'permanent'], ['destroying', 'permanent'], ['destroyed', 'permanent'], ['given-up', 'permanent']], id);
    }
    t.match(h.transitions.find(to('crashed')), { from: 'scheduled', reason: 'command not found: lifeguard-no-such-command' });
    t.match(h.transitions.find(to('given-up')), { level: 'error', msg: 'Gave up at once: the start cannot succeed on a retry (not rescheduling)' });
    t.notOk(h.transitions.some((x) => x.cause === 'restart'), 'never retried');
    t.match(h.supervisor.status().apps[0]?.instances, [{ id: 'web-1', state: 'given-up' }, { id: 'web-2', state: 'given-up' }]);
  });

  t.test(`${probe}: a start that fails for a passing reason crashes, backs off, then is given up`, async (t) => {
    const restart = { immediate: 1, backoffMinMs: 100, backoffMaxMs: 200, maxRestarts: 3, resetAfterMs: 60_000 };
    const h = await supervise(t, [appSpec(probe, { env: { CRASH_AFTER_MS: '0' }, restart })]);
    const givenUp = await h.until(to('given-up'));
    t.match(givenUp, { instance: 'web-4', from: 'destroyed', level: 'error', msg: 'Gave up after 3 restarts: not rescheduling', cause: 'restart-limit' });
    t.equal(h.transitions.filter(to('crashed')).length, 4);
    const delays = h.transitions.filter((x) => x.to === 'scheduled' && x.msg.startsWith('Rescheduled')).map((x) => x.msg.replace(/.*starting (.*) \(.*/, '$1'));
    t.same(delays, ['at once', 'in 100ms', 'in 200ms']);
    t.match(h.supervisor.status().apps[0]?.instances, [{ id: 'web-4', state: 'given-up', restarts: 3 }]);
  });
});

t.test('restart delays follow the policy: immediate restarts, then doubling backoff with a cap', async (t) => {
  const restart = { immediate: 2, backoffMinMs: 300, backoffMaxMs: 600, maxRestarts: 5, resetAfterMs: 60_000 };
  const h = await supervise(t, [appSpec('native', { env: { CRASH_AFTER_MS: '0' }, restart })]);
  await h.until(to('given-up'), 20_000);
  const scheduledAt = new Map(h.transitions.filter(to('scheduled')).map((x) => [x.instance, Date.parse(x.time)]));
  const startedAt = new Map(h.transitions.filter((x) => x.to === 'starting' || x.to === 'crashed' && x.from === 'scheduled').map((x) => [x.instance, Date.parse(x.time)]));
  const waits = [...scheduledAt].slice(1).map(([id, at]) => (startedAt.get(id) as number) - at);
  const expected = [0, 0, 300, 600, 600];
  t.equal(waits.length, expected.length);
  waits.forEach((wait, i) => {
    const want = expected[i] as number;
    t.ok(wait >= want - 20 && wait < want + 400, `restart ${i + 1} waited ${wait}ms, about ${want}ms`);
  });
});
