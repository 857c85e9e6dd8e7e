/**
 * A check's TCP connection through node:net, for Node.js (the library, the supervisor's native engine and the
 * bundle dist/healthcheck.cjs). The contract is connection.ts's.
 */
import { readSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { type Connect, type Connection, type ConnectionEvents, isReset } from './connection.js';
import { MAX_HEADER_BYTES } from './reason.js';

/**
 * Every plain connection reads into this one buffer (net's `onread` here, libuv's handle in connection-handle.ts),
 * which spares a Buffer and the stream machinery per read. Sharing is safe: reads are handled one at a time, and the
 * reader copies whatever it keeps.
 */
export const readBuffer = Buffer.allocUnsafe(MAX_HEADER_BYTES);

/**
 * The last view of it handed out. An app answers its health check with as many bytes each time, so the view of that
 * many is made once, not at every read (a typed array made and its buffer looked up: ~450 instructions by callgrind).
 */
let lastView = readBuffer.subarray(0, 0);

/** The first `bytes` bytes of the read buffer; valid until the next read, as the buffer itself. */
export function readView(bytes: number): Buffer {
  if (lastView.length !== bytes) lastView = readBuffer.subarray(0, bytes);
  return lastView;
}

/** connection-bun.ts's question, for Bun's refusals that are not; node:net gives the errno itself. */
export async function refusalCause(_host: string, _port: number): Promise<Error | undefined> {
  return undefined;
}

export const openConnection: Connect = (host, port, events) => new NodeConnection(host, port, events);

class NodeConnection implements Connection {
  private open = true;
  private readonly socket: Socket;

  constructor(host: string, port: number, events: ConnectionEvents) {
    this.socket = connect({
      host,
      port,
      onread: {
        buffer: readBuffer,
        callback: (bytes: number) => {
          if (this.open) events.data(readView(bytes));
          return true;
        },
      },
    });
    let connected = false;
    this.socket.once('connect', () => {
      connected = true;
      if (this.open) events.connected();
    });
    this.socket.on('error', (err) => {
      if (!this.open) return;
      // A reset seen by the connect: the handshake was done, the peer reset it before we looked (a refusal is
      // ECONNREFUSED). The connection was made; Bun's layer says the same.
      if (!connected && isReset(err)) events.connected();
      if (this.close()) events.failed(err);
    });
    this.socket.on('end', () => {
      if (!this.open) return;
      const reset = resetBehindEnd(this.socket);
      if (this.close()) {
        if (reset === undefined) events.ended();
        else events.failed(reset);
      }
    });
  }

  write(bytes: Uint8Array): void {
    // net queues what is written before the connection is up and sends it once it is.
    if (this.open) this.socket.write(bytes);
  }

  destroy(): void {
    this.close();
  }

  reset(): void {
    if (!this.open) return;
    this.open = false;
    this.socket.resetAndDestroy();
  }

  private close(): boolean {
    if (!this.open) return false;
    this.open = false;
    this.socket.destroy();
    return true;
  }
}

const probe = Buffer.alloc(1);

/**
 * The reset behind an `end`, if that is what it was. libuv reports a reset that comes behind data as the end of the
 * stream: after a short read it takes EPOLLHUP for an end without reading again (uv__stream_io's "short-circuit iff
 * POLLHUP"), and the reset's error stays in the socket, unread, so that `HTTP/1.1 2` then a reset read as a FIN
 * most of the time. One more read(2) of the descriptor tells them apart: 0 after a FIN, ECONNRESET after a reset.
 * For this layer's sockets, and for the node:net sockets under TLS and gRPC (dial.ts), still open at their `end`.
 */
export function resetBehindEnd(socket: Socket): Error | undefined {
  return resetBehindEof((socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd);
}

/** The same question, asked of a libuv handle's descriptor (connection-handle.ts), still open at its end. */
export function resetBehindEof(fd: unknown): Error | undefined {
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    readSync(fd, probe, 0, 1, null);
  } catch (err) {
    if (isReset(err as Error)) return err as Error;
  }
  return undefined;
}
