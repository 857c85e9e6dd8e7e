// What an app under check can do to its checker: redirect it elsewhere, or answer with endless headers or body.
// A redirect to another host is never followed (even with --follow-redirects, even to another loopback address);
// headers are bounded (a huge one fails at once, with the reason); a body is never read (an endless one passes).
// Deeper cases: test/checks/http-check.test.ts ("redirects", "headers beyond 16 KiB", "an endless body").
import { createServer, type Server } from 'node:http';
import t, { type Test } from 'tap';
import { httpCheck } from '../../src/checks/http-check.js';
import type { HttpCheckSpec } from '../../src/checks/types.js';

async function serve(t: Test, host: string, handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

const spec = (port: number): HttpCheckSpec => ({ kind: 'http', port, path: '/health', timeoutMs: 2000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: true });

t.test('a redirect to another host is not followed, even to another loopback address', async (t) => {
  let visited = 0;
  const elsewhere = await serve(t, '127.0.0.2', (_req, res) => {
    visited += 1;
    res.end('ok');
  });
  const port = await serve(t, '127.0.0.1', (_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${elsewhere}/health` }).end());
  const result = await httpCheck(spec(port), '127.0.0.1');
  t.notOk(result.passed, 'the check fails');
  t.match(!result.passed && result.error.message, /redirect to http:\/\/127\.0\.0\.2:\d+\/health leaves 127\.0\.0\.1:\d+; not followed/);
  t.equal(visited, 0, 'the other host never saw a request');
});

t.test('a huge header fails quickly with the reason; an endless body passes at once', async (t) => {
  const huge = await serve(t, '127.0.0.1', (req, res) => {
    res.writeHead(200, { 'x-huge': 'a'.repeat(1024 * 1024) });
    res.end();
    req.socket.on('error', () => {});
  });
  const began = performance.now();
  const result = await httpCheck(spec(huge), '127.0.0.1');
  t.notOk(result.passed, 'a 1 MiB header fails the check');
  t.match(!result.passed && result.error.message, /headers larger than 16384 bytes/, 'saying why');
  t.ok(performance.now() - began < 2000, 'before its deadline');

  let written = 0;
  const endless = await serve(t, '127.0.0.1', (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      // Bounded: the test ends the stream itself if the checker ever kept reading.
      while (written < 512 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      if (written < 512 * 1024 * 1024) res.once('drain', pump);
      else res.end();
    };
    res.on('error', () => {});
    pump();
  });
  const passed = await httpCheck(spec(endless), '127.0.0.1');
  t.ok(passed.passed, 'the status line decides: the check passes');
  t.ok(written < 64 * 1024 * 1024, `the body was not read (${(written / 1024 / 1024).toFixed(1)} MiB written before the checker hung up)`);
});
