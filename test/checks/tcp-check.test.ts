import t from 'tap';
import { runCheck } from '../../src/checks/run-check.js';
import { tcpCheck } from '../../src/checks/tcp-check.js';
import type { CheckResult, TcpCheckSpec } from '../../src/checks/types.js';
import { blackholePort, closedPort, tcpServer } from './fixtures.js';

const tcp = (port: number, timeoutMs = 1000, host = '127.0.0.1'): TcpCheckSpec => ({ kind: 'tcp', host, port, timeoutMs });

function failure(result: CheckResult) {
  if (result.passed) throw new Error('expected a failure');
  return result.error;
}

t.test('passes when a connection is established, and closes it at once', async (t) => {
  let closed!: () => void;
  const closedByClient = new Promise<void>((resolve) => (closed = resolve));
  const port = await tcpServer(t, (socket) => socket.on('close', closed));
  const result = await runCheck(tcp(port));
  t.equal(result.passed, true);
  t.ok(result.latencyMs >= 0 && result.latencyMs < 1000);
  await closedByClient;
});

t.test('refused: exit 4 with the real reason', async (t) => {
  const port = await closedPort();
  const error = failure(await runCheck(tcp(port)));
  t.equal(error.code, 'tcp-failed');
  t.equal(error.exitCode, 4);
  t.equal(error.message, `failed to make TCP connection to 127.0.0.1:${port}: connect: connection refused`);
});

t.test('unanswered SYN: exit 64 within the timeout plus a margin', async (t) => {
  const port = await blackholePort(t);
  const started = performance.now();
  const error = failure(await runCheck(tcp(port, 400)));
  const elapsed = performance.now() - started;
  t.equal(error.code, 'tcp-timeout');
  t.equal(error.exitCode, 64);
  t.equal(error.message, `failed to make TCP connection to 127.0.0.1:${port}: timed out after 0.40 seconds`);
  t.ok(elapsed >= 390 && elapsed < 900, `finished after ${elapsed}ms`);
});

t.test('IPv6 literal ::1', async (t) => {
  const port = await tcpServer(t, () => {}, '::1');
  t.equal((await runCheck(tcp(port, 1000, '::1'))).passed, true);
  const refused = await closedPort('::1');
  t.equal(failure(await runCheck(tcp(refused, 1000, '::1'))).message, `failed to make TCP connection to [::1]:${refused}: connect: connection refused`);
});

t.test('an aborted check resolves at once as cancelled and leaves no handle behind', async (t) => {
  const port = await blackholePort(t);
  const count = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'ConnectWrap' || r === 'Timeout').length;
  const before = count();
  const controller = new AbortController();
  const pending = tcpCheck(tcp(port, 10_000), '127.0.0.1', controller.signal);
  // The connect is issued at once on the TCP handle (node:net waited a tick): its request is in flight too.
  t.equal(count(), before + 3, 'a socket, its connect request and a deadline while in flight');
  setTimeout(() => controller.abort(), 50);
  const started = performance.now();
  const error = failure(await pending);
  t.ok(performance.now() - started < 1000);
  // One cancellation outcome, a check's as a loop's: no verdict on the app, no internal error.
  t.match(error, { code: 'cancelled', exitCode: 143, message: 'cancelled' });
  // A destroyed handle is released in the loop's close phase, a turn or two later; wait for it, bounded.
  for (let i = 0; i < 100 && count() !== before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(count(), before, 'no socket or timer left');
});

t.test('an already aborted signal starts nothing', async (t) => {
  const error = failure(await tcpCheck(tcp(1), '127.0.0.1', AbortSignal.abort()));
  t.equal(error.code, 'cancelled');
});
