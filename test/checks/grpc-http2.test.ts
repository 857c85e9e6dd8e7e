// The gRPC check's own HTTP/2 client (src/checks/http2/) against raw HTTP/2 peers on loopback that send, byte by
// byte, what node:http2 servers seldom or never do: GOAWAY and RST_STREAM in the call, PING, a frame larger than
// allowed, replies in CONTINUATIONs with padding, Huffman-coded and dynamically indexed fields, a small frame size
// and a closed flow-control window, gzip-compressed replies, silence.
import { gzipSync } from 'node:zlib';
import t from 'tap';
import type { Teardown } from './fixtures.js';
import { runCheck } from '../../src/checks/run-check.js';
import { type CheckResult, GRPC_HEALTH_PATH, type GrpcCheckSpec } from '../../src/checks/types.js';
import {
  FLAG,
  frame,
  goaway,
  grpcMessage,
  h2Peer,
  headers,
  indexed,
  indexedLiteral,
  isRequestEnd,
  literal,
  type PeerConnection,
  type PeerFrame,
  rstStream,
  servingReply,
  settings,
  STATUS_200,
  tableSize,
  TYPE,
} from '../helpers/h2-peer.js';

function grpc(port: number, more: Partial<GrpcCheckSpec> = {}): GrpcCheckSpec {
  return { kind: 'grpc', host: '127.0.0.1', port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 2000, metadata: [], ...more };
}

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

/** Answers the request, once its one message has come, with `reply`. */
const onRequest = (reply: (connection: PeerConnection) => void) => (received: PeerFrame, connection: PeerConnection) => {
  if (isRequestEnd(received)) reply(connection);
};

const GRPC_HEAD = Buffer.concat([STATUS_200, literal('content-type', 'application/grpc')]);
const prefix = (port: number) => `failed gRPC health check of 127.0.0.1:${port}: `;

t.test('the client speaks first as RFC 9113 says: preface, SETTINGS without push, then one request on stream 1', async (t) => {
  let seen: PeerFrame[] = [];
  const port = await h2Peer(t, onRequest((c) => {
    seen = [...c.frames];
    c.send(servingReply(1));
  }));
  t.match(await runCheck(grpc(port)), { passed: true });
  t.same(seen.map((f) => [f.type, f.flags, f.stream]), [[TYPE.SETTINGS, 0, 0], [TYPE.SETTINGS, FLAG.ACK, 0], [TYPE.HEADERS, FLAG.END_HEADERS, 1], [TYPE.DATA, FLAG.END_STREAM, 1]]);
  t.same([...(seen[0]?.payload ?? [])], [0, 2, 0, 0, 0, 0], 'SETTINGS_ENABLE_PUSH 0');
  t.same([...(seen[3]?.payload ?? [])], [0, 0, 0, 0, 0], 'the HealthCheckRequest of service ""');
});

/** A peer that answers the n-th request (1, 2, ...) with `reply(n)`; `requests()` says how many came, on any connection. */
async function countingPeer(t: Teardown, reply: (n: number, c: PeerConnection) => void) {
  let n = 0;
  const connections = new Set<PeerConnection>();
  const port = await h2Peer(t, (received, c) => {
    connections.add(c);
    if (isRequestEnd(received)) reply(++n, c);
  });
  return { port, requests: () => n, connections: () => connections.size };
}

t.test('GOAWAY that leaves the call unprocessed (last stream 0): sent again once on a new connection, as grpc-go does; a second fails it, naming the code (exit 5)', async (t) => {
  for (const [code, name] of [[1, 'PROTOCOL_ERROR'], [0, 'NO_ERROR'], [11, 'ENHANCE_YOUR_CALM']] as const) {
    const peer = await countingPeer(t, (_, c) => c.send(goaway(0, code, 'bye')));
    t.match(failure(await runCheck(grpc(peer.port))), { code: 'grpc-rpc', exitCode: 5, message: `${prefix(peer.port)}the server sent GOAWAY (${name})` });
    t.same([peer.requests(), peer.connections()], [2, 2], `${name}: two requests, two connections`);
  }
  const once = await countingPeer(t, (n, c) => {
    if (n > 1) return c.send(servingReply(1));
    c.send(goaway(0, 0));
    c.socket.end();
  });
  t.match(await runCheck(grpc(once.port)), { passed: true }, 'the first connection goes away, the second answers');
  t.equal(once.requests(), 2);
});

