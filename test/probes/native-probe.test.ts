// Native probing: rounds on a tick, thresholds as counters, and cancel() that leaves nothing behind.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { NativeProbe } from '../../src/probes/native.js';
import type { ProbeEnd } from '../../src/probes/probe.js';
import { FakeClock } from '../helpers/fake-clock.js';

const target = { app: 'web', instance: 'web-1', endpoint: (port: number) => ({ host: '127.0.0.1', port }) };

async function listener(t: Test) {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

t.test('liveness: rounds every interval until cancel(), then nothing at all', async (t) => {
  // Rounds on a fake clock, checks on real sockets: a round starts only when the test moves the clock, so that
  // "nothing after cancel" does not race with a connection the kernel completed just before it.
  const server = await listener(t);
  const clock = new FakeClock();
  const probe = new NativeProbe(256, clock);
  let rounds = 0;
  const ends: ProbeEnd[] = [];
  const handle = probe.liveness(target, { checks: [{ kind: 'tcp', port: server.port, timeoutMs: 200 }], intervalMs: 50, failureThreshold: 1 }, { round: () => rounds++, ready: () => {}, end: (end) => ends.push(end) });
  for (let round = 1; round <= 5; round++) {
    await clock.advance(round === 1 ? 0 : 50);
    for (let i = 0; i < 200 && (rounds < round || server.connections() < round); i++) await sleep(5);
    t.equal(rounds, round, `round ${round} at ${clock.now()}ms`);
  }
  await clock.advance(30);
  t.equal(rounds, 5, 'none between ticks');
  handle.cancel();
  t.equal(clock.timers, 0, 'no timer left');
  const [after, seen] = [rounds, server.connections()];
  await clock.advance(1000);
  await sleep(50);
  t.equal(rounds, after, 'no round after cancel');
  t.equal(server.connections(), seen, 'no connection after cancel');
  t.same(ends, []);
});

t.test('liveness: fails after failureThreshold failures in a row', async (t) => {
  const probe = new NativeProbe();
  const ends: ProbeEnd[] = [];
  let rounds = 0;
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  probe.liveness(target, { checks: [{ kind: 'tcp', port: 1, timeoutMs: 200 }], intervalMs: 30, failureThreshold: 3 }, { round: () => rounds++, ready: () => {}, end: (end) => ends.push(end) });
  for (let i = 0; i < 50 && ends.length === 0; i++) await sleep(20);
  t.equal(rounds, 3);
  t.match(ends, [{ phase: 'liveness', cause: 'unhealthy', reason: /failed to make TCP connection to 127\.0\.0\.1:1: .*refused/ }]);
});

t.test('readiness: passes once every check has passed; gives up at the start timeout with the last failure', async (t) => {
  const server = await listener(t);
  const probe = new NativeProbe();
  t.teardown(() => probe.close());
  const ends: (ProbeEnd | 'ready')[] = [];
  const observer = { round: () => {}, ready: () => ends.push('ready'), end: (end: ProbeEnd) => ends.push(end) };
  const liveness = { checks: [{ kind: 'tcp', port: server.port, timeoutMs: 200 }], intervalMs: 10_000, failureThreshold: 1 } as const;
  probe.lifecycle(target, { readiness: { checks: [{ kind: 'tcp', port: server.port, timeoutMs: 200 }], intervalMs: 50, startupTimeoutMs: 1000 }, liveness }, observer);
  probe.lifecycle(target, { readiness: { checks: [{ kind: 'tcp', port: 1, timeoutMs: 200 }], intervalMs: 50, startupTimeoutMs: 300 }, liveness }, observer);
  await sleep(500);
  t.match(ends, ['ready', { phase: 'readiness', cause: 'timed-out', reason: /127\.0\.0\.1:1: .*refused/ }]);
});

t.test('close() cancels every probe', async (t) => {
  const server = await listener(t);
  const probe = new NativeProbe();
  let rounds = 0;
  for (let i = 0; i < 3; i++) probe.liveness(target, { checks: [{ kind: 'tcp', port: server.port, timeoutMs: 200 }], intervalMs: 30, failureThreshold: 1 }, { round: () => rounds++, ready: () => {}, end: () => {} });
  await sleep(100);
  await probe.close();
  const after = rounds;
  await sleep(150);
  t.equal(rounds, after);
});
