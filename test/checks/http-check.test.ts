import type { IncomingHttpHeaders } from 'node:http';
import t from 'tap';
import { httpCheck, statusExpected } from '../../src/checks/http-check.js';
import { runCheck } from '../../src/checks/run-check.js';
import type { CheckResult, HttpCheckSpec } from '../../src/checks/types.js';
import { VERSION } from '../../src/checks/version.js';
import { blackholePort, closedPort, httpServer, tcpServer } from './fixtures.js';

function http(port: number, more: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return {
    kind: 'http',
    host: '127.0.0.1',
    port,
    path: '/health',
    timeoutMs: 1000,
    expectStatus: [{ min: 200, max: 200 }],
    headers: [],
    followRedirects: false,
    ...more,
  };
}

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

async function timed(pending: Promise<CheckResult>): Promise<[CheckResult, number]> {
  const started = performance.now();
  const result = await pending;
  return [result, performance.now() - started];
}

t.test('200 passes; the request carries Host, User-Agent and the headers in order', async (t) => {
  let seen: { method?: string; url?: string; raw: string[]; headers: IncomingHttpHeaders } | undefined;
  const port = await httpServer(t, (req, res) => {
    seen = { method: req.method, url: req.url, raw: req.rawHeaders, headers: req.headers };
    res.end('ok');
  });
  const result = await runCheck(http(port, { path: '/health?x=1', headers: [['X-One', 'a'], ['X-Two', 'b'], ['X-One', 'c']] }));
  t.match(result, { passed: true, status: 200 });
  t.equal(seen?.method, 'GET');
  t.equal(seen?.url, '/health?x=1');
  t.equal(seen?.headers.host, `127.0.0.1:${port}`);
  t.equal(seen?.headers['user-agent'], `lifeguard-healthcheck/${VERSION}`);
  const names = (seen?.raw ?? []).filter((_, i) => i % 2 === 0);
  t.same(names.slice(0, 5), ['Host', 'User-Agent', 'X-One', 'X-Two', 'X-One']);
  t.same(seen?.headers['x-one'], 'a, c');
});

t.test('spec.userAgent and an operator Host header replace ours', async (t) => {
  let headers: IncomingHttpHeaders = {};
  const port = await httpServer(t, (req, res) => {
    headers = req.headers;
    res.end();
  });
  const spec = http(port, { userAgent: 'diego-healthcheck', headers: [['Host', 'app.example'], ['X-Forwarded-Proto', 'https']] });
  t.equal((await runCheck(spec)).passed, true);
  t.equal(headers['user-agent'], 'diego-healthcheck');
  t.equal(headers.host, 'app.example');
  t.equal(headers['x-forwarded-proto'], 'https');
  t.equal((await runCheck(spec)).passed, true, 'a spec checks again with the same headers');
  t.equal(headers.host, 'app.example');
});

t.test('proxy environment variables are ignored', async (t) => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };
  const proxy = await closedPort();
  process.env.HTTP_PROXY = process.env.http_proxy = `http://127.0.0.1:${proxy}`;
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const port = await httpServer(t, (_req, res) => res.end());
  t.equal((await runCheck(http(port))).passed, true);
});

t.test('refused: exit 5 saying so', async (t) => {
  const port = await closedPort();
  const error = failure(await runCheck(http(port)));
  t.equal(error.exitCode, 5);
  t.equal(error.message, `failed to make HTTP request to '/health' on 127.0.0.1:${port}: connect: connection refused`);
});

t.test('reset by the server: exit 5 with the reset, not "refused"', async (t) => {
  const port = await tcpServer(t, (socket) => socket.once('data', () => socket.resetAndDestroy()));
  const error = failure(await runCheck(http(port)));
  t.equal(error.exitCode, 5);
  t.equal(error.message, `failed to make HTTP request to '/health' on 127.0.0.1:${port}: read: connection reset by peer`);
});

t.test('closed without an answer: exit 5', async (t) => {
  const port = await tcpServer(t, (socket) => socket.once('data', () => socket.end()));
  const error = failure(await runCheck(http(port)));
  t.equal(error.code, 'http-failed');
  t.match(error.message, /: connection closed before a response was received$/);
});

t.test('an SSH banner: exit 5 with the real reason, at once', async (t) => {
  const port = await tcpServer(t, (socket) => socket.write('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n'));
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 5000 })));
  const error = failure(result);
  t.equal(error.exitCode, 5);
  t.match(error.message, `failed to make HTTP request to '/health' on 127.0.0.1:${port}: malformed HTTP response: `);
  t.match(error.message, /received "SSH-2\.0-OpenSSH_9\.6p1 Ubuntu-3ubuntu13"$/);
  t.ok(elapsed < 2000, `took ${elapsed}ms`);
});

