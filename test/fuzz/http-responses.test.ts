// A hostile HTTP server on loopback, seeded (LIFEGUARD_SEED): random status lines, headers and bodies, written
// whole or in pieces, with delays, half-closes and resets. Every check against it ends within its timeout (plus a
// margin for a loaded machine) with a documented verdict, and never throws.
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { isDocumentedExitCode } from '../../src/checks/errors.js';
import { httpCheck } from '../../src/checks/http-check.js';
import { seedFromEnv } from '../reliability/seed.js';

const seed = seedFromEnv(8080);
const RUNS = 300;
const TIMEOUT_MS = 300;
const MARGIN_MS = 1500;

const token = fc.string({ unit: 'binary-ascii', maxLength: 12 });
const statusLine = fc.oneof(
  fc.integer({ min: 100, max: 599 }).map((code) => `HTTP/1.1 ${code} X\r\n`),
  fc.tuple(fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/9.9', 'ICY', 'SSH-2.0-x', ''), fc.oneof(fc.integer({ min: -1, max: 1000 }).map(String), token), token).map(
    ([version, code, reason]) => `${version} ${code} ${reason}\r\n`,
  ),
);
const header = fc.oneof(
  fc.constantFrom('Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999', 'Transfer-Encoding: chunked', 'Location: http://example.com/', 'Location: /next', 'Connection: close'),
  fc.tuple(token, token).map(([name, value]) => `${name}: ${value}`),
  fc.integer({ min: 1, max: 40_000 }).map((n) => `X-Big: ${'a'.repeat(n)}`),
  token,
);
const response = fc.record({
  head: fc.tuple(statusLine, fc.array(header, { maxLength: 4 }), fc.boolean()).map(([line, headers, ends]) => line + headers.map((h) => `${h}\r\n`).join('') + (ends ? '\r\n' : '')),
  body: fc.oneof(fc.constant(''), token, fc.constant('5\r\nhello\r\n0\r\n\r\n'), fc.constant('x'.repeat(100_000))),
  pieces: fc.integer({ min: 1, max: 4 }),
  pauseMs: fc.integer({ min: 0, max: 400 }),
  end: fc.constantFrom('close', 'reset', 'hang', 'half-close'),
});
type Response = typeof response extends fc.Arbitrary<infer R> ? R : never;

async function play(socket: Socket, r: Response): Promise<void> {
  const bytes = Buffer.from(r.head + r.body, 'latin1');
  const size = Math.ceil(bytes.length / r.pieces);
  for (let at = 0; at < bytes.length && !socket.destroyed; at += size) {
    socket.write(bytes.subarray(at, at + size));
    if (r.pauseMs > 0) await sleep(r.pauseMs);
  }
  if (r.end === 'close') socket.end();
  else if (r.end === 'reset') socket.resetAndDestroy();
  else if (r.end === 'half-close') socket.end();
  // 'hang': keep the connection open; the check's deadline must end it.
}

t.test(`seed ${seed}: ${RUNS} hostile responses, each check ends in time with a documented code`, async (t) => {
  let current: Response | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (current !== undefined) void play(socket, current);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const codes = new Map<string, number>();
  const late: string[] = [];
  for (const r of fc.sample(response, { seed, numRuns: RUNS })) {
    current = r;
    const began = performance.now();
    const result = await httpCheck({ kind: 'http', port, path: '/health', timeoutMs: TIMEOUT_MS, expectStatus: [{ min: 200, max: 299 }], headers: [], followRedirects: true }, '127.0.0.1');
    const took = performance.now() - began;
    const verdict = result.passed ? 'passed' : `${result.error.code}/${result.error.exitCode}`;
    codes.set(verdict, (codes.get(verdict) ?? 0) + 1);
    if (took > TIMEOUT_MS + MARGIN_MS) late.push(`${took.toFixed(0)}ms: ${JSON.stringify(r.head.slice(0, 60))}`);
    if (!result.passed && !isDocumentedExitCode(result.error.exitCode)) late.push(`undocumented ${verdict}`);
    for (const socket of sockets) socket.destroy();
  }
  t.same(late, [], `verdicts: ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ')}`);
});
