// The one deadline helper: it ends once — by finish(), expiry or the caller's cancellation, whichever is first —
// owns its timer (none left behind), aborts its signal on expiry or cancellation, and a watchdog's restart() moves it.
import t from 'tap';
import { Deadline, settlesWithin } from '../../src/checks/deadline.js';
import { FakeClock } from '../helpers/fake-clock.js';

t.test('expires at its time, once, and aborts its signal', async (t) => {
  const clock = new FakeClock();
  const ends: string[] = [];
  const deadline = new Deadline(100, (why) => ends.push(why), { clock });
  const { signal } = deadline;
  await clock.advance(99);
  t.same(ends, [], 'not before its time');
  t.notOk(signal.aborted);
  await clock.advance(1);
  t.same(ends, ['expired']);
  t.ok(signal.aborted, 'the work is told to stop');
  t.equal(deadline.outcome, 'expired');
  t.notOk(deadline.finish(), 'finishing after expiry does nothing');
  await clock.advance(1000);
  t.same(ends, ['expired'], 'told once');
  t.equal(clock.timers, 0, 'no timer left behind');
});

t.test('finished in time: never told, timer gone, signal untouched', async (t) => {
  const clock = new FakeClock();
  const ends: string[] = [];
  const deadline = new Deadline(100, (why) => ends.push(why), { clock });
  await clock.advance(50);
  t.ok(deadline.finish(), 'this call finished it');
  t.notOk(deadline.finish(), 'a second finish is a no-op');
  t.equal(clock.timers, 0);
  await clock.advance(1000);
  t.same(ends, []);
  t.notOk(deadline.signal.aborted);
  t.equal(deadline.outcome, 'finished');
});

t.test("the caller's cancellation ends it as cancelled, already aborted or later", async (t) => {
  const clock = new FakeClock();
  const ends: string[] = [];
  const abort = new AbortController();
  const deadline = new Deadline(100, (why) => ends.push(`later:${why}`), { clock, cancel: abort.signal });
  await clock.advance(10);
  abort.abort();
  t.same(ends, ['later:cancelled']);
  t.ok(deadline.signal.aborted);
  t.equal(clock.timers, 0);
  new Deadline(100, (why) => ends.push(`before:${why}`), { clock, cancel: abort.signal });
  await clock.advance(0);
  t.same(ends, ['later:cancelled', 'before:cancelled']);
  await clock.advance(1000);
  t.equal(ends.length, 2, 'no expiry after a cancellation');
});

t.test('restart() counts again from now; not after the end', async (t) => {
  const clock = new FakeClock();
  const ends: number[] = [];
  const deadline = new Deadline(100, () => ends.push(clock.now()), { clock });
  await clock.advance(80);
  deadline.restart(100);
  await clock.advance(99);
  t.same(ends, [], 'fed in time, not expired');
  await clock.advance(1);
  t.same(ends, [180]);
  deadline.restart(100);
  await clock.advance(500);
  t.same(ends, [180], 'an ended deadline is not restarted');
});

t.test('settlesWithin: true when the work settles in time (rejected too), false at the deadline', async (t) => {
  const clock = new FakeClock();
  const late = settlesWithin(new Promise(() => {}), 100, clock);
  const rejected = settlesWithin(Promise.reject(new Error('no')), 100, clock);
  await clock.advance(100);
  t.equal(await late, false);
  t.equal(await rejected, true);
  t.equal(clock.timers, 0);
});
