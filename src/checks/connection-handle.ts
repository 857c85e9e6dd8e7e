/**
 * A check's TCP connection on libuv's TCP handle itself, for Node.js: the one node:net wraps in a net.Socket.
 * A check writes one request and reads one response head, and the Socket around the handle (a Duplex stream
 * with its two states, its event emitter, its write queue, its destroy machinery) costs more CPU than the
 * connection: measured on one loopback GET, ~150 µs of CPU through net.Socket against ~63 µs on the handle.
 * A supervisor checking thousands of apps pays that difference all day.
 *
 * The handle is reached through process.binding('tcp_wrap'), which Node deprecates in its documentation only
 * (DEP0111) and still offers; where it is missing, or where asking for it would print a warning
 * (--pending-deprecation), connections go through node:net (connection-node.ts). The Bun build replaces this
 * file with connection-bun.ts. The contract is connection.ts's.
 */
import { getSystemErrorName } from 'node:util';
import { type Connect, type Connection, type ConnectionEvents, isReset, socketError } from './connection.js';
import { openConnection as openSocketConnection, readBuffer, readView, resetBehindEof } from './connection-node.js';

// What dial.ts asks of its node:net sockets (TLS, Unix sockets), from here so that the Bun build swaps them with the rest.
export { refusalCause, resetBehindEnd } from './connection-node.js';

/** The part of libuv's TCP handle (src/tcp_wrap.cc, src/stream_base.cc) used here. */
interface TcpHandle {
  readonly fd: number;
  /** Called with the handle as `this`. */
  onread: (this: TcpHandle) => void;
  /** Ours: the connection the handle's shared callbacks go to (no closure per connection). */
  owner?: HandleConnection;
  connect(req: ConnectRequest, address: string, port: number): number;
  connect6(req: ConnectRequest, address: string, port: number): number;
  useUserBuffer(buffer: Buffer): void;
  readStart(): number;
  writeBuffer(req: WriteRequest, bytes: Uint8Array): number;
  reset(): number;
  close(): void;
}
interface ConnectRequest {
  oncomplete: (status: number, handle: TcpHandle) => void;
}
interface WriteRequest {
  handle: TcpHandle | undefined;
  /** Called with the request as `this`. */
  oncomplete: (this: WriteRequest, status: number) => void;
  async: boolean;
  buffer: Uint8Array | null;
}
interface Bindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => ConnectRequest;
  readonly WriteWrap: new () => WriteRequest;
  readonly socketType: number;
  /** Where a read's byte count (or error) and whether a write went asynchronous are left (stream_base.h). */
  readonly state: Int32Array;
  readonly readBytesOrError: number;
  readonly lastWriteWasAsync: number;
  readonly eof: number;
}