t.test('headers beyond 16 KiB: exit 5, memory bounded', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n');
    socket.write(`X-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  });
  const error = failure(await runCheck(http(port)));
  t.equal(error.exitCode, 5);
  t.match(error.message, /malformed HTTP response: headers larger than 16384 bytes$/);
});

t.test('unexpected status: exit 6 with the status and the time taken', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const error = failure(await runCheck(http(port)));
  t.equal(error.exitCode, 6);
  t.match(error.message, new RegExp(`^failed to make HTTP request to '/health' on 127.0.0.1:${port}: received status code 503 in \\d+ms$`));
});

t.test('expectStatus ranges', async (t) => {
  const port = await httpServer(t, (req, res) => {
    res.statusCode = Number(req.url?.slice(1));
    res.end();
  });
  const ranges = [{ min: 200, max: 299 }, { min: 500, max: 500 }];
  t.equal((await runCheck(http(port, { path: '/500', expectStatus: ranges }))).passed, true);
  t.equal((await runCheck(http(port, { path: '/204', expectStatus: ranges }))).passed, true);
  t.equal(failure(await runCheck(http(port, { path: '/404', expectStatus: ranges }))).exitCode, 6);
  t.equal(failure(await runCheck(http(port, { path: '/500' }))).exitCode, 6, '500 fails by default');
  t.equal(statusExpected(304, [{ min: 200, max: 299 }, { min: 304, max: 304 }]), true);
  t.equal(statusExpected(300, [{ min: 200, max: 299 }, { min: 304, max: 304 }]), false);
});

t.test('accepts and never answers: exit 65 at the deadline', async (t) => {
  const port = await tcpServer(t, () => {});
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 400 })));
  const error = failure(result);
  t.equal(error.exitCode, 65);
  t.equal(error.message, `failed to make HTTP request to '/health' on 127.0.0.1:${port}: timed out after 0.40 seconds`);
  t.ok(elapsed >= 390 && elapsed < 900, `took ${elapsed}ms`);
});

t.test('connect never completes: exit 65 at the deadline', async (t) => {
  const port = await blackholePort(t);
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 400 })));
  t.equal(failure(result).exitCode, 65);
  t.ok(elapsed < 900, `took ${elapsed}ms`);
});

t.test('a status line then headers forever: exit 65 at the deadline', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n');
    let n = 0;
    const timer = setInterval(() => socket.write(`X-Trickle-${n++}: y\r\n`), 20);
    socket.on('close', () => clearInterval(timer));
  });
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 500 })));
  t.equal(failure(result).exitCode, 65);
  t.ok(elapsed >= 490 && elapsed < 1000, `took ${elapsed}ms`);
});

t.test('200 and then a stalled body passes at once', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc'));
  });
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 3000 })));
  t.match(result, { passed: true, status: 200 });
  t.ok(elapsed < 1500, `took ${elapsed}ms`);
});

t.test('an endless body passes at once, with bounded memory', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let written = 0;
  const port = await httpServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    // Writes as fast as the client reads, for as long as the connection lives (bounded for safety: 1 GiB).
    const pump = () => {
      while (written < 1024 ** 3) {
        written += chunk.length;
        if (!res.write(chunk)) return;
      }
    };
    res.on('drain', pump);
    pump();
  });
  const heapBefore = process.memoryUsage().heapUsed;
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 3000 })));
  t.match(result, { passed: true, status: 200 });
  t.ok(elapsed < 1500, `took ${elapsed}ms`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.ok(written < 64 * 1024 * 1024, `server could push only ${written} bytes before the client closed`);
  t.ok(process.memoryUsage().heapUsed - heapBefore < 32 * 1024 * 1024, 'heap did not grow with the body');
});

t.test('redirects', async (t) => {
  const other = await closedPort();
  const port = await httpServer(t, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hops = Number(url.searchParams.get('hops') ?? 0);
    if (url.pathname === '/ok') return res.end();
    if (url.pathname === '/chain') {
      res.writeHead(hops > 0 ? 302 : 200, hops > 0 ? { Location: `/chain?hops=${hops - 1}` } : {});
      return res.end();
    }
    if (url.pathname === '/abs') {
      res.writeHead(301, { Location: `http://127.0.0.1:${(req.socket.localPort ?? 0)}/ok` });
      return res.end();
    }
    if (url.pathname === '/elsewhere') {
      res.writeHead(307, { Location: `http://127.0.0.1:${other}/ok` });
      return res.end();
    }
    if (url.pathname === '/nolocation') {
      res.writeHead(302);
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });

  const off = failure(await runCheck(http(port, { path: '/chain?hops=1' })));
  t.equal(off.exitCode, 6, 'not followed by default');
  t.match(off.message, /received status code 302/);
  t.equal((await runCheck(http(port, { path: '/chain?hops=1', expectStatus: [{ min: 302, max: 302 }] }))).passed, true);

  t.match(await runCheck(http(port, { path: '/chain?hops=3', followRedirects: true })), { passed: true, status: 200 });
  t.match(await runCheck(http(port, { path: '/abs', followRedirects: true })), { passed: true }, 'absolute, same host');
  t.match(await runCheck(http(port, { path: '/chain?hops=10', followRedirects: true })), { passed: true }, '10 hops');

  const tooMany = failure(await runCheck(http(port, { path: '/chain?hops=11', followRedirects: true })));
  t.equal(tooMany.exitCode, 5);
  t.equal(tooMany.message, `failed to make HTTP request to '/chain?hops=11' on 127.0.0.1:${port}: stopped after 10 redirects`);

  const elsewhere = failure(await runCheck(http(port, { path: '/elsewhere', followRedirects: true })));
  t.equal(elsewhere.exitCode, 5);
  t.equal(
    elsewhere.message,
    `failed to make HTTP request to '/elsewhere' on 127.0.0.1:${port}: redirect to http://127.0.0.1:${other}/ok leaves 127.0.0.1:${port}; not followed`,
  );

  t.equal(failure(await runCheck(http(port, { path: '/nolocation', followRedirects: true }))).exitCode, 6);
});

