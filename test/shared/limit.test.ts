// Limit: never more than its bound in flight, and the waiting run in arrival order.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Limit } from '../../src/shared/limit.js';

t.test('at most max in flight; the rest run in arrival order', async (t) => {
  const limit = new Limit(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      limit.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await sleep(5);
        active--;
      }),
    ),
  );
  t.equal(peak, 2);
  t.same(order, [0, 1, 2, 3, 4, 5, 6]);
});

t.test('a failing job frees its slot', async (t) => {
  const limit = new Limit(1);
  await t.rejects(limit.run(async () => Promise.reject(new Error('boom'))));
  t.equal(await limit.run(async () => 42), 42);
});

t.test('with a slot free, work starts within run(); with none, it waits', async (t) => {
  const limit = new Limit(1);
  let release = (): void => {};
  let first = false;
  const running = limit.run(() => ((first = true), new Promise<void>((resolve) => (release = resolve))));
  t.ok(first, 'started before run() returned');
  let second = false;
  const waiting = limit.run(async () => void (second = true));
  t.notOk(second, 'queued behind the first');
  release();
  await Promise.all([running, waiting]);
  t.ok(second);
});

t.test('enter/leave: begins at once with a slot free; beyond the bound, each leave begins the next in arrival order', async (t) => {
  const limit = new Limit(2);
  const begun: number[] = [];
  for (let i = 0; i < 5; i++) limit.enter(() => begun.push(i));
  t.same(begun, [0, 1], 'two begun before enter() returned');
  t.equal(limit.queued, 3);
  limit.leave();
  t.same(begun, [0, 1, 2], 'a leave passes its slot to the first in line');
  limit.leave();
  limit.leave();
  t.same(begun, [0, 1, 2, 3, 4]);
  t.equal(limit.running, 2, 'the slots passed on are held');
  limit.leave();
  limit.leave();
  t.equal(limit.running, 0);
});
