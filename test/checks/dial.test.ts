// Host names: resolved at every check, each address tried in the resolver's order, the address used named.
// Only names that resolve to loopback are looked up for real (localhost, from /etc/hosts); the resolver's other
// answers (both families, none, a failure) come from a resolver passed in, in front of real loopback sockets.
import t from 'tap';
import type { Resolver } from '../../src/checks/dial.js';
import { httpCheck } from '../../src/checks/http-check.js';
import { runCheck } from '../../src/checks/run-check.js';
import { tcpCheck } from '../../src/checks/tcp-check.js';
import type { CheckResult } from '../../src/checks/types.js';
import { closedPort, httpServer, tcpServer } from './fixtures.js';

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

t.test('localhost works, through the system resolver, and a failure names the address used', async (t) => {
  const port = await tcpServer(t, () => {});
  t.match(await runCheck({ kind: 'tcp', host: 'localhost', port, timeoutMs: 1000 }), { passed: true });
  const closed = await closedPort();
  t.match(failure(await runCheck({ kind: 'tcp', host: 'localhost', port: closed, timeoutMs: 1000 })), {
    code: 'tcp-failed',
    message: new RegExp(`^failed to make TCP connection to localhost:${closed} \\((127\\.0\\.0\\.1|::1)\\): connect: connection refused$`),
  });
});

t.test('HTTP by name: Host carries the name; a failure names name and address', async (t) => {
  let host: string | undefined;
  const port = await httpServer(t, (req, res) => {
    host = req.headers.host;
    res.statusCode = req.url === '/bad' ? 500 : 200;
    res.end();
  });
  const spec = { kind: 'http', host: 'localhost', port, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  t.match(await runCheck(spec), { passed: true });
  t.equal(host, `localhost:${port}`);
  t.match(failure(await runCheck({ ...spec, path: '/bad' })), { message: new RegExp(`^failed to make HTTP request to '/bad' on localhost:${port} \\(127\\.0\\.0\\.1\\): received status code 500`) });
});

t.test("each address in the resolver's order: ::1 refused, then 127.0.0.1 accepts", async (t) => {
  const port = await tcpServer(t, () => {}, '127.0.0.1');
  const asked: string[] = [];
  const bothFamilies: Resolver = async (name) => {
    asked.push(name);
    return ['::1', '127.0.0.1'];
  };
  t.match(await tcpCheck({ kind: 'tcp', host: 'db.test', port, timeoutMs: 1000 }, 'db.test', undefined, bothFamilies), { passed: true });
  t.same(asked, ['db.test']);
  const closed = await closedPort();
  t.match(failure(await tcpCheck({ kind: 'tcp', host: 'db.test', port: closed, timeoutMs: 1000 }, 'db.test', undefined, bothFamilies)), {
    message: `failed to make TCP connection to db.test:${closed} (127.0.0.1): connect: connection refused`,
  });
  const v6 = await tcpServer(t, () => {}, '::1');
  t.match(await tcpCheck({ kind: 'tcp', host: 'db.test', port: v6, timeoutMs: 1000 }, 'db.test', undefined, async () => ['::1']), { passed: true });
});

t.test('resolved at every check: a name that moves is followed', async (t) => {
  const first = await tcpServer(t, () => {});
  let answer = '127.0.0.1';
  const moving: Resolver = async () => [answer];
  const spec = { kind: 'tcp', host: 'svc.test', port: first, timeoutMs: 1000 } as const;
  t.match(await tcpCheck(spec, 'svc.test', undefined, moving), { passed: true });
  // Still loopback, but the listener is bound to 127.0.0.1 only: the next check goes to the new address.
  answer = '127.0.0.2';
  t.match(failure(await tcpCheck(spec, 'svc.test', undefined, moving)), { message: /\(127\.0\.0\.2\): connect: connection refused$/ });
});

t.test('lookup failures, in Go words, and a resolver that never answers is cut by the deadline', async (t) => {
  const notFound: Resolver = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nope.test'), { code: 'ENOTFOUND' }));
  t.match(failure(await tcpCheck({ kind: 'tcp', host: 'nope.test', port: 1, timeoutMs: 1000 }, 'nope.test', undefined, notFound)), {
    code: 'tcp-failed',
    exitCode: 4,
    message: 'failed to make TCP connection to nope.test:1: lookup nope.test: no such host',
  });
  t.match(failure(await tcpCheck({ kind: 'tcp', host: 'empty.test', port: 1, timeoutMs: 1000 }, 'empty.test', undefined, async () => [])), { message: /lookup empty\.test: no such host$/ });
  const never: Resolver = () => new Promise(() => {});
  const started = performance.now();
  const http = { kind: 'http', host: 'slow.test', port: 1, path: '/', timeoutMs: 200, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  t.match(failure(await httpCheck(http, 'slow.test', undefined, never)), { code: 'http-timeout', exitCode: 65 });
  t.ok(performance.now() - started < 800, 'not late');
});
