// The sidecar probe with agents the test scripts: the supervisor paces agents' starts (at most N boot at once,
// host-wide; the rest wait their turn; an agent's deadlines count from its own start, never from its wait; the
// queue is in /metrics), and a round's latency is what the agent measured, not its time since the start.
// On the fake clock: the agents' boots, the probe's heartbeat deadlines and start-up allowances all count on it.
import { EventEmitter } from 'node:events';
import t, { type Test } from 'tap';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import type { AgentRun, AgentRunner, AgentSink } from '../../src/probes/agent-runner.js';
import { Limit } from '../../src/shared/limit.js';
import type { ProbeEnd } from '../../src/probes/probe.js';
import { SidecarProbe } from '../../src/probes/sidecar.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** An agent that takes `bootMs` to boot, then passes readiness at once and stays quietly live. */
class SlowBootingAgents implements AgentRunner {
  readonly inContext = true;
  readonly startupAllowanceMs = 5000;
  readonly starts: number[] = [];
  readonly booted: number[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly bootMs: number,
  ) {}

  start(_args: readonly string[], sink: AgentSink): AgentRun {
    const { clock } = this;
    this.starts.push(clock.now());
    let end: () => void = () => {};
    const timer = clock.setTimeout(() => {
      this.booted.push(clock.now());
      sink.line('{"booted":true}');
      sink.line('{"attempt":1,"passed":true,"elapsedMs":1,"latencyMs":1}');
      sink.line('{"ready":true,"elapsedMs":1}');
    }, this.bootMs);
    const closed = new Promise<void>((resolve) => (end = resolve));
    return { pid: null, describe: () => 'fake', kill: () => (clock.clearTimeout(timer), end()), closed };
  }
}

/** A sidecar probe that lets one agent boot at a time, its agents taking `bootMs` to boot; a plan with `startupTimeoutMs`. */
function pacedRig(t: Test, bootMs: number, startupTimeoutMs: number) {
  const clock = new FakeClock();
  const gate = new Limit(1);
  const probe = new SidecarProbe({ agentPath: '/nonexistent', heartbeatGraceMs: 100, startGate: gate, clock });
  t.teardown(() => probe.close());
  const runner = new SlowBootingAgents(clock, bootMs);
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }), agent: runner };
  const check = { kind: 'tcp', port: 8080, timeoutMs: 100 } as const;
  const plan = { readiness: { checks: [check], intervalMs: 50, startupTimeoutMs }, liveness: { checks: [check], intervalMs: 10_000, failureThreshold: 1 } };
  return { clock, gate, probe, runner, target, plan };
}

t.test('one agent boots at a time; the last one to start does not time out for having waited', async (t) => {
  // A start timeout shorter than the wait of the last agent in line (3 × 150ms).
  const { clock, gate, probe, runner, target, plan } = pacedRig(t, 150, 250);
  const ready: number[] = [];
  const ends: ProbeEnd[] = [];
  for (let i = 0; i < 4; i++) probe.lifecycle(target, plan, { round: () => {}, ready: () => ready.push(i), end: (end) => ends.push(end) });
  await clock.advance(20);
  t.same({ booting: gate.running, waiting: gate.queued }, { booting: 1, waiting: 3 }, 'one booting, three waiting');
  for (let i = 0; i < 100 && ready.length < 4; i++) await clock.advance(20);
  t.same(ready, [0, 1, 2, 3], 'every agent became ready');
  t.same(ends, [], 'none timed out, though the last waited longer than its start timeout');
  for (let i = 1; i < runner.starts.length; i++) t.ok((runner.starts[i] ?? 0) >= (runner.booted[i - 1] ?? Infinity) - 1, `agent ${i} started once agent ${i - 1} had booted`);
  t.same({ booting: gate.running, waiting: gate.queued }, { booting: 0, waiting: 0 });
  t.same(runner.starts, [0, 150, 300, 450], 'each agent started the moment the one before it had booted');
});

t.test('an agent cancelled while it waits for its turn is never started', async (t) => {
  const { clock, probe, runner, target, plan } = pacedRig(t, 100, 0);
  const observer = { round: () => {}, ready: () => {}, end: () => {} };
  probe.lifecycle(target, plan, observer);
  probe.lifecycle(target, plan, observer).cancel();
  await clock.advance(300);
  t.equal(runner.starts.length, 1);
});

t.test('/metrics: the agent start queue', async (t) => {
  const source = Object.assign(new EventEmitter(), { status: () => ({ apps: [] }), agentStartQueue: () => ({ booting: 4, waiting: 996 }) });
  const metrics = new SupervisorMetrics(source);
  t.teardown(() => metrics.close());
  const text = await metrics.metrics();
  t.match(text, /^lifeguard_agent_starts\{state="booting"\} 4$/m);
  t.match(text, /^lifeguard_agent_starts\{state="waiting"\} 996$/m);
});

