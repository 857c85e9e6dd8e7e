import { Writable } from 'node:stream';
import t from 'tap';
import { jsonLine, textLine, TransitionLog } from '../../src/supervisor/serve/transition-log.js';
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