t.test('GOAWAY that covers the call (last stream 1): the reply still counts, whatever the code, as grpc-go takes it', async (t) => {
  for (const code of [0, 1, 11]) {
    const port = await h2Peer(t, onRequest((c) => c.send(goaway(1, code), servingReply(1))));
    t.match(await runCheck(grpc(port)), { passed: true }, `GOAWAY(1, ${code}), then the reply`);
  }
  // The reserved bit of the last stream is ignored.
  const reserved = await h2Peer(t, onRequest((c) => c.send(goaway(0x80000001, 0), servingReply(1))));
  t.match(await runCheck(grpc(reserved)), { passed: true }, 'last stream 1 with the reserved bit set');
  const closing = await h2Peer(t, onRequest((c) => {
    c.send(goaway(1, 0));
    c.socket.end();
  }));
  t.match(failure(await runCheck(grpc(closing))), { code: 'grpc-rpc', exitCode: 5, message: `${prefix(closing)}the server sent GOAWAY (NO_ERROR), then connection closed before a reply` });
  const lowered = await h2Peer(t, onRequest((c) => c.send(goaway(1, 0), goaway(0, 0))));
  t.match(failure(await runCheck(grpc(lowered))), { message: `${prefix(lowered)}the server sent GOAWAY (NO_ERROR)` }, 'a second GOAWAY that no longer covers it');
  const silent = await h2Peer(t, onRequest((c) => c.send(goaway(1, 0))));
  t.match(failure(await runCheck(grpc(silent, { timeoutMs: 300 }))), { code: 'grpc-rpc-timeout' }, 'then nothing: the call deadline');
});

t.test('RST_STREAM: an error code fails the call naming it; NO_ERROR after the whole reply does not', async (t) => {
  // REFUSED_STREAM says the call was not processed: sent again once, as grpc-go does.
  const refused = await countingPeer(t, (_, c) => c.send(rstStream(1, 7)));
  t.match(failure(await runCheck(grpc(refused.port))), { code: 'grpc-rpc', message: `${prefix(refused.port)}the server reset the stream (REFUSED_STREAM)` });
  t.equal(refused.requests(), 2, 'REFUSED_STREAM: the call was sent twice');
  const refusedOnce = await countingPeer(t, (n, c) => c.send(n === 1 ? rstStream(1, 7) : servingReply(1)));
  t.match(await runCheck(grpc(refusedOnce.port)), { passed: true }, 'refused once, answered the second time');
  // The retry tells the server what is left of the call's deadline, not a new one.
  const timeouts: number[] = [];
  const slow = await h2Peer(t, (received, c) => {
    if (received.type === TYPE.HEADERS) timeouts.push(Number(/grpc-timeout.(\d+)m/s.exec(received.payload.toString('latin1'))?.[1]));
    if (isRequestEnd(received)) setTimeout(() => c.send(timeouts.length === 1 ? rstStream(1, 7) : servingReply(1)), 100);
  });
  t.match(await runCheck(grpc(slow, { timeoutMs: 2000 })), { passed: true });
  t.ok(timeouts.length === 2 && (timeouts[1] as number) <= (timeouts[0] as number) - 90, `grpc-timeout ${timeouts.join('m, then ')}m`);
  const midway = await h2Peer(t, onRequest((c) => c.send(headers(1, GRPC_HEAD), rstStream(1, 2))));
  t.match(failure(await runCheck(grpc(midway))), { message: `${prefix(midway)}the server reset the stream (INTERNAL_ERROR)` });
  const quiet = await h2Peer(t, onRequest((c) => c.send(rstStream(1, 0))));
  t.match(failure(await runCheck(grpc(quiet))), { message: `${prefix(quiet)}stream closed before a reply` });
  const done = await h2Peer(t, onRequest((c) => c.send(servingReply(1), rstStream(1, 0))));
  t.match(await runCheck(grpc(done)), { passed: true });
});

