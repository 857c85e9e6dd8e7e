// gRPC health checks against real node:http2 servers on loopback: every ServingStatus, failed calls, TLS, and
// hostile servers (a stream accepted and never answered, a peer that never speaks HTTP/2, a SETTINGS flood).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { decodeReply, encodeRequest } from '../../src/checks/grpc-check.js';
import { runCheck } from '../../src/checks/run-check.js';
import { type CheckResult, GRPC_HEALTH_PATH, type GrpcCheckSpec } from '../../src/checks/types.js';
import { VERSION } from '../../src/checks/version.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { makeCerts, tlsSkip } from '../helpers/tls.js';
import { closedPort, tcpServer } from './fixtures.js';

function grpc(port: number, more: Partial<GrpcCheckSpec> = {}): GrpcCheckSpec {
  return { kind: 'grpc', host: '127.0.0.1', port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 1000, metadata: [], ...more };
}

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

t.test('SERVING passes; the request names the service and carries the deadline, user agent and metadata', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 }, 'shop.Cart': { serving: 1 } });
  t.match(await runCheck(grpc(server.port)), { passed: true });
  t.match(await runCheck(grpc(server.port, { service: 'shop.Cart', metadata: [['X-Token', 'abc']] })), { passed: true });
  t.equal(server.asked[0]?.service, '');
  const second = server.asked[1];
  t.equal(second?.service, 'shop.Cart');
  t.equal(second?.headers[':path'], '/grpc.health.v1.Health/Check');
  t.equal(second?.headers['content-type'], 'application/grpc');
  t.equal(second?.headers['user-agent'], `lifeguard-healthcheck/${VERSION}`);
  t.equal(second?.headers['x-token'], 'abc');
  t.match(second?.headers['grpc-timeout'], /^\d+m$/);
  t.ok(Number(String(second?.headers['grpc-timeout']).slice(0, -1)) <= 1000, 'the deadline left, in ms');
});

t.test("metadata may not replace gRPC's own headers", async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 } });
  t.match(failure(await runCheck(grpc(server.port, { metadata: [['TE', 'gzip']] }))), { code: 'grpc-rpc', message: /: invalid request: metadata TE is gRPC's own$/ });
  t.equal(server.asked.length, 0, 'nothing was sent');
});

t.test('any other ServingStatus fails, naming it: exit 6', async (t) => {
  const server = await grpcHealthServer(t, { a: { serving: 2 }, b: { serving: 3 }, c: { serving: 0 } });
  for (const [service, status] of [['a', 'NOT_SERVING'], ['b', 'SERVICE_UNKNOWN'], ['c', 'UNKNOWN']] as const) {
    t.match(failure(await runCheck(grpc(server.port, { service }))), {
      code: 'grpc-status',
      exitCode: 6,
      message: new RegExp(`^failed gRPC health check of 127\\.0\\.0\\.1:${server.port} for service "${service}": status ${status} in \\d+ms$`),
    });
  }
});

t.test('a failed call names its grpc-status: exit 5', async (t) => {
  const server = await grpcHealthServer(t, { x: { grpcStatus: 12, message: 'unknown service grpc.health.v1.Health' } });
  t.match(failure(await runCheck(grpc(server.port, { service: 'x' }))), { code: 'grpc-rpc', exitCode: 5, message: /: grpc-status 12 \(UNIMPLEMENTED\): unknown service grpc\.health\.v1\.Health$/ });
  t.match(failure(await runCheck(grpc(server.port, { service: 'missing' }))), { code: 'grpc-rpc', message: /: grpc-status 5 \(NOT_FOUND\): unknown service$/ });
});

t.test('connection refused: exit 5, in the connect phase', async (t) => {
  const port = await closedPort();
  t.match(failure(await runCheck(grpc(port))), { code: 'grpc-connect', exitCode: 5, message: `failed gRPC health check of 127.0.0.1:${port}: connect: connection refused` });
});

t.test('a name: localhost is resolved and the address named', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 2 } });
  t.match(failure(await runCheck(grpc(server.port, { host: 'localhost' }))), { message: new RegExp(`^failed gRPC health check of localhost:${server.port} \\(127\\.0\\.0\\.1\\): status NOT_SERVING`) });
});

