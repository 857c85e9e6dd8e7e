/**
 * A check's TCP connection through node:net, for Node.js (the library, the supervisor's native engine and the
 * bundle dist/healthcheck.cjs). The contract is connection.ts's.
 */
import { connect, type Socket } from 'node:net';
import type { Connect, Connection, ConnectionEvents } from './connection.js';
import { MAX_HEADER_BYTES } from './reason.js';

/**
 * Every connection reads into this one buffer (net's `onread`), which spares a Buffer and the stream machinery
 * per read. Sharing is safe: reads are handled one at a time, and the reader copies whatever it keeps.
 */
const readBuffer = Buffer.allocUnsafe(MAX_HEADER_BYTES);

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
          if (this.open) events.data(readBuffer.subarray(0, bytes));
          return true;
        },
      },
    });
    this.socket.once('connect', () => {
      if (this.open) events.connected();
    });
    this.socket.on('error', (err) => {
      if (this.close()) events.failed(err);
    });
    this.socket.on('end', () => {
      if (this.close()) events.ended();
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
