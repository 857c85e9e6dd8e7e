import { execFile } from 'node:child_process';
import t from 'tap';
import { runAgent } from '../../src/agent/run-agent.js';
import { checkCancelled } from '../../src/checks/reason.js';
import type { AgentOptions } from '../../src/engine/types.js';
import type { CheckSpec, HttpCheckSpec, TcpCheckSpec } from '../../src/checks/types.js';
import { closedPort, httpServer, tcpServer, type Teardown } from '../checks/fixtures.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { Round } from '../../src/engine/types.js';

const tcp = (port: number, timeoutMs = 1000): TcpCheckSpec => ({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs });
const http = (port: number, path = '/', timeoutMs = 1000): HttpCheckSpec => ({
  kind: 'http',
  host: '127.0.0.1',
  port,
  path,
  timeoutMs,
  expectStatus: [{ min: 200, max: 200 }],
  headers: [],
  followRedirects: false,
});

function options(mode: AgentOptions['mode'], checks: CheckSpec[], more: Partial<AgentOptions> = {}): AgentOptions {
  return { mode, checks, intervalMs: 50, startupTimeoutMs: 0, initialDelayMs: 0, failureThreshold: 1, ...more };
}

/** An HTTP server answering each request with the status `statusFor(hit)` gives (hits count from 1), after `delayMs`. */
async function scripted(t: Teardown, statusFor: (hit: number) => number, delayMs = 0) {
  const state = { hits: 0, inFlight: 0, maxInFlight: 0, times: [] as number[] };
  const timers = new Set<NodeJS.Timeout>();
  t.teardown(() => timers.forEach(clearTimeout));
  const port = await httpServer(t, (_req, res) => {
    state.hits += 1;
    state.times.push(performance.now());
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const status = statusFor(state.hits);
    const answer = () => {
      state.inFlight -= 1;
      res.statusCode = status;
      res.end();
    };
    if (delayMs === 0) return answer();
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer();
    }, delayMs);
    timers.add(timer);
  });
  return { port, state };
}

t.test('once: exit 0 when every check passes', async (t) => {
  const a = await tcpServer(t, () => {});
  const b = await scripted(t, () => 200);
  const outcome = await runAgent(options('once', [tcp(a), http(b.port)]));
  t.match(outcome, { mode: 'once', passed: true, exitCode: 0, attempts: 1, timedOut: false });
  t.equal(outcome.failure, undefined);
  t.same(outcome.checks.map((c) => [c.target, c.passed]), [[`tcp://127.0.0.1:${a}`, true], [`http://127.0.0.1:${b.port}/`, true]]);
});

t.test('once: the first failing check, in order, decides the code; checks run side by side', async (t) => {
  const ok = await tcpServer(t, () => {});
  const refused = await closedPort();
  const slow = await scripted(t, () => 503, 300);
  const started = performance.now();
  const outcome = await runAgent(options('once', [tcp(ok), http(slow.port), tcp(refused)]));
  t.match(outcome, { passed: false, exitCode: 6, attempts: 1 });
  t.equal(outcome.failure?.code, 'http-status');
  t.same(outcome.checks.map((c) => c.passed), [true, false, false]);
  t.ok(performance.now() - started < 1000);
});

t.test('readiness: exit 0 once the check passes, retrying every interval', async (t) => {
  const app = await scripted(t, (hit) => (hit < 3 ? 503 : 200));
  const rounds: number[] = [];
  const outcome = await runAgent(options('readiness', [http(app.port)], { startupTimeoutMs: 10_000 }), {
    onRound: (round) => rounds.push(round.attempt),
  });
  t.match(outcome, { passed: true, exitCode: 0, attempts: 3, timedOut: false });
  t.same(rounds, [1, 2, 3], 'onRound after every round');
  t.equal(app.state.hits, 3);
});

t.test('readiness waits for every check; a check that passed is not run again', async (t) => {
  const early = await scripted(t, () => 200);
  const late = await scripted(t, (hit) => (hit < 4 ? 503 : 200));
  const outcome = await runAgent(options('readiness', [http(early.port), http(late.port)], { startupTimeoutMs: 10_000 }));
  t.match(outcome, { passed: true, attempts: 4 });
  t.equal(early.state.hits, 1);
  t.equal(late.state.hits, 4);
});