t.test('a server that accepts the stream and never answers: the call deadline, on time', async (t) => {
  const server = await grpcHealthServer(t, { '': 'never' });
  const started = performance.now();
  t.match(failure(await runCheck(grpc(server.port, { timeoutMs: 300 }))), { code: 'grpc-rpc-timeout', exitCode: 65, message: /: call timed out after 0\.\d\d seconds$/ });
  t.ok(performance.now() - started < 1000, 'not late');
  // Its own call deadline, shorter than the whole check's.
  t.match(failure(await runCheck(grpc(server.port, { timeoutMs: 2000, rpcTimeoutMs: 200 }))), { message: /: call timed out after 0\.20 seconds$/ });
});

t.test('a peer that accepts and never speaks HTTP/2: the connect deadline, on time', async (t) => {
  const port = await tcpServer(t, () => {});
  const started = performance.now();
  t.match(failure(await runCheck(grpc(port, { timeoutMs: 300 }))), { code: 'grpc-connect-timeout', exitCode: 65, message: /: connect timed out after 0\.30 seconds$/ });
  t.ok(performance.now() - started < 1000, 'not late');
});

t.test('an HTTP/1 server on the port: a failed call or connection, never a pass', async (t) => {
  const port = await tcpServer(t, (socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
  t.match(failure(await runCheck(grpc(port))), { exitCode: 5 });
});

t.test('an HTTP/2 SETTINGS flood: ends within the deadline, in bounded memory', async (t) => {
  // A server preface (an empty SETTINGS frame), then SETTINGS frames as fast as the socket takes them.
  const settings = Buffer.from([0, 0, 6, 0x04, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 100]);
  const burst = Buffer.concat(Array.from({ length: 1000 }, () => settings));
  let sent = 0;
  const port = await tcpServer(t, (socket) => {
    const flood = () => {
      while (!socket.destroyed && socket.write(burst)) sent += burst.length;
    };
    socket.on('drain', flood);
    flood();
  });
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  const error = failure(await runCheck(grpc(port, { timeoutMs: 1000 })));
  t.ok(performance.now() - started < 2000, `ended in ${Math.round(performance.now() - started)}ms: ${error.message}`);
  t.ok([5, 65].includes(error.exitCode), 'a failed connection or a timeout');
  t.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, `memory bounded while ${sent} bytes of SETTINGS were sent`);
});

t.test('grpcs', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const server = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) });
  t.match(await runCheck(grpc(server.port, { tls: { skipVerify: false, caFile: certs.caFile } })), { passed: true });
  t.match(await runCheck(grpc(server.port, { host: 'localhost', tls: { skipVerify: false, caFile: certs.caFile } })), { passed: true });
  t.match(failure(await runCheck(grpc(server.port, { tls: { skipVerify: false } }))), { code: 'grpc-tls', exitCode: 5, message: /: tls: certificate signed by an unknown authority$/ });
  t.match(await runCheck(grpc(server.port, { tls: { skipVerify: true } })), { passed: true });
  // A TLS check of a plaintext gRPC server.
  const plain = await grpcHealthServer(t, { '': { serving: 1 } });
  t.match(failure(await runCheck(grpc(plain.port, { tls: { skipVerify: true } }))), { code: 'grpc-tls', message: /: tls: / });
  // A TLS server that never answers the ClientHello: the connect deadline, on time.
  const stall = await tcpServer(t, () => {});
  const started = performance.now();
  t.match(failure(await runCheck(grpc(stall, { tls: { skipVerify: true }, timeoutMs: 1000, connectTimeoutMs: 200 }))), { code: 'grpc-connect-timeout', message: /: connect timed out after 0\.20 seconds$/ });
  t.ok(performance.now() - started < 800, 'not late');
});

t.test('the messages on the wire, encoded and decoded by hand', async (t) => {
  t.same([...encodeRequest('')], [0, 0, 0, 0, 0]);
  t.same([...encodeRequest('ab')], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
  const long = encodeRequest('s'.repeat(200));
  t.same([...long.subarray(0, 8)], [0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01], 'a two-byte varint length');
  t.equal(decodeReply(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
  t.equal(decodeReply(Buffer.from([0, 0, 0, 0, 0])), 0, 'an empty message is UNKNOWN');
  t.equal(decodeReply(Buffer.from([0, 0, 0, 0, 6, 0x12, 2, 0x61, 0x62, 0x08, 2])), 2, 'unknown fields are skipped');
  t.equal(decodeReply(Buffer.from([1, 0, 0, 0, 2, 0x08, 1])), 'compressed reply (never asked for)');
  t.equal(decodeReply(Buffer.from([0, 0, 0, 0, 9, 0x08])), 'reply message cut short');
  t.equal(decodeReply(Buffer.from([0, 0, 0, 0, 1, 0x08])), 'malformed reply message');
});