t.test("a round's latency is the agent's own measure, never the time since it started", async (t) => {
  const rounds: number[] = [];
  const runner: AgentRunner = {
    inContext: true,
    startupAllowanceMs: 1000,
    start: (_args, sink) => {
      // A liveness round 19s after the agent's start (a random initial delay), that took 5ms.
      setImmediate(() => sink.line('{"attempt":1,"passed":true,"elapsedMs":19000,"latencyMs":5}'));
      return { pid: null, describe: () => 'fake', kill: () => {}, closed: new Promise(() => {}) };
    },
  };
  const clock = new FakeClock();
  const probe = new SidecarProbe({ agentPath: '/nonexistent', heartbeatGraceMs: 100, startGate: new Limit(1), clock });
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }), agent: runner };
  const handle = probe.liveness(target, { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 30_000, failureThreshold: 1 }, { round: (_phase, _passed, latencyMs) => rounds.push(latencyMs), ready: () => {}, end: () => {} });
  await clock.advance(50);
  handle.cancel();
  t.same(rounds, [5]);
});

/** Agents the test speaks for: each start hands the test its sink; kills are counted. */
class ScriptedAgents implements AgentRunner {
  readonly inContext = true;
  readonly startupAllowanceMs = 500;
  readonly sinks: AgentSink[] = [];
  kills = 0;

  start(_args: readonly string[], sink: AgentSink): AgentRun {
    this.sinks.push(sink);
    let end: () => void = () => {};
    const closed = new Promise<void>((resolve) => (end = resolve));
    return { pid: null, describe: () => 'scripted', kill: () => (this.kills++, end()), closed };
  }
}

function scriptedRig(t: Test) {
  const clock = new FakeClock();
  const gate = new Limit(1);
  const probe = new SidecarProbe({ agentPath: '/nonexistent', heartbeatGraceMs: 100, startGate: gate, clock });
  t.teardown(() => probe.close());
  const runner = new ScriptedAgents();
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }), agent: runner };
  const ends: { at: number; end: ProbeEnd }[] = [];
  const observer = { round: () => {}, ready: () => {}, end: (end: ProbeEnd) => ends.push({ at: clock.now(), end }) };
  return { clock, gate, probe, runner, target, ends, observer };
}

const beat = (attempt: number) => `{"attempt":${attempt},"passed":true,"elapsedMs":1,"latencyMs":1}`;

t.test('heartbeat watchdog: a silent liveness agent is lost at interval + check timeout + grace (+ its start-up allowance at first), not a moment before', async (t) => {
  const { clock, probe, runner, target, ends, observer } = scriptedRig(t);
  // Silence allowed: 1000 interval + 100 timeout + 100 grace = 1200ms; before the first word, 500ms more.
  probe.liveness(target, { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 1000, failureThreshold: 1 }, observer);
  await clock.advance(1699);
  t.same(ends, [], 'still within 1700ms of its start');
  runner.sinks[0]?.line(beat(1));
  await clock.advance(1199);
  t.same(ends, [], 'each heartbeat restarts the deadline');
  await clock.advance(1);
  t.same(ends, [{ at: 2899, end: { phase: 'liveness', cause: 'agent-lost', reason: 'health check agent (scripted) sent no heartbeat for 1.2s: stopped or stuck, killed' } }]);
  t.equal(runner.kills, 1, 'the silent agent is killed');
  await clock.advance(10_000);
  t.equal(ends.length, 1, 'told once');
  t.equal(clock.timers, 0, 'no timer left behind');
});

t.test('heartbeat watchdog: a lifecycle agent may stay silent through readiness until its start timeout + grace; once ready, the liveness deadline', async (t) => {
  const { clock, probe, runner, target, ends, observer } = scriptedRig(t);
  const check = { kind: 'tcp', port: 8080, timeoutMs: 100 } as const;
  probe.lifecycle(target, { readiness: { checks: [check], intervalMs: 50, startupTimeoutMs: 3000 }, liveness: { checks: [check], intervalMs: 1000, failureThreshold: 1 } }, observer);
  // Readiness silence: 3000 start timeout + 100 grace, + 500 start-up allowance at first.
  await clock.advance(3599);
  t.same(ends, [], 'a slow boot is not a lost agent');
  runner.sinks[0]?.line('{"ready":true,"elapsedMs":3599}');
  await clock.advance(1199);
  t.same(ends, [], 'liveness silence: 1200ms');
  await clock.advance(1);
  t.match(ends, [{ at: 4799, end: { phase: 'liveness', cause: 'agent-lost', reason: /sent no heartbeat for 1\.2s/ } }]);
});

t.test("an agent that never speaks holds its turn to boot for its start-up allowance, then the next one boots", async (t) => {
  const { clock, gate, probe, runner, target, observer } = scriptedRig(t);
  const plan = { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 } as const], intervalMs: 1000, failureThreshold: 1 };
  probe.liveness(target, plan, observer);
  probe.liveness(target, plan, observer);
  await clock.advance(499);
  t.same({ started: runner.sinks.length, waiting: gate.queued }, { started: 1, waiting: 1 });
  await clock.advance(1);
  t.same({ started: runner.sinks.length, waiting: gate.queued }, { started: 2, waiting: 0 }, 'the turn passed at 500ms');
});

t.test('an agent that exits is a failure at once, its report saying which check failed', async (t) => {
  const { clock, probe, runner, target, ends, observer } = scriptedRig(t);
  probe.liveness(target, { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 1000, failureThreshold: 1 }, observer);
  await clock.advance(10);
  runner.sinks[0]?.stderr('oops\n');
  runner.sinks[0]?.exited({ code: 3, signal: null });
  t.match(ends, [{ at: 10, end: { phase: 'liveness', cause: 'agent-lost', reason: /^health check agent .*: oops$/ } }]);
  await clock.advance(10_000);
  t.equal(ends.length, 1);
});
