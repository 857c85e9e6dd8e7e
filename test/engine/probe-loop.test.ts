// The probe loop's timing rules on a fake clock: ticks without drift, dropped ticks, the startup deadline,
// thresholds as counters, cancellation. No socket, no real time.
import t from 'tap';
import { CancelScope } from '../../src/checks/cancel.js';
import { lifeguardError } from '../../src/checks/errors.js';
import type { CheckResult, CheckSpec } from '../../src/checks/types.js';
import { runLifecycle } from '../../src/engine/lifecycle.js';
import { runLoop } from '../../src/engine/probe-loop.js';
import type { LoopOptions, Round, RunRound } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { promisedRound } from '../helpers/promised-round.js';

const check = (port: number): CheckSpec => ({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 });
const refused = (port: number) => lifeguardError('tcp-failed', { host: '127.0.0.1', port, reason: 'connect: connection refused' });

function options(mode: LoopOptions['mode'], more: Partial<LoopOptions> = {}): LoopOptions {
  return { mode, intervalMs: 100, startupTimeoutMs: 0, initialDelayMs: 0, failureThreshold: 1, ...more };
}

/** A round whose checks take `takesMs` of fake time, and pass as `verdict(port, call)` says; it records when each began. */
function scripted(clock: FakeClock, verdict: (port: number, call: number) => boolean, takesMs = 0) {
  const starts: number[] = [];
  let calls = 0;
  const round = promisedRound(async (checks, scope) => {
    starts.push(clock.now());
    const call = ++calls;
    await Promise.race([clock.sleep(takesMs), new Promise((resolve) => scope.signal.addEventListener('abort', resolve, { once: true }))]);
    return checks.map((c): CheckResult => (verdict(c.port, call) ? { passed: true, latencyMs: takesMs } : { passed: false, latencyMs: takesMs, error: refused(c.port) }));
  });
  return { round, starts };
}

