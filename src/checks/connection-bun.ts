/**
 * A check's TCP connection through Bun.connect, Bun's native socket, for the single executable built with Bun
 * (scripts/lib/bun-compile.mjs swaps it in for connection-node.ts). In Bun, node:net is a layer of JavaScript
 * streams over these same sockets: loading it and opening one connection through it costs a `once` agent about
 * 6 ms of CPU at every start, against about 0.3 ms for Bun.connect. The contract is connection.ts's.
 */
import { type Chunks, type Connect, type Connection, type ConnectionEvents, isReset, socketError } from './connection.js';

/** The part of Bun's API used here (no Bun types are installed: the library and supervisor run on Node). */
interface BunRuntime {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: BunSocket): void;
      binaryType: 'buffer' | 'uint8array';
      data(socket: BunSocket, bytes: Uint8Array): void;
      drain(socket: BunSocket): void;
      end(socket: BunSocket): void;
      close(socket: BunSocket, err: Error | undefined): void;
      error(socket: BunSocket, err: Error): void;
      connectError(socket: BunSocket, err: Error): void;
      close(socket: BunSocket, err?: Error): void;
    };
  }): Promise<BunSocket>;
  udpSocket(options: { connect: { hostname: string; port: number } }): Promise<{ close(): void }>;
}
interface BunSocket {
  write(bytes: Uint8Array): number;
  terminate(): void;
}

const runtime = (globalThis as { Bun?: BunRuntime }).Bun;

/**
 * connection-node.ts's question for node:net sockets (dial.ts asks it of its TLS sockets), answered for Bun: never.
 * Bun's node:net reports a reset behind data as an error, and by its `end` the descriptor may be closed and reused.
 */
export function resetBehindEnd(_socket: unknown): Error | undefined {
  return undefined;
}

/**
 * What a connect that Bun reports as refused really met, if it was not a refusal. Bun reports a socket it could not
 * make (socket(2) or connect(2) failing at once: EMFILE, ENETUNREACH...) as ECONNREFUSED, whatever the errno was, and
 * Bun.connect does so before it returns (Bun 1.4.5, src/bun.js/api/bun/socket/Listener.zig, connect:
 * `doConnect(connection) catch handleConnectError(ECONNREFUSED)`); its node:net, on the same code, does the same.
 * A UDP socket connected to the same address makes the same socket(2) and the same route lookup, sends nothing, and
 * Bun gives its errno. Undefined when it works: then the refusal was one.
 */
export async function refusalCause(host: string, port: number): Promise<Error | undefined> {
  if (runtime === undefined) return undefined;
  try {
    (await runtime.udpSocket({ connect: { hostname: host, port } })).close();
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? socketError('connect', code) : undefined;
  }
}

export const openConnection: Connect = (host, port, events, chunks) => {
  if (runtime === undefined) throw new Error('connection-bun.ts runs under Bun only');
  return new BunConnection(runtime, host, port, events, chunks);
};

/** Owns one Bun socket; the state says whether events still reach the check and whether bytes wait to go out. */
class BunConnection implements Connection {
  private state: 'connecting' | 'open' | 'closed' = 'connecting';
  private socket: BunSocket | undefined;
  /** Bytes not yet taken by the kernel: queued before `open`, or the tail of a partial write. */
  private pending: Uint8Array | undefined;
  /** True while inside Bun.connect, which reports a socket it could not make before it returns. */
  private starting = true;
  /**
   * A write that Bun refused (-1): send(2) failed, which on a connection that was open means the peer reset it.
   * The send took the socket's error, so Bun's read then meets a bare end of stream and closes without an error
   * (Bun 1.4.5: `write` -1, then `end`, then `close` with none): the reset must come from here.
   */
  private writeRefused = false;

  constructor(
    runtime: BunRuntime,
    private readonly host: string,
    private readonly port: number,
    private readonly events: ConnectionEvents,
    chunks: Chunks,
  ) {
    const self = this;
    runtime
      .connect({
        hostname: host,
        port,
        socket: {
          // Bun's binaryType: Buffers (its default) or plain Uint8Arrays, as the connection's reader asked.
          binaryType: chunks,
          open(socket) {
            self.socket = socket;
            if (self.state === 'closed') return socket.terminate();
            self.state = 'open';
            self.events.connected();
            self.flush();
          },
          data(_socket, bytes) {
            if (self.state === 'open') self.events.data(bytes);
          },
          drain() {
            self.flush();
          },
          end() {
            if (self.close()) self.ended();
          },
          // A socket error once connected (a reset above all) comes here, as the close's argument, and only here:
          // Bun calls `error` for a handler that throws and for TLS failures, never for the socket (Bun 1.4.5,
          // src/bun.js/api/bun/socket.zig, onClose). Without this handler a reset went unseen and the check
          // waited for its deadline. A close without an error that no `end` came before is the peer's close too.
          close(_socket, err) {
            if (!self.close()) return;
            if (err === undefined) self.ended();
            else self.events.failed(err);
          },
          error(_socket, err) {
            if (self.close()) self.events.failed(err);
          },
          connectError(_socket, err) {
            if (self.starting) return void self.madeNoSocket();
            if (self.state !== 'connecting') return;
            // A reset seen by the connect: the handshake was done, then reset (a refusal is ECONNREFUSED).
            if (isReset(err)) self.events.connected();
            if (self.close()) self.events.failed(err);
          },
        },
      })
      // The rejection repeats connectError, already delivered.
      .catch(() => {});
    this.starting = false;
  }

  write(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    this.pending = this.pending === undefined ? bytes : concat(this.pending, bytes);
    if (this.state === 'open') this.flush();
  }

  // Bun's terminate() closes with a reset, so both ways out are one here.
  destroy(): void {
    this.close();
  }

  reset(): void {
    this.close();
  }

  private flush(): void {
    if (this.pending === undefined || this.socket === undefined || this.state !== 'open') return;
    const written = this.socket.write(this.pending);
    if (written < 0) {
      this.writeRefused = true;
      this.pending = undefined;
      return;
    }
    this.pending = written >= this.pending.length ? undefined : this.pending.subarray(written);
  }

  /** The stream's end as Bun reports it: the peer's close, or a reset that a refused write took the error of. */
  private ended(): void {
    if (this.writeRefused) this.events.failed(socketError('write', 'ECONNRESET'));
    else this.events.ended();
  }

  /** Bun.connect could not make the socket: the reason is refusalCause's, after openConnection has returned. */
  private async madeNoSocket(): Promise<void> {
    // Not a moment before openConnection has returned (udpSocket may throw at once, as Bun.connect reported).
    await null;
    const reason = (await refusalCause(this.host, this.port)) ?? Object.assign(new Error('connect: the socket could not be made'), { syscall: 'connect' });
    if (this.close()) this.events.failed(reason);
  }

  /** True for the first close, which ends the events; the socket, if there is one yet, goes with it. */
  private close(): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    this.pending = undefined;
    this.socket?.terminate();
    return true;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
