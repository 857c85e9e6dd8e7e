import { Writable } from 'node:stream';
import t from 'tap';
import { jsonLine, MAX_UNREAD_BYTES, textLine, TransitionLog } from '../../src/supervisor/serve/transition-log.js';
import type { Transition } from '../../src/shared/transition.js';

const unhealthy: Transition = {
  time: '2025-01-02T03:04:05.678Z',
  level: 'warn',
  app: 'web',
  instance: 'web-3',
  from: 'healthy',
  to: 'unhealthy',
  msg: 'Container became unhealthy',
  reason: "failed to make HTTP request to '/health' on 10.0.0.5:8080: received status code 500 in 3ms",
};

t.test('JSON lines: the fields of the log in a fixed order, reason only when there is one', async (t) => {
  const line = jsonLine(unhealthy);
  t.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line');
  t.same(Object.keys(JSON.parse(line)), ['time', 'level', 'app', 'instance', 'from', 'to', 'msg', 'reason']);
  const { reason: _, ...scheduled } = { ...unhealthy, from: null, to: 'scheduled', level: 'info', msg: 'Backfilling' } as const;
  t.same(JSON.parse(jsonLine(scheduled)), { ...scheduled, from: null });
});

t.test('text: one readable line', async (t) => {
  t.equal(textLine(unhealthy), `2025-01-02T03:04:05.678Z WARN  web-3 healthy -> unhealthy: Container became unhealthy (${unhealthy.reason})\n`);
  t.equal(textLine({ ...unhealthy, from: null, to: 'scheduled', level: 'info', msg: 'Backfilling', reason: undefined }), '2025-01-02T03:04:05.678Z INFO  web-3 - -> scheduled: Backfilling\n');
});

t.test('one write() per transition', async (t) => {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  const log = new TransitionLog(stream, 'text');
  [unhealthy, unhealthy].forEach(log.write);
  t.equal(writes.length, 2);
});

// A reader that stopped but keeps the pipe open: the stream would queue every line in memory for ever.
t.test('past MAX_UNREAD_BYTES unread, lines are dropped and counted; the count is told once the reader catches up', async (t) => {
  const pending: (() => void)[] = [];
  let written = 0;
  const stream = new Writable({
    write(_chunk: Buffer, _encoding, done) {
      written += 1;
      pending.push(done);
    },
  });
  const told: number[] = [];
  const log = new TransitionLog(stream, 'json', (lines) => told.push(lines));
  const line = jsonLine(unhealthy).length;
  const fit = Math.ceil(MAX_UNREAD_BYTES / line);
  for (let i = 0; i < fit + 50; i++) log.write(unhealthy);
  t.equal(stream.writableLength, fit * line, 'queued up to the bound, no further');
  t.same(told, [], 'nothing told while the reader is away');
  // The reader comes back and takes everything queued.
  while (pending.length > 0) (pending.shift() as () => void)();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(told, [50], 'the dropped lines counted, told once');
  log.write(unhealthy);
  t.equal(written, fit + 1, 'writing again');
  while (pending.length > 0) (pending.shift() as () => void)();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(told, [50], 'not told again');
});
