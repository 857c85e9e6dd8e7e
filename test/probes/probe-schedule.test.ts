// The supervisor's own clock under native probing, on a fake clock: readiness rounds after the first at a random
// phase, the first liveness round at a random moment of its interval (start-phase spreading), and every round
// saying how far behind its tick it started.
import t from 'tap';
import type { CheckResult } from '../../src/checks/types.js';
import { LoopProbe } from '../../src/probes/loop-probe.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { promisedRound } from '../helpers/promised-round.js';

const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }) };
const check = { kind: 'tcp', port: 1, timeoutMs: 500 } as const;

t.test('readiness spreads its later rounds, liveness its first; every round reports its lateness', async (t) => {
  const clock = new FakeClock();
  const starts: number[] = [];
  let calls = 0;
  const probe = new LoopProbe(
    promisedRound(async (checks) => {
      starts.push(clock.now());
      calls++;
      return checks.map((): CheckResult => (calls >= 3 ? { passed: true, latencyMs: 1 } : { passed: false, latencyMs: 1, error: { code: 'tcp-failed', exitCode: 4, message: 'refused' } }));
    }),
    clock,
    () => 0.25,
  );
  const late: (number | undefined)[] = [];
  const events: string[] = [];
  const handle = probe.lifecycle(
    target,
    { readiness: { checks: [check], intervalMs: 100, startupTimeoutMs: 0 }, liveness: { checks: [check], intervalMs: 1000, failureThreshold: 1 } },
    { round: (phase, _passed, _latency, lateMs) => (events.push(phase), late.push(lateMs)), ready: () => events.push(`ready at ${clock.now()}`), end: () => events.push('end') },
  );
  t.teardown(() => handle.cancel());
  await clock.advance(2000);
  // Readiness: at once, then ticks shifted 25ms earlier (75, 175); liveness 250ms (a quarter of 1s) after ready.
  t.same(starts, [0, 75, 175, 425, 1425]);
  t.same(events, ['readiness', 'readiness', 'readiness', 'ready at 175', 'liveness', 'liveness']);
  t.ok(late.every((ms) => ms === 0), 'on an idle clock no round is late');
});

t.test('native readiness counts a check passed only after successThreshold passes in a row', async (t) => {
  const clock = new FakeClock();
  const verdicts = [true, false, true, true];
  let calls = 0;
  const probe = new LoopProbe(
    promisedRound(async (checks) => {
      const passed = verdicts[calls++] ?? true;
      return checks.map((): CheckResult => (passed ? { passed: true, latencyMs: 1 } : { passed: false, latencyMs: 1, error: { code: 'tcp-failed', exitCode: 4, message: 'refused' } }));
    }),
    clock,
    () => 0,
  );
  let readyAfter = 0;
  const handle = probe.lifecycle(
    target,
    { readiness: { checks: [check], intervalMs: 100, startupTimeoutMs: 0, successThreshold: 2 }, liveness: { checks: [check], intervalMs: 10_000, failureThreshold: 1 } },
    { round: () => {}, ready: () => (readyAfter = calls), end: () => {} },
  );
  t.teardown(() => handle.cancel());
  await clock.advance(1000);
  t.equal(readyAfter, 4, 'pass, fail (the count starts again), pass, pass: ready');
});
