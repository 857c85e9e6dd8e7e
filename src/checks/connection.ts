/**
 * One TCP connection of a check, whichever runtime runs the agent: libuv's TCP handle under Node.js
 * (connection-handle.ts; node:net, connection-node.ts, where the handle cannot be had), Bun.connect in the single
 * executable built with Bun (connection-bun.ts, swapped in at build time).
 *
 * The checks see events and two commands, nothing of either runtime's socket. `connected` comes at most once,
 * then `data` any number of times; exactly one of `ended` (the peer's orderly close) and `failed` ends the
 * stream of events, unless `destroy` or `reset` came first, after which nothing is delivered. No event comes
 * before openConnection has returned.
 *
 * A reset is `failed` with ECONNRESET (or EPIPE), wherever it comes: a reset behind data is not an `ended`, and a
 * reset that the connect saw (the handshake done, then reset before the checker looked) is `connected` first,
 * since the connection was made. The two layers must agree on every path: test/helpers/socket-cases.ts.
 */
export interface ConnectionEvents {
  connected(): void;
  /** A chunk read, valid only during the call (the reader copies whatever it keeps), as `Chunks` says. */
  data(bytes: Uint8Array): void;
  ended(): void;
  /** A socket error (ECONNREFUSED, ECONNRESET...), with the errno name in `code` and the call in `syscall`. */
  failed(err: Error): void;
}

export interface Connection {
  /** Queued until the connection is established, then sent whole. */
  write(bytes: Uint8Array): void;
  /**
   * Closes the socket at once, wherever it is (connecting, writing, reading), and silences its events: a FIN
   * with node:net; a reset with Bun, whose only immediate close is terminate().
   */
  destroy(): void;
  /**
   * The same, with a reset rather than a FIN (SO_LINGER 0), for a connection whose verdict is taken: no TIME_WAIT
   * is left on the checker's side.
   */
  reset(): void;
}

/**
 * What a connection's chunks are: Buffers, as the HTTP check's readers take them (Buffer's latin1 decoding and
 * indexOf), or plain Uint8Arrays where the reader needs no more, as the HTTP/2 client: Bun then makes no Buffer for a
 * gRPC check, whose first costs a start about 10 page faults (and the HTTP check's own Buffer view of a Uint8Array
 * chunk cost every liveness check more). Node's connections hand Buffers either way, which are Uint8Arrays.
 */
export type Chunks = 'buffer' | 'uint8array';

export type Connect = (host: string, port: number, events: ConnectionEvents, chunks: Chunks) => Connection;

/** A socket error as node:net makes one: the errno's name in `code`, the call in `syscall`. */
export function socketError(syscall: string, code: string): Error & { code: string; syscall: string } {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

/** A reset by the peer: ECONNRESET, or EPIPE for a call after the reset was already reported. */
export function isReset(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