function bindings(): Bindings | undefined {
  const legacy = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
  const pending = process.execArgv.includes('--pending-deprecation') || (process.env.NODE_OPTIONS ?? '').includes('--pending-deprecation') || process.env.NODE_PENDING_DEPRECATION === '1';
  if (typeof legacy !== 'function' || pending) return undefined;
  try {
    const tcp = legacy('tcp_wrap') as { TCP?: Bindings['TCP']; TCPConnectWrap?: Bindings['TCPConnectWrap']; constants?: { SOCKET?: number } };
    const stream = legacy('stream_wrap') as { WriteWrap?: Bindings['WriteWrap']; streamBaseState?: Int32Array; kReadBytesOrError?: number; kLastWriteWasAsync?: number };
    const uv = legacy('uv') as { UV_EOF?: number };
    const { TCP, TCPConnectWrap, constants } = tcp;
    const { WriteWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = stream;
    if (TCP === undefined || TCPConnectWrap === undefined || constants?.SOCKET === undefined || WriteWrap === undefined || streamBaseState === undefined) return undefined;
    if (kReadBytesOrError === undefined || kLastWriteWasAsync === undefined || uv.UV_EOF === undefined) return undefined;
    return { TCP, TCPConnectWrap, WriteWrap, socketType: constants.SOCKET, state: streamBaseState, readBytesOrError: kReadBytesOrError, lastWriteWasAsync: kLastWriteWasAsync, eof: uv.UV_EOF };
  } catch {
    return undefined;
  }
}

const uv = bindings();


/** A write request whose write was done at once; StreamBase keeps nothing of such a request (stream_base.cc). */
let spareWrite: WriteRequest | undefined;

export const openConnection: Connect = uv === undefined ? openSocketConnection : (host, port, events) => new HandleConnection(uv, host, port, events);

/** A libuv status as node:net reports it, its number in `errno` too. */
function uvError(status: number, syscall: string): Error {
  return Object.assign(socketError(syscall, getSystemErrorName(status)), { errno: status });
}

/**
 * Owns one handle from its creation to its close. `connecting` queues what is written; `open` reads and
 * writes; `closed` is for good and delivers nothing more: once closed, libuv calls nothing back.
 */
class HandleConnection implements Connection {
  private state: 'connecting' | 'open' | 'closed' = 'connecting';
  private readonly handle: TcpHandle;
  private pending: Uint8Array | undefined;

  constructor(
    private readonly uv: Bindings,
    host: string,
    port: number,
    private readonly events: ConnectionEvents,
  ) {
    const handle = new uv.TCP(uv.socketType);
    this.handle = handle;
    handle.owner = this;
    const req = new uv.TCPConnectWrap();
    req.oncomplete = connectDone;
    let err = host.includes(':') ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    let syscall = 'connect';
    if (err === 0) {
      // Reading starts with the connect, not once it is up: libuv then watches the socket for both at once
      // and a check spares an epoll_ctl. Nothing is read before the connect completes.
      handle.useUserBuffer(readBuffer);
      handle.onread = onRead;
      err = handle.readStart();
      syscall = 'read';
    }
    // A synchronous refusal (a bad address) is told like an asynchronous one, after the caller has the connection.
    if (err !== 0) queueMicrotask(() => this.fail(uvError(err, syscall)));
  }

  write(bytes: Uint8Array): void {
    if (this.state === 'connecting') this.pending = this.pending === undefined ? bytes : Buffer.concat([this.pending, bytes]);
    else if (this.state === 'open') this.send(bytes);
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handle.close();
  }

  reset(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // uv_tcp_close_reset: SO_LINGER 0, then close; it refuses a handle that is shutting down, which is closed as is.
    if (this.handle.reset() !== 0) this.handle.close();
  }

  connected(status: number): void {
    if (this.state !== 'connecting') return;
    if (status < 0) {
      const err = uvError(status, 'connect');
      // A reset the connect saw: the handshake was done, the peer reset it before we looked; the connection was made.
      if (isReset(err)) this.events.connected();
      return this.fail(err);
    }
    this.state = 'open';
    this.events.connected();
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined && this.state === 'open') this.send(pending);
  }

  read(bytes: number): void {
    if (this.state !== 'open') return;
    if (bytes > 0) return this.events.data(readView(bytes));
    if (bytes === this.uv.eof) {
      // libuv's end may be a reset behind data (connection-node.ts, resetBehindEnd).
      const reset = resetBehindEof(this.handle.fd);
      if (reset !== undefined) return this.fail(reset);
      this.destroy();
      return this.events.ended();
    }
    if (bytes < 0) this.fail(uvError(bytes, 'read'));
  }

  private send(bytes: Uint8Array): void {
    const { uv } = this;
    const req = spareWrite ?? new uv.WriteWrap();
    spareWrite = undefined;
    req.handle = this.handle;
    req.oncomplete = writeDone;
    req.async = false;
    req.buffer = null;
    const err = this.handle.writeBuffer(req, bytes);
    if (err === 0 && uv.state[uv.lastWriteWasAsync] !== 0) {
      // The kernel did not take it all at once: the request and the bytes must live until the write completes.
      req.async = true;
      req.buffer = bytes;
      return;
    }
    // Done at once (a check's request nearly always is), the request was never handed to libuv: the next one reuses it.
    req.handle = undefined;
    spareWrite = req;
    if (err !== 0) this.fail(uvError(err, 'write'));
  }

  /** A write libuv finished later (the kernel did not take it all at once). */
  written(status: number): void {
    if (status < 0 && this.state === 'open') this.fail(uvError(status, 'write'));
  }

  private fail(err: Error): void {
    if (this.state === 'closed') return;
    this.destroy();
    this.events.failed(err);
  }
}

// The handle's callbacks, shared by every connection: each finds its connection through the handle.
function connectDone(status: number, handle: TcpHandle): void {
  handle.owner?.connected(status);
}

function onRead(this: TcpHandle): void {
  if (uv !== undefined) this.owner?.read(uv.state[uv.readBytesOrError] as number);
}

function writeDone(this: WriteRequest, status: number): void {
  this.handle?.owner?.written(status);
}
