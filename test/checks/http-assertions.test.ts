// Opt-in HTTP assertions against real loopback servers: the method, the body (Content-Length, chunked, to the
// close, at most 64 KiB, within the deadline) and response headers.
import t from 'tap';
import { MAX_BODY_BYTES } from '../../src/checks/body-reader.js';
import { runCheck } from '../../src/checks/run-check.js';
import type { CheckResult, HttpCheckSpec } from '../../src/checks/types.js';
import { httpServer, tcpServer } from './fixtures.js';

function http(port: number, more: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return { kind: 'http', host: '127.0.0.1', port, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, ...more };
}

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

const substring = (text: string) => ({ expectBody: { kind: 'substring', text } as const });

t.test('HEAD is sent when asked', async (t) => {
  const methods: string[] = [];
  const port = await httpServer(t, (req, res) => {
    methods.push(req.method ?? '');
    res.end();
  });
  t.match(await runCheck(http(port, { method: 'HEAD' })), { passed: true });
  t.match(await runCheck(http(port)), { passed: true });
  t.same(methods, ['HEAD', 'GET']);
});

t.test('the body, however it is framed, is judged whole', async (t) => {
  const port = await httpServer(t, (req, res) => {
    if (req.url === '/length') return res.end('{"status":"ok","db":"up"}');
    if (req.url === '/chunked') {
      res.write('{"status":');
      setTimeout(() => res.end('"ok","db":"up"}'), 20);
      return;
    }
    // To the close: HTTP/1.0 style, no length, no chunking.
    res.socket?.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"status":"ok",\n"db":"down"}');
  });
  for (const path of ['/length', '/chunked']) {
    t.match(await runCheck(http(port, { path, ...substring('"db":"up"') })), { passed: true }, path);
    t.match(await runCheck(http(port, { path, expectBody: { kind: 'regex', regex: /"status":\s*"ok"/ } })), { passed: true }, path);
  }
  t.match(failure(await runCheck(http(port, { path: '/close', ...substring('"db":"up"') }))), {
    code: 'http-unexpected',
    exitCode: 6,
    message: new RegExp(`^failed to make HTTP request to '/close' on 127.0.0.1:${port}: body does not contain "\\\\"db\\\\":\\\\"up\\\\"" \\(28 bytes read\\) in \\d+ms$`),
  });
  t.match(failure(await runCheck(http(port, { path: '/close', expectBody: { kind: 'regex', regex: /^down$/ } }))), {
    message: /body does not match \/\^down\$\/ \(28 bytes read\)/,
  });
});

t.test('a status that fails is the verdict: the body is not read', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = 503;
    res.end('ok');
  });
  t.match(failure(await runCheck(http(port, substring('ok')))), { code: 'http-status', exitCode: 6 });
});

t.test('at most 64 KiB is read: text past it is not found, and an endless body ends the read there', async (t) => {
  const port = await httpServer(t, (req, res) => {
    if (req.url === '/late') return res.end(`${'x'.repeat(MAX_BODY_BYTES)}needle`);
    // Endless, as fast as the socket takes it.
    const more = () => {
      while (res.write('y'.repeat(16384)));
    };
    res.on('drain', more);
    more();
  });
  t.match(failure(await runCheck(http(port, { path: '/late', ...substring('needle') }))), { message: /body does not contain "needle" \(first 65536 bytes read\)/ });
  const started = performance.now();
  t.match(failure(await runCheck(http(port, { path: '/endless', ...substring('needle'), timeoutMs: 5000 }))), { message: /\(first 65536 bytes read\)/ });
  t.ok(performance.now() - started < 2000, 'decided at the limit, not at the deadline');
  t.match(await runCheck(http(port, { path: '/endless', ...substring('yyyy') })), { passed: true });
});

t.test('a body trickled a byte at a time: the deadline holds', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const timer = setInterval(() => socket.write('1\r\na\r\n'), 20);
    socket.on('close', () => clearInterval(timer));
  });
  const started = performance.now();
  t.match(failure(await runCheck(http(port, { ...substring('needle'), timeoutMs: 300 }))), { code: 'http-timeout', exitCode: 65 });
  t.ok(performance.now() - started < 1000, 'not late');
});

t.test('malformed framing is named', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
  });
  t.match(failure(await runCheck(http(port, substring('ok')))), { code: 'http-failed', message: /malformed HTTP response: bad chunk size$/ });
  const twoLengths = await tcpServer(t, (socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'));
  });
  t.match(failure(await runCheck(http(twoLengths, substring('ok')))), { message: /malformed HTTP response: Content-Length "2, 3"$/ });
});

t.test('expected headers: present and matching passes; missing or different is named', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('X-Health', ['degraded', 'db=down']);
    res.end('{}');
  });
  t.match(await runCheck(http(port, { expectHeaders: [{ name: 'content-type', regex: /^application\/json/ }, { name: 'X-Health', regex: /^db=/ }] })), { passed: true });
  t.match(failure(await runCheck(http(port, { expectHeaders: [{ name: 'X-Version', regex: /./ }] }))), { code: 'http-unexpected', message: /: no header X-Version in the response in \d+ms$/ });
  t.match(failure(await runCheck(http(port, { expectHeaders: [{ name: 'X-Health', regex: /^ok$/ }] }))), { message: /: header X-Health "degraded, db=down" does not match \/\^ok\$\/ in \d+ms$/ });
});

t.test('HEAD with a body expectation made in code is a failed request, not a hang', async (t) => {
  const port = await httpServer(t, (_req, res) => res.end('ok'));
  t.match(failure(await runCheck(http(port, { method: 'HEAD', ...substring('ok') }))), { code: 'http-failed', message: /a HEAD response has no body/ });
});
