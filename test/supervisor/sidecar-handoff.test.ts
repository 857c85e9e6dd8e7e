// Hand-off probing: while a local sidecar agent waits its turn at the start gate, the supervisor checks readiness
// with its own probe loop; the agent, once its turn comes, goes on with liveness (readiness passed meanwhile) or
// with the rest of readiness (it did not), and is never started when readiness timed out or the watch was
// cancelled. With a free gate the agent does it all, as before. Real agents (dist/healthcheck.cjs), a real app.
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { checkRound } from '../../src/engine/check-round.js';
import type { HttpCheckSpec } from '../../src/checks/types.js';
import { Limit } from '../../src/shared/limit.js';
import { LoopProbe } from '../../src/probes/loop-probe.js';
import type { LifecyclePlan, Phase, ProbeEnd, ProbeHandle } from '../../src/probes/probe.js';
import { SidecarProbe } from '../../src/probes/sidecar.js';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { tempDir } from '../helpers/temp-dir.js';
import { AGENT, agentPid, appSpec, ensureAgent, supervise, to } from './harness.js';

t.before(ensureAgent);

/** The app: /health answers `status` (changed by the test); every request counted. */
async function app(t: Test, status: number) {
  const state = { status, requests: 0 };
  const server = createServer((_req, res) => {
    state.requests++;
    res.writeHead(state.status).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return Object.assign(state, { port: (server.address() as { port: number }).port });
}

type Heard = { readonly kind: 'round'; readonly phase: Phase; readonly passed: boolean; readonly native: boolean } | { readonly kind: 'ready' | 'agent-started' } | { readonly kind: 'end'; readonly end: ProbeEnd };

/**
 * A sidecar probe that hands off to a native loop (the check engine, its rounds counted), with a gate of one that
 * `hold()` fills, the app at `port`, and an observer that writes down everything it hears.
 */
function rig(t: Test, port: number, startupTimeoutMs = 5000) {
  const gate = new Limit(1);
  let nativeRounds = 0;
  const native = new LoopProbe((checks, scope, done) => {
    nativeRounds++;
    checkRound(checks, scope, done);
  });
  const probe = new SidecarProbe({ agentPath: AGENT, heartbeatGraceMs: 300, startGate: gate, handoff: native });
  t.teardown(() => probe.close());
  const check: HttpCheckSpec = { kind: 'http', port, path: '/health', timeoutMs: 300, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false };
  const plan: LifecyclePlan = { readiness: { checks: [check], intervalMs: 100, startupTimeoutMs }, liveness: { checks: [check], intervalMs: 150, failureThreshold: 1 } };
  const target = { app: 'web', instance: 'web-1', endpoint: (containerPort: number) => ({ host: '127.0.0.1', port: containerPort }) };
  const heard: Heard[] = [];
  const start = (): ProbeHandle =>
    probe.lifecycle(target, plan, {
      round: (phase, passed, _latencyMs, lateMs) => heard.push({ kind: 'round', phase, passed, native: lateMs !== undefined }),
      ready: () => heard.push({ kind: 'ready' }),
      end: (end) => heard.push({ kind: 'end', end }),
      agentStarted: () => heard.push({ kind: 'agent-started' }),
    });
  /** Fills the gate until the returned function is called, as an agent booting for ever would. */
  const hold = (): (() => void) => {
    let release = (): void => {};
    void gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    return () => release();
  };
  return { gate, start, hold, heard, nativeRounds: () => nativeRounds };
}

/** Polls `done` every 20ms for at most `ms`; throws naming `what` if it never held. */
async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !done(); waited += 20) {
    if (waited >= ms) throw new Error(`${what}: not within ${ms}ms`);
    await sleep(20);
  }
}

function argv(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
}

/** Live agent processes this test process started (`command`: how they were run). */
function agentChildren(command = AGENT): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && isRunning(pid) && argv(pid).includes(command);
      } catch {
        return false;
      }
    });
}

/** Frees the gate, lets the queued turn come and go, and checks that it started no agent. */
async function noAgentOnceFree(t: Test, release: () => void, gate: Limit, handle: ProbeHandle): Promise<void> {
  release();
  await until('the gate empty', () => gate.running === 0 && gate.queued === 0);
  await sleep(200);
  t.equal(handle.agentPid, null);
  t.same(agentChildren(), [], 'no agent process was started');
}

const has = (heard: readonly Heard[], kind: Heard['kind']) => heard.some((h) => h.kind === kind);