t.test('readiness startup timeout: the last failure code, every never-passed check reported', async (t) => {
  const ok = await tcpServer(t, () => {});
  const refused = await closedPort();
  const started = performance.now();
  const outcome = await runAgent(options('readiness', [tcp(ok), tcp(refused)], { startupTimeoutMs: 300 }));
  const elapsed = performance.now() - started;
  t.match(outcome, { passed: false, exitCode: 4, timedOut: true });
  t.ok(outcome.attempts >= 2, `${outcome.attempts} attempts`);
  t.ok(elapsed >= 290 && elapsed < 800, `ended after ${elapsed}ms`);
  t.equal(outcome.failure?.code, 'tcp-failed');
  t.same(outcome.checks.map((c) => [c.passed, c.lastError?.code]), [[true, undefined], [false, 'tcp-failed']]);
});

t.test('readiness startup timeout during the first attempt: the timeout code of its kind, 0 attempts', async (t) => {
  const mute = await tcpServer(t, () => {});
  const started = performance.now();
  const outcome = await runAgent(options('readiness', [http(mute, '/health', 5000)], { startupTimeoutMs: 300 }));
  const elapsed = performance.now() - started;
  t.match(outcome, { passed: false, exitCode: 65, timedOut: true, attempts: 0 });
  t.ok(elapsed < 800, `ended after ${elapsed}ms, cancelling the check in flight`);
  t.match(outcome.failure?.message, new RegExp(`^failed to make HTTP request to '/health' on 127.0.0.1:${mute}: timed out after 0\\.[23]\\d seconds$`));
  t.same(outcome.checks[0]?.lastError, outcome.failure);
});

t.test('readiness startup timeout during the initial delay', async (t) => {
  const outcome = await runAgent(options('readiness', [tcp(1)], { startupTimeoutMs: 100, initialDelayMs: 5000 }));
  t.match(outcome, { exitCode: 64, timedOut: true, attempts: 0 });
  t.ok(outcome.elapsedMs < 700);
});

t.test('until-ready: no overall timeout', async (t) => {
  const app = await scripted(t, (hit) => (hit < 6 ? 503 : 200));
  const outcome = await runAgent(options('until-ready', [http(app.port)], { startupTimeoutMs: 100 }));
  t.match(outcome, { passed: true, exitCode: 0, attempts: 6, timedOut: false });
});

t.test('liveness: exits with the code of the check that failed failureThreshold times in a row', async (t) => {
  // pass, fail, fail, pass, fail, fail, fail: the run in the middle is one short of the threshold.
  const pattern = [200, 500, 500, 200, 500, 500, 500];
  const app = await scripted(t, (hit) => pattern[hit - 1] ?? 200);
  const steady = await tcpServer(t, () => {});
  const outcome = await runAgent(options('liveness', [tcp(steady), http(app.port)], { failureThreshold: 3, intervalMs: 20 }));
  t.match(outcome, { mode: 'liveness', passed: false, exitCode: 6, attempts: 7 });
  t.same(outcome.checks.map((c) => c.passed), [true, false]);
});

t.test('liveness with several checks ends on the first to reach the threshold', async (t) => {
  const flaky = await scripted(t, (hit) => (hit % 2 === 0 ? 500 : 200));
  const refused = await closedPort();
  const app = await scripted(t, () => 200);
  const outcome = await runAgent(options('liveness', [http(flaky.port), http(app.port), tcp(refused)], { failureThreshold: 2, intervalMs: 20 }));
  t.match(outcome, { exitCode: 4, attempts: 2 });
});

t.test('liveness never exits 0 on its own; abort ends it at once', async (t) => {
  const app = await scripted(t, () => 200);
  const controller = new AbortController();
  let rounds = 0;
  const pending = runAgent(options('liveness', [http(app.port)], { intervalMs: 20 }), {
    signal: controller.signal,
    onRound: () => {
      rounds += 1;
      if (rounds === 5) controller.abort();
    },
  });
  const outcome = await pending;
  t.match(outcome, { passed: false, attempts: 5 });
  t.match(outcome, { end: 'cancelled', exitCode: checkCancelled().exitCode, failure: undefined });
});

t.test('initial delay before the first round', async (t) => {
  const app = await scripted(t, () => 200);
  const started = performance.now();
  const outcome = await runAgent(options('once', [http(app.port)], { initialDelayMs: 300 }));
  t.equal(outcome.passed, true);
  t.ok((app.state.times[0] ?? 0) - started >= 290, 'first hit after the delay');
});

