import t from 'tap';
import { backoffMs, decideRestart, restartDelay } from '../../src/shared/restart-policy.js';

const diego = { immediate: 3, backoffMinMs: 30_000, backoffMaxMs: 16 * 60_000, maxRestarts: 200, resetAfterMs: 5 * 60_000 };

t.test("Diego's numbers: three at once, then 30s doubling to 16m", async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 199].map((n) => restartDelay(diego, n)), [0, 0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 960_000, 960_000]);
  t.equal(restartDelay(diego, 10_000), 960_000, 'no overflow past the cap');
});

t.test('gives up after maxRestarts; the replacement inherits the count plus one', async (t) => {
  t.same(decideRestart(diego, 0, 0), { kind: 'restart', delayMs: 0, restarts: 1 });
  t.same(decideRestart(diego, 199, 0), { kind: 'restart', delayMs: 960_000, restarts: 200 });
  t.same(decideRestart(diego, 200, 0), { kind: 'give-up', restarts: 200 });
  t.same(decideRestart({ ...diego, maxRestarts: 0 }, 0, 0), { kind: 'give-up', restarts: 0 });
});

t.test('a healthy stretch of resetAfter forgives past crashes', async (t) => {
  t.same(decideRestart(diego, 150, 5 * 60_000), { kind: 'restart', delayMs: 0, restarts: 1 });
  t.same(decideRestart(diego, 4, 5 * 60_000 - 1), { kind: 'restart', delayMs: 60_000, restarts: 5 });
  t.same(decideRestart(diego, 200, 10 * 60_000), { kind: 'restart', delayMs: 0, restarts: 1 }, 'even a count at the limit');
});

t.test('backoffMs, the one exponential backoff (restarts, watch reconnections): min doubling, capped, no overflow', async (t) => {
  t.same([0, 1, 2, 3, 4].map((n) => backoffMs(100, 1000, n)), [100, 200, 400, 800, 1000]);
  t.equal(backoffMs(100, 1000, 5000), 1000);
});