t.test('gate full, app ready: healthy before any agent exists; then a liveness agent, whose failure ends the watch', async (t) => {
  const health = await app(t, 200);
  const { start, hold, heard, nativeRounds } = rig(t, health.port);
  const release = hold();
  const handle = start();
  await until('ready', () => has(heard, 'ready'));
  t.equal(handle.agentPid, null, 'no agent yet when the instance became ready');
  t.same(agentChildren(), [], 'no agent process at all');
  t.ok(nativeRounds() >= 1, 'the supervisor checked readiness');
  t.same(heard, [{ kind: 'round', phase: 'readiness', passed: true, native: true }, { kind: 'ready' }], 'one readiness round, reported as such, then ready');

  release();
  await until('the agent started', () => handle.agentPid !== null);
  const pid = handle.agentPid ?? 0;
  const args = argv(pid);
  t.ok(args.includes('--mode=liveness'), `the agent runs liveness: ${args.join(' ')}`);
  t.notOk(args.some((arg) => arg.startsWith('--readiness-check') || arg.startsWith('--startup-timeout')), 'and no readiness of its own');
  t.ok(has(heard, 'agent-started'), 'the late start is told, for the state directory');
  await until('a liveness round from the agent', () => heard.some((h) => h.kind === 'round' && h.phase === 'liveness'));
  const rounds = nativeRounds();

  health.status = 500;
  await until('the end', () => has(heard, 'end'));
  t.match(heard.find((h) => h.kind === 'end'), { end: { phase: 'liveness', cause: 'unhealthy', reason: /500/ } }, "the agent's verdict");
  t.equal(nativeRounds(), rounds, 'the supervisor checked nothing once the agent had the watch');
  t.ok(heard.filter((h) => h.kind === 'round' && h.phase === 'liveness').every((h) => h.kind === 'round' && !h.native), "every liveness round is the agent's");
  await until('the agent gone', () => !isRunning(pid), 3000);
  t.same(agentChildren(), []);
});

t.test('free gate: a lifecycle agent at once, and no round of the supervisor', async (t) => {
  const health = await app(t, 200);
  const { start, heard, nativeRounds, gate } = rig(t, health.port);
  const handle = start();
  t.not(handle.agentPid, null, 'the agent started within lifecycle()');
  const args = argv(handle.agentPid ?? 0);
  t.ok(args.includes('--mode=lifecycle'), `a lifecycle agent: ${args.join(' ')}`);
  t.ok(args.includes('--startup-timeout=5000ms'), 'with the whole start timeout');
  await until('ready', () => has(heard, 'ready'));
  await until('a liveness round', () => heard.some((h) => h.kind === 'round' && h.phase === 'liveness'));
  handle.cancel();
  t.equal(nativeRounds(), 0, 'no native round ran');
  t.notOk(has(heard, 'agent-started'), 'an agent that did not wait is no news');
  t.ok(heard.every((h) => h.kind !== 'round' || !h.native), "every round is the agent's");
  await until('the gate free', () => gate.running === 0);
});

t.test('gate full, app not yet ready: the agent takes over readiness with the time left', async (t) => {
  const health = await app(t, 503);
  const { start, hold, heard, nativeRounds } = rig(t, health.port);
  const release = hold();
  const handle = start();
  await until('two native rounds', () => nativeRounds() >= 2);
  t.notOk(has(heard, 'ready'));
  release();
  await until('the agent started', () => handle.agentPid !== null);
  const rounds = nativeRounds();
  const args = argv(handle.agentPid ?? 0);
  t.ok(args.includes('--mode=lifecycle'), `a lifecycle agent: ${args.join(' ')}`);
  const left = Number(/^--startup-timeout=(\d+)ms$/.exec(args.find((arg) => arg.startsWith('--startup-timeout=')) ?? '')?.[1]);
  t.ok(left > 0 && left < 5000, `the readiness time left, counted from the watch's start (${left}ms)`);
  health.status = 200;
  await until('ready', () => has(heard, 'ready'));
  t.equal(nativeRounds(), rounds, 'the supervisor stopped checking when the agent started');
  t.ok(heard.filter((h) => h.kind === 'round' && !h.native).length >= 1, 'the agent said it was ready after a round of its own');
  t.notOk(has(heard, 'end'));
  handle.cancel();
});