t.test('the deadline covers the whole redirect chain', async (t) => {
  const port = await httpServer(t, (_req, res) => {
    setTimeout(() => {
      res.writeHead(302, { Location: '/again' });
      res.end();
    }, 100);
  });
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 450, followRedirects: true })));
  t.equal(failure(result).exitCode, 65);
  t.ok(elapsed < 1000, `took ${elapsed}ms`);
});

t.test('IPv6 literal ::1: Host is bracketed', async (t) => {
  let host: string | undefined;
  const port = await httpServer(t, (req, res) => {
    host = req.headers.host;
    res.end();
  }, '::1');
  t.equal((await runCheck(http(port, { host: '::1' }))).passed, true);
  t.equal(host, `[::1]:${port}`);
});

t.test('an aborted check resolves at once and leaves no handle behind', async (t) => {
  const port = await tcpServer(t, () => {});
  const count = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'ConnectWrap' || r === 'Timeout').length;
  // Earlier tests' servers may still hold a timer or two; let them run out first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = count();
  const controller = new AbortController();
  const pending = httpCheck(http(port, { timeoutMs: 10_000 }), '127.0.0.1', controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(count() > before, 'a connection and a deadline while in flight');
  const started = performance.now();
  controller.abort();
  const result = await pending;
  const elapsed = performance.now() - started;
  t.match(failure(result), { code: 'cancelled', exitCode: 143, message: 'cancelled' });
  t.ok(elapsed < 100, `took ${elapsed}ms`);
  for (let i = 0; i < 100 && count() !== before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(count(), before, 'no socket or timer left');
});

t.test('an invalid path is a failed request, not a throw', async (t) => {
  const error = failure(await runCheck(http(1, { path: '/a b' })));
  t.equal(error.exitCode, 5);
  t.match(error.message, /: invalid request: /);
});

/** A raw server that answers every request with `response`, written as given (an array: one write each, spaced). */
async function rawServer(t: Parameters<typeof tcpServer>[0], response: string | string[]): Promise<number> {
  return tcpServer(t, (socket) => {
    socket.setNoDelay(true);
    socket.once('data', async () => {
      if (typeof response === 'string') return void socket.write(response);
      // Separate TCP segments: with Nagle off and a pause between writes, each write is its own read for the client.
      for (const piece of response) {
        if (socket.destroyed) return;
        socket.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
  });
}

t.test('a response split byte by byte: the same verdict, and a split Location is followed', async (t) => {
  const bytes = (text: string) => [...text];
  const port = await rawServer(t, bytes('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'));
  t.match(await runCheck(http(port, { timeoutMs: 5000 })), { passed: true, status: 200 });

  const redirect = await tcpServer(t, (socket) => {
    socket.setNoDelay(true);
    socket.once('data', async (request: Buffer) => {
      const text = request.toString('latin1').startsWith('GET /next ')
        ? 'HTTP/1.1 204 No Content\r\n\r\n'
        : 'HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\n';
      for (const byte of text) {
        if (socket.destroyed) return;
        socket.write(byte);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
  });
  const spec = http(redirect, { timeoutMs: 5000, followRedirects: true, expectStatus: [{ min: 204, max: 204 }] });
  t.match(await runCheck(spec), { passed: true, status: 204 });
});

t.test('interim 1xx responses are skipped; the final status decides', async (t) => {
  const continued = await rawServer(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  t.match(await runCheck(http(continued)), { passed: true, status: 200 });
  const hinted = await rawServer(t, ['HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n', 'HTTP/1.1 503 Busy\r\n\r\n']);
  t.match(failure(await runCheck(http(hinted))).message, /: received status code 503 in \d+ms$/);
  const only = await rawServer(t, 'HTTP/1.1 100 Continue\r\n\r\n');
  t.equal(failure(await runCheck(http(only, { timeoutMs: 300 }))).exitCode, 65, 'no final response: the deadline');
  const endless = await rawServer(t, 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(1000));
  t.match(failure(await runCheck(http(endless))).message, /headers larger than 16384 bytes$/, 'interim heads count too');
});

t.test('a status line without a reason phrase is valid', async (t) => {
  for (const line of ['HTTP/1.1 200', 'HTTP/1.1 200 ', 'HTTP/1.0 200']) {
    const port = await rawServer(t, `${line}\r\n\r\n`);
    t.match(await runCheck(http(port)), { passed: true, status: 200 }, JSON.stringify(line));
  }
});

t.test('bare LF line endings are accepted (RFC 9112 section 2.2), alone or mixed with CRLF', async (t) => {
  const lf = await rawServer(t, 'HTTP/1.0 200 OK\nServer: tiny\n\nbody');
  t.match(await runCheck(http(lf)), { passed: true, status: 200 });
  const mixed = await rawServer(t, 'HTTP/1.1 503 Unavailable\r\nServer: tiny\n\r\n');
  t.equal(failure(await runCheck(http(mixed))).exitCode, 6);
});

t.test('anything but an HTTP/1.x status line fails at once, quoting it', async (t) => {
  const cases = ['HTTP/2 200 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 099 Low', 'http/1.1 200 OK', 'HTTP/1.1 200OK', 'ICY 200 OK', ' HTTP/1.1 200 OK'];
  for (const line of cases) {
    const port = await rawServer(t, `${line}\r\n\r\n`);
    const error = failure(await runCheck(http(port)));
    t.equal(error.message, `failed to make HTTP request to '/health' on 127.0.0.1:${port}: malformed HTTP response: expected an HTTP/1.x status line; received ${JSON.stringify(line)}`);
  }
  // A binary greeting with no line end (a database's, say) is not waited on until the deadline.
  const port = await tcpServer(t, (socket) => socket.write(Buffer.from([0x4a, 0x00, 0x00, 0x00, 0x0a, 0x38])));
  const [result, elapsed] = await timed(runCheck(http(port, { timeoutMs: 5000 })));
  t.match(failure(result).message, /expected an HTTP\/1\.x status line; received "J\\u0000\\u0000\\u0000"$/);
  t.ok(elapsed < 2000, `took ${elapsed}ms`);
});

t.test('closed in the middle of the headers: exit 5 saying so', async (t) => {
  const port = await tcpServer(t, (socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nServer: x\r\n')));
  const error = failure(await runCheck(http(port)));
  t.equal(error.exitCode, 5);
  t.match(error.message, /: connection closed before the end of the response headers$/);
});

t.test('a header name or value that would break the request is refused, never sent', async (t) => {
  let connections = 0;
  const port = await tcpServer(t, () => {
    connections += 1;
  });
  const attempts: Partial<HttpCheckSpec>[] = [
    { headers: [['X-A', 'a\r\nX-Injected: 1']] },
    { headers: [['X-A', 'a\nX-Injected: 1']] },
    { headers: [['X-A', 'a\0b']] },
    { headers: [['X-A\r\nX-Injected', '1']] },
    { headers: [['X A', '1']] },
    { headers: [['Host', 'app\r\n\r\nGET /admin HTTP/1.1']] },
    { userAgent: 'agent\r\nX-Injected: 1' },
  ];
  for (const more of attempts) {
    const error = failure(await runCheck(http(port, more)));
    t.equal(error.exitCode, 5, JSON.stringify(more));
    t.match(error.message, /: invalid request: /);
  }
  t.equal(connections, 0, 'no connection was even made');
});
