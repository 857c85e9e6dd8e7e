// A raw HTTP/2 server on loopback for the gRPC check's unusual and hostile peers: it reads the client's preface and
// frames and answers with frames each test builds byte by byte, so that what node:http2 would never send (a GOAWAY
// in the middle of a call, a frame larger than allowed, a reply split into CONTINUATIONs) can be sent. Its encoder
// is its own, a few literal forms of RFC 9113 and RFC 7541, independent of src/.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Teardown } from '../checks/fixtures.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const TYPE = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4, PADDED: 8 } as const;

export interface PeerFrame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

export interface PeerConnection {
  readonly socket: Socket;
  /** Every frame the client sent, in order. */
  readonly frames: PeerFrame[];
  send(...bytes: Buffer[]): void;
}

/** One frame: the 9-byte header, then the payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer | readonly number[] = []): Buffer {
  const body = Buffer.from(payload as Uint8Array);
  const head = Buffer.alloc(9);
  head.writeUIntBE(body.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, body]);
}

export function settings(params: readonly (readonly [number, number])[] = []): Buffer {
  const payload = Buffer.alloc(6 * params.length);
  params.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(TYPE.SETTINGS, 0, 0, payload);
}

export function goaway(lastStream: number, code: number, debug = ''): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStream, 0);
  payload.writeUInt32BE(code, 4);
  return frame(TYPE.GOAWAY, 0, 0, Buffer.concat([payload, Buffer.from(debug)]));
}

export function rstStream(stream: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return frame(TYPE.RST_STREAM, 0, stream, payload);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 section 5.1), the prefix's other bits given in `first`. */
function integer(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function text(value: string): number[] {
  const bytes = Buffer.from(value, 'latin1');
  return [...integer(bytes.length, 7, 0), ...bytes];
}

/** A literal header field without indexing, its name a literal too (RFC 7541 section 6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.from([0x00, ...text(name), ...text(value)]);
}

/** A literal header field with incremental indexing, its name a literal (section 6.2.1): it enters the dynamic table. */
export function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.from([0x40, ...text(name), ...text(value)]);
}

/** An indexed header field (section 6.1): static entries 1 to 61, the dynamic table's from 62, newest first. */
export function indexed(index: number): Buffer {
  return Buffer.from(integer(index, 7, 0x80));
}

/** A dynamic table size update (section 6.3). */
export function tableSize(size: number): Buffer {
  return Buffer.from(integer(size, 5, 0x20));
}

/** `:status: 200`, static entry 8. */
export const STATUS_200 = indexed(8);

export function headers(stream: number, block: Buffer, flags: number = FLAG.END_HEADERS): Buffer {
  return frame(TYPE.HEADERS, flags, stream, block);
}

/** A gRPC message: the 5-byte prefix (not compressed), then the bytes. */
export function grpcMessage(message: readonly number[]): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, Buffer.from(message)]);
}

/** A whole SERVING reply on `stream`: headers, the HealthCheckResponse, trailers with grpc-status 0. */
export function servingReply(stream: number): Buffer {
  return Buffer.concat([
    headers(stream, Buffer.concat([STATUS_200, literal('content-type', 'application/grpc')])),
    frame(TYPE.DATA, 0, stream, grpcMessage([0x08, 1])),
    headers(stream, literal('grpc-status', '0'), FLAG.END_HEADERS | FLAG.END_STREAM),
  ]);
}

/**
 * A raw HTTP/2 server: each connection gets `preface` (the server's SETTINGS, an empty one by default) at once, then
 * `onFrame` for every frame of the client's after its preface. Closed, its sockets destroyed, at teardown.
 */
export async function h2Peer(t: Teardown, onFrame: (frame: PeerFrame, connection: PeerConnection) => void, preface: Buffer = settings()): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const connection: PeerConnection = { socket, frames: [], send: (...bytes) => void (socket.destroyed || socket.write(Buffer.concat(bytes))) };
    if (preface.length > 0) socket.write(preface);
    let buffered = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!prefaceSeen) {
        if (buffered.length < PREFACE.length) return;
        if (!buffered.subarray(0, PREFACE.length).equals(PREFACE)) return void socket.destroy();
        prefaceSeen = true;
        buffered = buffered.subarray(PREFACE.length);
      }
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const received: PeerFrame = { type: buffered[3] as number, flags: buffered[4] as number, stream: buffered.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buffered.subarray(9, 9 + length)) };
        buffered = buffered.subarray(9 + length);
        connection.frames.push(received);
        if (!socket.destroyed) onFrame(received, connection);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** The client's request is complete: its HEADERS came, then DATA with END_STREAM (the call's one message). */
export function isRequestEnd(received: PeerFrame): boolean {
  return received.type === TYPE.DATA && (received.flags & FLAG.END_STREAM) !== 0;
}