t.test('rounds fall on ticks from the first: a round taking 60ms of a 100ms interval does not push the next back', async (t) => {
  const clock = new FakeClock();
  const { round, starts } = scripted(clock, () => true, 60);
  const controller = new AbortController();
  const done = runLoop(options('liveness'), [check(1)], round, { clock, signal: controller.signal });
  await clock.advance(1000);
  controller.abort();
  const outcome = await done;
  t.same(starts, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  t.equal(outcome.end, 'cancelled');
});

t.test('a round longer than the interval is followed at once, never overlapped; the ticks it missed are dropped', async (t) => {
  const clock = new FakeClock();
  const { round, starts } = scripted(clock, () => true, 250);
  const controller = new AbortController();
  const rounds: Round[] = [];
  const done = runLoop(options('liveness'), [check(1)], round, { clock, signal: controller.signal, onRound: (r) => rounds.push(r) });
  await clock.advance(760);
  controller.abort();
  await done;
  t.same(starts, [0, 250, 500, 750], 'back to back, one at a time');
  t.same(rounds.map((r) => r.lateMs), [0, 50, 0], 'each round says how far behind its tick it started');
  t.same(rounds.map((r) => r.latencyMs), [250, 250, 250], 'latency is the round alone, not the time since the start');
});

t.test('readiness: each check runs until it has passed once, then no more', async (t) => {
  const clock = new FakeClock();
  const seen: number[][] = [];
  const round = promisedRound(async (checks) => {
    seen.push(checks.map((c) => c.port));
    return checks.map((c): CheckResult => (c.port === 1 || seen.length >= 3 ? { passed: true, latencyMs: 1 } : { passed: false, latencyMs: 1, error: refused(c.port) }));
  });
  const done = runLoop(options('readiness'), [check(1), check(2)], round, { clock });
  await clock.advance(500);
  const outcome = await done;
  t.same(seen, [[1, 2], [2], [2]]);
  t.match(outcome, { end: 'passed', passed: true, exitCode: 0, attempts: 3 });
});

t.test('readiness: the success threshold asks for that many passes in a row', async (t) => {
  const clock = new FakeClock();
  // pass, fail, pass, pass: the second run of passes is the first to reach 2 in a row.
  const { round, starts } = scripted(clock, (_port, call) => call !== 2);
  const done = runLoop(options('readiness', { successThreshold: 2 }), [check(1)], round, { clock });
  await clock.advance(1000);
  t.match(await done, { end: 'passed', attempts: 4 });
  t.same(starts, [0, 100, 200, 300]);
});

t.test('readiness: the startup deadline counts from the start, initial delay included, and reports the last failure', async (t) => {
  const clock = new FakeClock();
  const { round, starts } = scripted(clock, () => false, 10);
  const done = runLoop(options('readiness', { startupTimeoutMs: 450, initialDelayMs: 200 }), [check(7)], round, { clock });
  await clock.advance(1000);
  const outcome = await done;
  t.same(starts, [200, 300, 400]);
  t.match(outcome, { end: 'timed-out', timedOut: true, exitCode: 4, attempts: 3, elapsedMs: 450 });
  t.equal(outcome.failure?.message, refused(7).message);
});

t.test('readiness: a deadline that comes before any attempt finished reports the timeout of the check in flight', async (t) => {
  const clock = new FakeClock();
  const { round } = scripted(clock, () => true, 5000);
  const done = runLoop(options('readiness', { startupTimeoutMs: 300 }), [check(9)], round, { clock });
  await clock.advance(400);
  const outcome = await done;
  t.match(outcome, { end: 'timed-out', exitCode: 64, attempts: 0 });
  t.equal(outcome.failure?.message, 'failed to make TCP connection to 127.0.0.1:9: timed out after 0.30 seconds');
});

t.test('the failure and its check\'s report read one clock: the same time waited, even when the clock moves between reads', async (t) => {
  const fake = new FakeClock();
  // Every reading 10 ms after the last, as a loaded machine may make them; 0.30 and 0.31 seconds apart in words.
  let reads = 0;
  const clock = { now: () => fake.now() + 10 * reads++, unixMs: () => fake.unixMs(), setTimeout: fake.setTimeout.bind(fake), clearTimeout: fake.clearTimeout.bind(fake) };
  const { round } = scripted(fake, () => true, 5000);
  const done = runLoop(options('readiness', { startupTimeoutMs: 300 }), [check(9)], round, { clock });
  await fake.advance(400);
  const outcome = await done;
  t.match(outcome, { end: 'timed-out', attempts: 0 });
  t.match(outcome.failure?.message, /^failed to make TCP connection to 127\.0\.0\.1:9: timed out after 0\.\d\d seconds$/);
  t.same(outcome.checks[0]?.lastError, outcome.failure, 'the report says what the failure says');
});

t.test('liveness: ends at the failure threshold, counted per check and reset by a pass', async (t) => {
  const clock = new FakeClock();
  // Port 1 fails on calls 2, 3 (reset by 4's pass), then 5, 6, 7; port 2 always passes.
  const { round } = scripted(clock, (port, call) => port === 2 || ![2, 3, 5, 6, 7].includes(call));
  const done = runLoop(options('liveness', { failureThreshold: 3 }), [check(1), check(2)], round, { clock });
  await clock.advance(2000);
  const outcome = await done;
  t.match(outcome, { end: 'failed', exitCode: 4, attempts: 7 });
  t.same(outcome.checks.map((c) => c.passed), [false, true]);
});

t.test('lifecycle: readiness, a ready signal, then liveness with fresh counters in the same loop', async (t) => {
  const clock = new FakeClock();
  const events: string[] = [];
  const { round } = scripted(clock, (port, call) => (port === 1 ? call >= 2 : call < 5));
  const readiness = { options: options('readiness', { intervalMs: 50, startupTimeoutMs: 1000 }), checks: [check(1)] };
  const liveness = { options: options('liveness', { intervalMs: 200, initialDelayMs: 200 }), checks: [check(2)] };
  const done = runLifecycle(readiness, liveness, round, { clock, onReady: (ms) => events.push(`ready at ${ms}`), onRound: (r) => events.push(`round ${r.attempt} ${r.passed}`) });
  await clock.advance(2000);
  const outcome = await done;
  t.same(events, ['round 1 false', 'round 2 true', 'ready at 50', 'round 1 true', 'round 2 true', 'round 3 false']);
  t.match(outcome, { mode: 'liveness', end: 'failed', attempts: 5 });
});

t.test('cancel: everything in flight stops at once and no timer is left', async (t) => {
  const clock = new FakeClock();
  const { round } = scripted(clock, () => false, 5000);
  const controller = new AbortController();
  const done = runLoop(options('readiness', { startupTimeoutMs: 10_000 }), [check(1)], round, { clock, signal: controller.signal });
  await clock.advance(100);
  controller.abort();
  t.match(await done, { end: 'cancelled', passed: false, timedOut: false, attempts: 0 });
  t.equal(clock.timers, 1, 'only the aborted round\'s own sleep is left, and it is harmless');
});

t.test('cancel through a CancelScope: the loop ends at once even while its round never settles, and cancels the round', async (t) => {
  const clock = new FakeClock();
  let roundScope: CancelScope | undefined;
  // A round that ignores cancellation: only the loop's own stop can end the run.
  const round: RunRound = (_checks, scope) => {
    roundScope = scope;
  };
  const scope = new CancelScope();
  const done = runLoop(options('liveness'), [check(1)], round, { clock, signal: scope });
  await clock.advance(0);
  t.equal(roundScope?.cancelled, false, 'a round in flight');
  scope.cancel();
  t.match(await done, { end: 'cancelled', attempts: 0 });
  t.equal(roundScope?.cancelled, true, 'the round in flight was cancelled');
  t.equal(clock.timers, 0, 'no timer left');
  const never = runLoop(options('liveness'), [check(1)], round, { clock, signal: scope });
  t.match(await never, { end: 'cancelled', attempts: 0 }, 'a cancelled scope starts nothing');
  t.equal(clock.timers, 0);
});

t.test('routing: never ends, tells each round its verdict, and moves it only at a threshold', async (t) => {
  const clock = new FakeClock();
  // Rounds 1-2 pass, 3 fails, 4 passes, 5-6 fail, 7 passes, 8-9 pass.
  const failing = new Set([3, 5, 6]);
  const { round } = scripted(clock, (_port, call) => !failing.has(call));
  const verdicts: (boolean | undefined)[] = [];
  const controller = new AbortController();
  const done = runLoop(options('routing', { failureThreshold: 2, successThreshold: 2 }), [check(1)], round, {
    clock,
    signal: controller.signal,
    onVerdict: (verdict) => verdicts.push(verdict.passed),
  });
  await clock.advance(850);
  controller.abort();
  const outcome = await done;
  // No verdict after round 1 (one pass of two); a pass at 2; one failure is not two (3, 4 stay passed); a failure
  // at 6; one pass is not two (7); a pass again at 8.
  t.same(verdicts, [true, true, true, true, false, false, true, true]);
  t.equal(outcome.end, 'cancelled', 'only its caller ends it');
  t.equal(outcome.attempts, 9);
});

t.test('routing: a failing verdict carries the failing checks for its reason; a failure at the threshold wins over other passes', async (t) => {
  const clock = new FakeClock();
  const { round } = scripted(clock, (port) => port === 1);
  const controller = new AbortController();
  const seen: { passed: boolean; failing: string[] }[] = [];
  const done = runLoop(options('routing'), [check(1), check(2)], round, {
    clock,
    signal: controller.signal,
    onVerdict: (v) => seen.push({ passed: v.passed, failing: v.checks.filter((c) => !c.passed).map((c) => c.lastError?.message ?? '') }),
  });
  await clock.advance(150);
  controller.abort();
  await done;
  t.same(seen, [0, 1].map(() => ({ passed: false, failing: [refused(2).message] })));
});

// The CF dialect's ticks begin at the process's start (ticksFromMsAgo: how long before the loop that was): its first
// round runs at once, later ones fall due on ticks from that start, as the Go binary's ticker started with it.
t.test('ticks from before the loop: later rounds fall due on them; the first still runs at once', async (t) => {
  const clock = new FakeClock();
  const { round, starts } = scripted(clock, () => false, 10);
  const rounds: Round[] = [];
  const done = runLoop(options('readiness', { intervalMs: 1000, startupTimeoutMs: 2500, ticksFromMsAgo: 120 }), [check(7)], round, { clock, onRound: (r) => rounds.push(r) });
  await clock.advance(3000);
  const outcome = await done;
  t.same(starts, [0, 880, 1880], 'second round 1000 ms after the ticks\' origin, not after the first round');
  t.same(rounds.map((r) => r.lateMs), [120, 0, 0], 'the first round is as late as the loop began after the origin');
  t.match(outcome, { end: 'timed-out', attempts: 3, elapsedMs: 2500 }, 'the startup timeout still counts from the loop\'s start');
});

for (const mode of ['liveness', 'until-ready'] as const) {
  t.test(`ticks from before the loop, ${mode}: the same rounds`, async (t) => {
    const clock = new FakeClock();
    const { round, starts } = scripted(clock, () => mode === 'liveness', 10);
    const controller = new AbortController();
    const done = runLoop(options(mode, { intervalMs: 1000, ticksFromMsAgo: 120 }), [check(7)], round, { clock, signal: controller.signal });
    await clock.advance(2500);
    controller.abort();
    await done;
    t.same(starts, [0, 880, 1880]);
  });
}

t.test('ticks from further back than the interval: the ticks before the first round are not made up for', async (t) => {
  const clock = new FakeClock();
  const { round, starts } = scripted(clock, () => false, 0);
  const controller = new AbortController();
  const done = runLoop(options('until-ready', { intervalMs: 10, ticksFromMsAgo: 35 }), [check(7)], round, { clock, signal: controller.signal });
  await clock.advance(30);
  controller.abort();
  await done;
  t.same(starts, [0, 5, 15, 25], 'the first round on tick 3 (30 from the origin), 5 late; then tick 4, at 40');
});
