// A round run by the check engine in this process, callbacks all the way: every check side by side, each through
// the gate when there is one, and the results told once, in the checks' order, whichever finished first.
import { once } from 'node:events';
import { createServer } from 'node:net';
import t from 'tap';
import { CancelScope } from '../../src/checks/cancel.js';
import type { CheckResult, CheckSpec } from '../../src/checks/types.js';
import { checkRound } from '../../src/engine/check-round.js';
import { Limit } from '../../src/shared/limit.js';
import { closedPort } from '../helpers/ports.js';

function round(checks: readonly CheckSpec[], scope: CancelScope, gate?: Limit): Promise<{ results: readonly CheckResult[]; calls: number }> {
  return new Promise((resolve) => {
    let calls = 0;
    checkRound(
      checks,
      scope,
      (results) => {
        calls++;
        // A second call would come within the same turns; wait a little for it before answering.
        setTimeout(() => resolve({ results, calls }), 50);
      },
      gate,
    );
  });
}

t.test('results in the order of the checks, once; a gate of one runs them one after the other and is left empty', async (t) => {
  // The open port's checks pass at the connect; the closed one's fail as refused, sooner.
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const open = (server.address() as { port: number }).port;
  const closed = await closedPort();
  const tcp = (port: number): CheckSpec => ({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 });
  const gate = new Limit(1);
  const { results, calls } = await round([tcp(open), tcp(closed), tcp(open)], new CancelScope(), gate);
  t.equal(calls, 1, 'told once');
  t.same(results.map((r) => r.passed), [true, false, true]);
  t.match(results[1], { error: { code: 'tcp-failed' } });
  t.equal(gate.running, 0, 'every check left the gate');
  t.equal(gate.queued, 0);
});

t.test('a cancelled scope: every check fails as cancelled, told at once; no checks: told at once with none', async (t) => {
  const scope = new CancelScope();
  scope.cancel();
  let told: readonly CheckResult[] | undefined;
  checkRound([{ kind: 'tcp', host: '127.0.0.1', port: 1, timeoutMs: 1000 }], scope, (results) => (told = results));
  t.match(told, [{ passed: false, error: { code: 'cancelled' } }]);
  let none: readonly CheckResult[] | undefined;
  checkRound([], new CancelScope(), (results) => (none = results));
  t.same(none, []);
});
