// Oneshot probing: one `healthcheck --mode=once` process per round, judged on the supervisor's clock.
import t, { type Test } from 'tap';
import type { AgentRun, AgentRunner, AgentSink } from '../../src/probes/agent-runner.js';
import { OneshotProbe } from '../../src/probes/oneshot.js';
import type { ProbeEnd } from '../../src/probes/probe.js';
import { appSpec, ensureAgent, supervise, to } from './harness.js';
import { FakeClock } from '../helpers/fake-clock.js';
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
  const h = await supervise(t, [appSpec('oneshot', { startupIntervalMs: 200, startupTimeoutMs: 1500, env: { NEVER_READY: '1' } })]);
  const timedOut = await h.until(to('timed-out', 'web-1'), 15_000);
  t.match(timedOut.reason, /failed to make HTTP request to '\/health'/);
});

/** Agents that never answer on their own: each start is recorded with the clock's time; a kill ends it (SIGKILL). */
class SilentAgents implements AgentRunner {
  readonly inContext = false;
  readonly startupAllowanceMs = 500;
  readonly starts: number[] = [];
  readonly kills: number[] = [];

  constructor(private readonly clock: FakeClock) {}

  start(_args: readonly string[], sink: AgentSink): AgentRun {
    this.starts.push(this.clock.now());
    let end: () => void = () => {};
    const closed = new Promise<void>((resolve) => (end = resolve));
    const kill = () => {
      this.kills.push(this.clock.now());
      queueMicrotask(() => (end(), sink.exited({ code: null, signal: 'SIGKILL' })));
    };
    return { pid: null, describe: () => 'silent', kill, closed };
  }
}

function silentRig(t: Test) {
  const clock = new FakeClock();
  const runner = new SilentAgents(clock);
  const probe = new OneshotProbe(runner, clock);
  t.teardown(() => probe.close());
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }) };
  const plan = { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 } as const], intervalMs: 1000, failureThreshold: 1 };
  const ends: ProbeEnd[] = [];
  const observer = { round: () => {}, ready: () => {}, end: (end: ProbeEnd) => ends.push(end) };
  return { clock, runner, probe, target, plan, ends, observer };
}

t.test('oneshot on the fake clock: an agent with no verdict by check timeout + start-up allowance is killed and the round fails', async (t) => {
  const { clock, runner, probe, target, plan, ends, observer } = silentRig(t);
  probe.liveness(target, plan, observer);
  for (let i = 0; i < 100 && runner.starts.length === 0; i++) await clock.advance(10);
  const started = runner.starts[0] ?? NaN;
  await clock.advance(started + 599 - clock.now());
  t.same(runner.kills, [], 'not before 100ms + 500ms');
  await clock.advance(1);
  t.same(runner.kills, [started + 600], 'killed at its deadline');
  t.match(ends, [{ phase: 'liveness', cause: 'unhealthy', reason: 'health check agent (silent) gave no verdict in 600ms: killed' }]);
  await clock.advance(10_000);
  t.equal(runner.kills.length, 1, 'one kill, one end');
  t.equal(clock.timers, 0, 'no timer left behind');
});

t.test('oneshot on the fake clock: a cancelled probe kills its agent at once, and nothing is told', async (t) => {
  const { clock, runner, probe, target, plan, ends, observer } = silentRig(t);
  const handle = probe.liveness(target, plan, observer);
  for (let i = 0; i < 100 && runner.starts.length === 0; i++) await clock.advance(10);
  await clock.advance((runner.starts[0] ?? NaN) + 50 - clock.now());
  handle.cancel();
  await clock.advance(0);
  t.same(runner.kills, [(runner.starts[0] ?? NaN) + 50], 'killed as it was cancelled');
  await clock.advance(10_000);
  t.same(ends, [], 'a cancellation is no verdict');
  t.equal(runner.kills.length, 1);
  t.equal(clock.timers, 0, 'no timer left behind');
});