t.test('PING is answered with its payload: a server that answers the call only after the ACK passes', async (t) => {
  const acks: Buffer[] = [];
  const port = await h2Peer(t, (received, c) => {
    if (isRequestEnd(received)) c.send(frame(TYPE.PING, 0, 0, Buffer.from('lifeguar')));
    if (received.type === TYPE.PING) {
      acks.push(received.payload);
      if (received.flags === FLAG.ACK && received.payload.toString() === 'lifeguar') c.send(servingReply(1));
    }
  });
  t.match(await runCheck(grpc(port)), { passed: true });
  t.same(acks.map(String), ['lifeguar']);
});

t.test('a frame larger than the 16384 bytes allowed: a connection error, the server told with GOAWAY', async (t) => {
  let told: (frame: PeerFrame) => void = () => {};
  const goawaySeen = new Promise<PeerFrame>((resolve) => (told = resolve));
  const port = await h2Peer(t, (received, c) => {
    if (isRequestEnd(received)) c.send(headers(1, GRPC_HEAD), frame(TYPE.DATA, 0, 1, Buffer.alloc(20_000)));
    if (received.type === TYPE.GOAWAY) told(received);
  });
  t.match(failure(await runCheck(grpc(port))), { code: 'grpc-rpc', message: `${prefix(port)}HTTP/2: a frame of 20000 bytes, more than the 16384 allowed (FRAME_SIZE_ERROR)` });
  t.same([...(await goawaySeen).payload], [0, 0, 0, 0, 0, 0, 0, 6], 'GOAWAY, last stream 0, FRAME_SIZE_ERROR');
});

