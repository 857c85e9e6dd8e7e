// The supervisor's clock under native probing: a liveness probe's first round may wait (start-phase spreading),
// and every round says how far behind its tick it started.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { NativeProbe } from '../../src/supervisor/probes/native.js';

const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }) };

t.test('firstRoundMs holds the first liveness round back; every round reports its lateness', async (t) => {
  const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const probe = new NativeProbe();
  const late: (number | undefined)[] = [];
  const handle = probe.liveness(target, { checks: [{ kind: 'tcp', port, timeoutMs: 500 }], intervalMs: 50, failureThreshold: 1, firstRoundMs: 400 }, { round: (_p, _l, lateMs) => late.push(lateMs), end: () => {} });
  t.teardown(() => handle.cancel());
  await sleep(100);
  t.same(late, [], 'no round before firstRoundMs');
  for (let i = 0; i < 100 && late.length < 2; i++) await sleep(20);
  t.ok(late.length >= 2, 'rounds follow once the first is due');
  t.ok(late.every((ms) => typeof ms === 'number' && ms >= 0), 'each round carries its lateness');
});
