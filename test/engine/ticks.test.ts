import t from 'tap';
import { TickClock } from '../../src/engine/ticks.js';

t.test('rounds fall on ticks from the origin, whatever each round took', async (t) => {
  const clock = new TickClock(1000, 100);
  t.equal(clock.delayToNextRound(1030), 70, 'round 0 took 30ms: wait for tick 1');
  t.equal(clock.delayToNextRound(1195), 5, 'round 1 took 95ms: tick 2 is still due at 1200');
  t.equal(clock.delayToNextRound(1201), 99);
});

t.test('a round longer than the interval is followed at once, then the grid resumes, missed ticks dropped', async (t) => {
  const clock = new TickClock(0, 100);
  t.equal(clock.delayToNextRound(350), 0, 'round 0 ended at 350: ticks 1 to 3 are late, run now');
  t.equal(clock.delayToNextRound(360), 40, 'that round counts for tick 3; the next is tick 4 at 400');
  t.equal(clock.delayToNextRound(520), 0, 'late again');
  t.equal(clock.delayToNextRound(530), 70, 'back to tick 6 at 600');
});

t.test('an interval of 0 runs rounds back to back', async (t) => {
  t.equal(new TickClock(0, 0).delayToNextRound(5), 0);
});