t.test('a server that does not speak HTTP/2: a connection failure naming it, at once', async (t) => {
  const http1 = await h2Peer(t, () => {}, Buffer.from('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
  t.match(failure(await runCheck(grpc(http1))), { code: 'grpc-connect', exitCode: 5, message: `${prefix(http1)}HTTP/2: the server's first frame is not SETTINGS: not an HTTP/2 server? (PROTOCOL_ERROR)` });
  const ping = await h2Peer(t, () => {}, frame(TYPE.PING, 0, 0, Buffer.alloc(8)));
  t.match(failure(await runCheck(grpc(ping))), { code: 'grpc-connect', message: /first frame is not SETTINGS/ });
  const badSettings = await h2Peer(t, () => {}, frame(TYPE.SETTINGS, 0, 0, Buffer.alloc(5)));
  t.match(failure(await runCheck(grpc(badSettings))), { code: 'grpc-connect', message: /HTTP\/2: SETTINGS of 5 bytes, not a multiple of 6 \(FRAME_SIZE_ERROR\)$/ });
});

t.test('silence: no SETTINGS is the connect deadline, no answer the call deadline, each on time', async (t) => {
  const mute = await h2Peer(t, () => {}, Buffer.alloc(0));
  let started = performance.now();
  t.match(failure(await runCheck(grpc(mute, { timeoutMs: 2000, connectTimeoutMs: 200 }))), { code: 'grpc-connect-timeout', message: /: connect timed out after 0\.20 seconds$/ });
  t.ok(performance.now() - started < 1000, 'not late');
  const deaf = await h2Peer(t, () => {});
  started = performance.now();
  t.match(failure(await runCheck(grpc(deaf, { timeoutMs: 300 }))), { code: 'grpc-rpc-timeout', exitCode: 65, message: /: call timed out after 0\.\d\d seconds$/ });
  t.ok(performance.now() - started < 1000, 'not late');
});

t.test('trailers-only replies: grpc-status and its percent-encoded message in the one header block', async (t) => {
  const block = Buffer.concat([GRPC_HEAD, literal('grpc-status', '14'), literal('grpc-message', 'draining%20for%20a%20deploy')]);
  const port = await h2Peer(t, onRequest((c) => c.send(headers(1, block, FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(failure(await runCheck(grpc(port))), { code: 'grpc-rpc', message: `${prefix(port)}grpc-status 14 (UNAVAILABLE): draining for a deploy` });
  const http503 = await h2Peer(t, onRequest((c) => c.send(headers(1, Buffer.concat([literal(':status', '503'), literal('grpc-status', '14')]), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(failure(await runCheck(grpc(http503))), { message: `${prefix(http503)}HTTP status 503: not a gRPC server?` });
  const bare = await h2Peer(t, onRequest((c) => c.send(headers(1, indexed(13), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(failure(await runCheck(grpc(bare))), { message: `${prefix(bare)}reply without a grpc-status` });
});

t.test('a reply in HEADERS and CONTINUATIONs, padded and with a priority: read whole', async (t) => {
  // HEADERS: pad length 3, the priority's 5 bytes, 4 bytes of the block, 3 of padding; then two CONTINUATIONs.
  const first = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 16]), GRPC_HEAD.subarray(0, 4), Buffer.alloc(3)]);
  const port = await h2Peer(t, onRequest((c) =>
    c.send(
      frame(TYPE.HEADERS, FLAG.PADDED | 0x20, 1, first),
      frame(TYPE.CONTINUATION, 0, 1, GRPC_HEAD.subarray(4, 10)),
      frame(TYPE.CONTINUATION, FLAG.END_HEADERS, 1, GRPC_HEAD.subarray(10)),
      frame(TYPE.DATA, FLAG.PADDED, 1, Buffer.concat([Buffer.from([2]), grpcMessage([0x08, 1]), Buffer.alloc(2)])),
      frame(TYPE.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, literal('grpc-status', '0')),
    ),
  ));
  t.match(await runCheck(grpc(port)), { passed: true });
  const interrupted = await h2Peer(t, onRequest((c) => c.send(frame(TYPE.HEADERS, 0, 1, GRPC_HEAD.subarray(0, 4)), frame(TYPE.PING, 0, 0, Buffer.alloc(8)))));
  t.match(failure(await runCheck(grpc(interrupted))), { message: /HTTP\/2: a PING frame inside a header block \(PROTOCOL_ERROR\)$/ });
  const overPadded = await h2Peer(t, onRequest((c) => c.send(frame(TYPE.DATA, FLAG.PADDED, 1, Buffer.from([9, 0, 0])))));
  t.match(failure(await runCheck(grpc(overPadded))), { message: /HTTP\/2: DATA with more padding than payload \(PROTOCOL_ERROR\)$/ });
});

t.test('Huffman-coded and dynamically indexed fields: the trailers name an entry the headers made', async (t) => {
  // cache-control: private, Huffman-coded and indexed (RFC 7541 C.6.1's bytes); grpc-status: 0, its value
  // Huffman-coded ("0" is 00000, padded with 111) and indexed; then trailers that are only index 62, grpc-status: 0.
  const head = Buffer.concat([tableSize(256), STATUS_200, Buffer.from('5885aec3771a4b', 'hex'), Buffer.from([0x40, 11, ...Buffer.from('grpc-status'), 0x81, 0x07])]);
  const port = await h2Peer(t, onRequest((c) => c.send(headers(1, head), frame(TYPE.DATA, 0, 1, grpcMessage([0x08, 1])), headers(1, indexed(62), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(await runCheck(grpc(port)), { passed: true });
  const notServing = await h2Peer(t, onRequest((c) => c.send(headers(1, Buffer.concat([STATUS_200, indexedLiteral('grpc-status', '0')])), frame(TYPE.DATA, 0, 1, grpcMessage([0x08, 2])), headers(1, indexed(62), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(failure(await runCheck(grpc(notServing))), { code: 'grpc-status', message: /status NOT_SERVING in \d+ms$/ });
  // The table emptied by a size update: the same index names nothing.
  const emptied = await h2Peer(t, onRequest((c) => c.send(headers(1, Buffer.concat([STATUS_200, indexedLiteral('grpc-status', '0')])), headers(1, Buffer.concat([tableSize(0), indexed(62)]), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(failure(await runCheck(grpc(emptied))), { message: `${prefix(emptied)}HTTP/2: a header block that does not decode: index 62 is not in the table (COMPRESSION_ERROR)` });
});

t.test("the server's frame size and flow control: a large request in CONTINUATIONs, the body held for WINDOW_UPDATE", async (t) => {
  let seen: PeerFrame[] = [];
  const port = await h2Peer(
    t,
    (received, c) => {
      // The window opens only after the request's headers, 3 bytes, then more.
      if (received.type === TYPE.HEADERS) {
        const increment = Buffer.alloc(4);
        increment.writeUInt32BE(3);
        c.send(frame(TYPE.WINDOW_UPDATE, 0, 1, increment));
        setImmediate(() => c.send(frame(TYPE.WINDOW_UPDATE, 0, 1, Buffer.from([0, 0, 0, 100]))));
      }
      if (isRequestEnd(received)) {
        seen = [...c.frames];
        c.send(servingReply(1));
      }
    },
    settings([[5, 16_384], [4, 0]]),
  );
  t.match(await runCheck(grpc(port, { service: 'shop.Cart', metadata: [['x-large', 'v'.repeat(40_000)]] })), { passed: true });
  const request = seen.filter((f) => f.stream === 1);
  t.same(request.map((f) => f.type), [TYPE.HEADERS, TYPE.CONTINUATION, TYPE.CONTINUATION, TYPE.DATA, TYPE.DATA]);
  t.ok(request.every((f) => f.payload.length <= 16_384), 'no frame past the frame size');
  t.same(request.map((f) => f.flags & FLAG.END_HEADERS), [0, 0, FLAG.END_HEADERS, 0, 0]);
  t.same(request.filter((f) => f.type === TYPE.DATA).map((f) => f.payload.length), [3, 13], 'the 16-byte request, 3 bytes first, none before the window opened');
});

t.test('a reply past 64 KiB: our WINDOW_UPDATEs let it flow, and it fails as too large', async (t) => {
  const port = await h2Peer(t, (received, c) => {
    if (isRequestEnd(received)) c.send(headers(1, GRPC_HEAD), ...Array.from({ length: 4 }, () => frame(TYPE.DATA, 0, 1, Buffer.alloc(16_000))));
    // A server may send more only as the client gives the window back.
    if (received.type === TYPE.WINDOW_UPDATE && received.stream === 1) c.send(frame(TYPE.DATA, 0, 1, Buffer.alloc(16_000)));
  });
  t.match(failure(await runCheck(grpc(port))), { code: 'grpc-rpc', message: `${prefix(port)}reply larger than 65536 bytes` });
});

t.test('gzip-compressed replies: read when the check asked for gzip, refused when it did not', async (t) => {
  const compressed = gzipSync(Buffer.from([0x08, 1]));
  const reply = Buffer.concat([Buffer.from([1]), Buffer.from([0, 0, 0, compressed.length]), compressed]);
  const port = await h2Peer(t, onRequest((c) => c.send(headers(1, GRPC_HEAD), frame(TYPE.DATA, 0, 1, reply), headers(1, literal('grpc-status', '0'), FLAG.END_HEADERS | FLAG.END_STREAM))));
  t.match(await runCheck(grpc(port, { compression: 'gzip' })), { passed: true });
  t.match(failure(await runCheck(grpc(port))), { message: `${prefix(port)}compressed reply (never asked for)` });
});

t.test('a SETTINGS flood: refused after 100, at once, the server told to calm down', async (t) => {
  const flood = Buffer.concat(Array.from({ length: 500 }, () => settings([[3, 100]])));
  const port = await h2Peer(t, () => {}, flood);
  t.match(failure(await runCheck(grpc(port))), { code: 'grpc-rpc', message: `${prefix(port)}HTTP/2: more than 100 SETTINGS and PING frames (ENHANCE_YOUR_CALM)` });
});

t.test('metadata that HTTP/2 cannot carry is refused before anything is sent', async (t) => {
  const port = await h2Peer(t, onRequest((c) => c.send(servingReply(1))));
  for (const [metadata, reason] of [
    [[['x a', '1']], 'metadata name "x a" is not a token'],
    [[['x-a', 'one\ntwo']], 'the value of metadata x-a holds a character not allowed there (CR, LF or another control)'],
    [[['Connection', 'close']], "metadata Connection is HTTP/1's own, which HTTP/2 forbids"],
  ] as const) {
    t.match(failure(await runCheck(grpc(port, { metadata: metadata as unknown as [string, string][] }))), { code: 'grpc-rpc', message: `${prefix(port)}invalid request: ${reason}` });
  }
});