t.test('rounds are ticks from the start: slow checks do not make them drift', async (t) => {
  // Each check takes 60ms of a 100ms interval; sleeping 100ms after each would give ~6 rounds a second, ticks ~10.
  const app = await scripted(t, () => 200, 60);
  const controller = new AbortController();
  const times: number[] = [];
  const pending = runAgent(options('liveness', [http(app.port)], { intervalMs: 100 }), {
    signal: controller.signal,
    onRound: (round) => times.push(round.elapsedMs),
  });
  setTimeout(() => controller.abort(), 1030);
  await pending;
  t.ok(times.length >= 9 && times.length <= 11, `${times.length} rounds in 1030ms`);
  const starts = app.state.times.map((time) => time - (app.state.times[0] ?? 0));
  const lastStart = starts[starts.length - 1] ?? 0;
  t.ok(Math.abs(lastStart - (starts.length - 1) * 100) < 60, `round ${starts.length - 1} started at ${lastStart}ms`);
});

t.test('a check slower than the interval is followed at once, never overlapped', async (t) => {
  const app = await scripted(t, () => 200, 150);
  const controller = new AbortController();
  const pending = runAgent(options('liveness', [http(app.port)], { intervalMs: 50 }), { signal: controller.signal });
  setTimeout(() => controller.abort(), 800);
  const outcome = await pending;
  t.equal(app.state.maxInFlight, 1, 'never two at once');
  t.ok(outcome.attempts >= 3, `${outcome.attempts} rounds back to back`);
  const gaps = app.state.times.slice(1).map((time, i) => time - (app.state.times[i] ?? 0));
  t.ok(gaps.every((gap) => gap < 300), `gaps ${gaps.map(Math.round).join(',')}ms`);
});

t.test('abort cancels the check in flight and leaves no handle behind', async (t) => {
  const mute = await tcpServer(t, () => {});
  const count = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'ConnectWrap' || r === 'Timeout').length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = count();
  const controller = new AbortController();
  const pending = runAgent(options('readiness', [http(mute, '/', 10_000)], { startupTimeoutMs: 60_000 }), { signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  controller.abort();
  const outcome = await pending;
  t.ok(performance.now() - started < 100);
  t.match(outcome, { passed: false, timedOut: false, attempts: 0 });
  t.match(outcome, { end: 'cancelled', exitCode: checkCancelled().exitCode, failure: undefined });
  // Both ends' handles are released in the loop's close phase, a turn or two later; wait for it, bounded.
  for (let i = 0; i < 100 && count() !== before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(count(), before, 'no socket or timer left');
});

t.test('an already aborted signal runs nothing', async (t) => {
  const app = await scripted(t, () => 200);
  const outcome = await runAgent(options('once', [http(app.port)]), { signal: AbortSignal.abort() });
  t.match(outcome, { end: 'cancelled', exitCode: checkCancelled().exitCode, failure: undefined });
  t.equal(app.state.hits, 0);
});

t.test('no suitable interface: exit 3 at once', { skip: process.getuid?.() === 0 ? false : 'needs root for unshare -n' }, async (t) => {
  const script = `import('./src/agent/run-agent.ts').then(async (m) => console.log(JSON.stringify(await m.runAgent({ mode: 'readiness', checks: [{ kind: 'tcp', port: 8080, timeoutMs: 100 }], intervalMs: 50, startupTimeoutMs: 0, initialDelayMs: 0, failureThreshold: 1 }))))`;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('unshare', ['-n', process.execPath, '--import', 'tsx', '-e', script], { timeout: 20_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  t.match(JSON.parse(stdout), {
    passed: false,
    exitCode: 3,
    attempts: 0,
    failure: { code: 'no-interface' },
    checks: [{ target: 'tcp://:8080', passed: false, lastError: { message: 'failure to find suitable interface' } }],
  });
});

// The CF dialect's agent counts from the process's start: its first round is as late as the process is old.
for (const fromProcessStart of [true, false]) {
  t.test(`fromProcessStart ${fromProcessStart}: the loop's origin is ${fromProcessStart ? "the process's start" : 'its first round'}`, async (t) => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let first: (round: Round) => void = () => {};
    const firstRound = new Promise<Round>((resolve) => (first = resolve));
    const done = runAgent(options('until-ready', [tcp(await closedPort())], { intervalMs: 1000, fromProcessStart }), {
      clock,
      signal: controller.signal,
      processUptimeMs: () => 300,
      onRound: (round) => first(round),
    });
    await clock.advance(0);
    const round = await firstRound; // a real refused connection, on the fake clock's time 0
    controller.abort();
    await done;
    t.equal(round.lateMs, fromProcessStart ? 300 : 0);
    t.equal(round.elapsedMs, 0, 'elapsed time still counts from the loop');
  });
}
