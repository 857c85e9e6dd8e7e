// The coarse clock native probing runs on: timers due within one quantum fire together, never before they are due.
import t from 'tap';
import { coarseClock } from '../../src/checks/clock.js';

t.test('timers due in one quantum fire in one turn, none early; a cleared one never', async (t) => {
  const clock = coarseClock(50);
  const start = clock.now();
  const fired: { id: number; at: number; turn: number }[] = [];
  let turn = 0;
  const ticker = setInterval(() => turn++, 1);
  const due = [3, 7, 11, 19];
  for (const [id, ms] of due.entries()) clock.setTimeout(() => fired.push({ id, at: clock.now() - start, turn }), ms);
  const cleared = clock.setTimeout(() => fired.push({ id: 99, at: 0, turn }), 5);
  clock.clearTimeout(cleared);
  await new Promise((resolve) => setTimeout(resolve, 200));
  clearInterval(ticker);
  t.same(fired.map((f) => f.id).sort(), [0, 1, 2, 3], 'every timer fired once, the cleared one not at all');
  t.ok(fired.every((f, i) => f.at >= (due[f.id] ?? 0) - 1 && i >= 0), 'none before it was due');
  t.equal(new Set(fired.map((f) => f.turn)).size <= 2, true, 'together, in at most the two slots the four straddle');
});