t.test('cancel while queued: no more checks, no word, and the agent is never started', async (t) => {
  for (const status of [503, 200]) {
    await t.test(`app answering ${status}`, async (t) => {
      const health = await app(t, status);
      const { start, hold, heard, gate } = rig(t, health.port);
      const release = hold();
      const handle = start();
      // 503: cancelled while checking; 200: once ready, while only the agent's turn was left.
      await until('a native round', () => heard.length >= (status === 200 ? 2 : 1));
      handle.cancel();
      const [said, requests] = [heard.length, health.requests];
      await sleep(400);
      t.equal(health.requests, requests, 'no request after cancel (the loop and its timer are gone)');
      await noAgentOnceFree(t, release, gate, handle);
      t.equal(heard.length, said, 'nothing heard after cancel');
    });
  }
});

t.test('gate full, app never ready: timed out at the start timeout, and no agent ever', async (t) => {
  const health = await app(t, 503);
  const { start, hold, heard, gate } = rig(t, health.port, 600);
  const release = hold();
  const began = performance.now();
  const handle = start();
  await until('the end', () => has(heard, 'end'));
  const after = performance.now() - began;
  t.match(heard.find((h) => h.kind === 'end'), { end: { phase: 'readiness', cause: 'timed-out', reason: /503/ } });
  t.ok(after >= 590, `not before the start timeout (${Math.round(after)}ms)`);
  t.equal(gate.running, 1, 'while the gate was still full');
  const requests = health.requests;
  await noAgentOnceFree(t, release, gate, handle);
  t.equal(health.requests, requests, 'and nothing checked after the end');
  t.notOk(has(heard, 'ready'));
});

t.test('supervisor: instances found ready while the first agent holds the gate; their agents come later, in liveness mode, recorded', async (t) => {
  // One agent boots at a time, and the first one takes 7s (past its 6s start-up allowance, which then ends its
  // turn): meanwhile the other instances' agents wait, and the supervisor checks their apps itself. Not 2s and 3s:
  // the other apps must be found ready within the allowance, and a loaded machine took longer to start them.
  const dir = tempDir(t);
  const sick = join(dir, 'sick');
  mkdirSync(sick);
  const slowFirst = join(dir, 'agent.sh');
  writeFileSync(slowFirst, `#!/bin/sh\nif mkdir ${join(dir, 'first')} 2>/dev/null; then sleep 7; fi\nexec ${process.execPath} ${AGENT} "$@"\n`, { mode: 0o755 });
  // An agent for an instance is one whose checks go to the instance's address (before exec: the script; after: node).
  const agentsOf = (address: string) => [...agentChildren(slowFirst), ...agentChildren(AGENT)].filter((pid) => argv(pid).some((arg) => arg.includes(address)));
  const atHealthy = new Map<string, number[]>();
  const h = await supervise(t, [appSpec('sidecar', { instances: 3, env: { SICK_DIR: sick } })], { agentStartConcurrency: 1, agentStartupAllowanceMs: 6000 }, (supervisor) =>
    supervisor.on('transition', (tr) => {
      const address = supervisor.status().apps[0]?.instances.find((i) => i.id === tr.instance)?.address;
      if (tr.to === 'healthy' && address) atHealthy.set(tr.instance, agentsOf(address));
    }),
    undefined,
    { agentPath: slowFirst },
  );
  for (const name of ['web-2', 'web-3']) {
    await h.until(to('healthy', name));
    t.same(atHealthy.get(name), [], `${name} became healthy before any agent for it existed`);
  }
  await h.until(to('healthy', 'web-1'));
  await until('every agent recorded', () => ['web-1', 'web-2', 'web-3'].every((name) => agentPid(h.stateDir, name) !== undefined));
  const mode = (name: string) => argv(agentPid(h.stateDir, name) ?? 0).find((arg) => arg.startsWith('--mode='));
  t.equal(mode('web-1'), '--mode=lifecycle', 'web-1 had its turn at once: a lifecycle agent');
  t.equal(mode('web-2'), '--mode=liveness', 'web-2 was ready before its turn: a liveness agent');
  t.equal(mode('web-3'), '--mode=liveness');

  const agent = agentPid(h.stateDir, 'web-2') ?? 0;
  await new Promise<void>((resolve) => h.supervisor.on('check', (c) => c.instance === 'web-2' && c.phase === 'liveness' && resolve()));
  writeFileSync(join(sick, 'web-2'), '');
  const unhealthy = await h.until(to('unhealthy', 'web-2'));
  t.match(unhealthy, { cause: 'unhealthy', reason: /500/ }, "the liveness agent's verdict ends the instance");
  await until('its agent gone', () => !isRunning(agent), 3000);
});
