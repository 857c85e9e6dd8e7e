// Cancellation by a method (src/checks/cancel.ts): a scope cancels what is in flight in it, and a check cancelled
// through a scope closes its real socket at once, as one cancelled through an AbortSignal does.
import { once } from 'node:events';
import type { Socket } from 'node:net';
import t from 'tap';
import { CancelScope } from '../../src/checks/cancel.js';
import { grpcCheck } from '../../src/checks/grpc-check.js';
import { httpCheck } from '../../src/checks/http-check.js';
import { tcpCheck } from '../../src/checks/tcp-check.js';
import { type CheckResult, GRPC_HEALTH_PATH, type GrpcCheckSpec } from '../../src/checks/types.js';
import { tcpServer } from './fixtures.js';

function failure(result: CheckResult) {
  if (result.passed) throw new Error('expected a failure');
  return result.error;
}

t.test('a scope cancels each work in flight once, and refuses work after it is cancelled', async (t) => {
  const scope = new CancelScope();
  const cancelled: string[] = [];
  const work = (name: string) => ({ cancel: () => cancelled.push(name) });
  const [a, b, c] = [work('a'), work('b'), work('c')];
  t.equal(scope.enter(a), true);
  t.equal(scope.enter(b), true);
  t.equal(scope.enter(c), true);
  scope.leave(b);
  scope.leave(a);
  t.equal(scope.enter(a), true, 'work may enter again after leaving');
  const early = scope.signal;
  t.equal(early.aborted, false);
  scope.cancel();
  scope.cancel();
  t.same(cancelled.sort(), ['a', 'c'], 'what left is not cancelled; nothing twice');
  t.equal(scope.cancelled, true);
  t.equal(early.aborted, true, 'a signal made before is aborted with the scope');
  t.equal(scope.signal.aborted, true);
  t.equal(new CancelScope().signal.aborted, false);
  t.equal(scope.enter(work('d')), false, 'nothing enters a cancelled scope');
  t.same(cancelled.sort(), ['a', 'c']);
});

t.test('an HTTP check cancelled by its scope ends at once and closes its socket', async (t) => {
  let accepted!: (socket: Socket) => void;
  const connection = new Promise<Socket>((resolve) => (accepted = resolve));
  // Accepts and never answers: only the cancel can end the check.
  const port = await tcpServer(t, (socket) => accepted(socket));
  const scope = new CancelScope();
  const pending = httpCheck({ kind: 'http', host: '127.0.0.1', port, path: '/', timeoutMs: 10_000, expectStatus: [{ min: 200, max: 399 }], headers: [], followRedirects: false }, '127.0.0.1', scope);
  const socket = await connection;
  const closed = once(socket, 'close');
  scope.cancel();
  t.match(failure(await pending), { code: 'cancelled', exitCode: 143 });
  await closed;
});

t.test('a gRPC check cancelled by its scope ends at once and closes its socket', async (t) => {
  let accepted!: (socket: Socket) => void;
  const connection = new Promise<Socket>((resolve) => (accepted = resolve));
  // Accepts and never speaks HTTP/2: only the cancel can end the check.
  const port = await tcpServer(t, (socket) => accepted(socket));
  const spec = (): GrpcCheckSpec => ({ kind: 'grpc', host: '127.0.0.1', port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 10_000, metadata: [] });
  const scope = new CancelScope();
  const pending = grpcCheck(spec(), '127.0.0.1', scope);
  const socket = await connection;
  const closed = once(socket, 'close');
  scope.cancel();
  t.match(failure(await pending), { code: 'cancelled', exitCode: 143 });
  await closed;
  t.match(failure(await grpcCheck(spec(), '127.0.0.1', scope)), { code: 'cancelled', exitCode: 143 }, 'a cancelled scope starts none');
});

t.test('a TCP check on a cancelled scope starts nothing', async (t) => {
  let connections = 0;
  const port = await tcpServer(t, () => connections++);
  const scope = new CancelScope();
  scope.cancel();
  t.match(failure(await tcpCheck({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 }, '127.0.0.1', scope)), { code: 'cancelled', exitCode: 143 });
  // A control check on the same server is accepted: had the cancelled one connected, it would have been first.
  t.equal((await tcpCheck({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 }, '127.0.0.1')).passed, true);
  for (let i = 0; i < 100 && connections === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(connections, 1, 'only the control check connected');
});
