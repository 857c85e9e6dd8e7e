// The sidecar probe with agents the test scripts: the supervisor paces agents' starts (at most N boot at once,
// host-wide; the rest wait their turn; an agent's deadlines count from its own start, never from its wait; the
// queue is in /metrics), and a round's latency is what the agent measured, not its time since the start.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import type { AgentRun, AgentRunner, AgentSink } from '../../src/probes/agent-runner.js';
import { Limit } from '../../src/shared/limit.js';
import type { ProbeEnd } from '../../src/probes/probe.js';
import { SidecarProbe } from '../../src/probes/sidecar.js';

/** An agent that takes `bootMs` to boot, then passes readiness at once and stays quietly live. */
class SlowBootingAgents implements AgentRunner {
  readonly inContext = true;
  readonly startupAllowanceMs = 5000;
  readonly starts: number[] = [];
  readonly booted: number[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly bootMs: number) {}

  start(_args: readonly string[], sink: AgentSink): AgentRun {
    this.starts.push(performance.now() - this.t0);
    let end: () => void = () => {};
    const timer = setTimeout(() => {
      this.booted.push(performance.now() - this.t0);
      sink.line('{"booted":true}');
      sink.line('{"attempt":1,"passed":true,"elapsedMs":1,"latencyMs":1}');
      sink.line('{"ready":true,"elapsedMs":1}');
    }, this.bootMs);
    const closed = new Promise<void>((resolve) => (end = resolve));
    return { pid: null, describe: () => 'fake', kill: () => (clearTimeout(timer), end()), closed };
  }
}

/** A sidecar probe that lets one agent boot at a time, its agents taking `bootMs` to boot; a plan with `startTimeoutMs`. */
function pacedRig(t: Test, bootMs: number, startTimeoutMs: number) {
  const gate = new Limit(1);
  const probe = new SidecarProbe({ agentPath: '/nonexistent', heartbeatGraceMs: 100, startGate: gate });
  t.teardown(() => probe.close());
  const runner = new SlowBootingAgents(bootMs);
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }), agent: runner };
  const check = { kind: 'tcp', port: 8080, timeoutMs: 100 } as const;
  const plan = { readiness: { checks: [check], intervalMs: 50, startTimeoutMs }, liveness: { checks: [check], intervalMs: 10_000, failureThreshold: 1 } };
  return { gate, probe, runner, target, plan };
}

t.test('one agent boots at a time; the last one to start does not time out for having waited', async (t) => {
  // A start timeout shorter than the wait of the last agent in line (3 × 150ms).
  const { gate, probe, runner, target, plan } = pacedRig(t, 150, 250);
  const ready: number[] = [];
  const ends: ProbeEnd[] = [];
  for (let i = 0; i < 4; i++) probe.lifecycle(target, plan, { round: () => {}, ready: () => ready.push(i), end: (end) => ends.push(end) });
  await sleep(20);
  t.same({ booting: gate.running, waiting: gate.queued }, { booting: 1, waiting: 3 }, 'one booting, three waiting');
  for (let i = 0; i < 100 && ready.length < 4; i++) await sleep(20);
  t.same(ready, [0, 1, 2, 3], 'every agent became ready');
  t.same(ends, [], 'none timed out, though the last waited longer than its start timeout');
  for (let i = 1; i < runner.starts.length; i++) t.ok((runner.starts[i] ?? 0) >= (runner.booted[i - 1] ?? Infinity) - 1, `agent ${i} started once agent ${i - 1} had booted`);
  t.same({ booting: gate.running, waiting: gate.queued }, { booting: 0, waiting: 0 });
});

t.test('an agent cancelled while it waits for its turn is never started', async (t) => {
  const { probe, runner, target, plan } = pacedRig(t, 100, 0);
  const observer = { round: () => {}, ready: () => {}, end: () => {} };
  probe.lifecycle(target, plan, observer);
  probe.lifecycle(target, plan, observer).cancel();
  await sleep(300);
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
  const probe = new SidecarProbe({ agentPath: '/nonexistent', heartbeatGraceMs: 100, startGate: new Limit(1) });
  const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }), agent: runner };
  const handle = probe.liveness(target, { checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 30_000, failureThreshold: 1 }, { round: (_phase, _passed, latencyMs) => rounds.push(latencyMs), ready: () => {}, end: () => {} });
  await sleep(50);
  handle.cancel();
  t.same(rounds, [5]);
});
