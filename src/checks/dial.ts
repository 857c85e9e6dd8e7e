import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { Chunks, Connection, ConnectionEvents } from './connection.js';
// libuv's TCP handle (node:net where it cannot be had); the Bun build (scripts/lib/bun-compile.mjs) puts
// connection-bun.ts (Bun.connect) in its place.
import { openConnection, refusalCause, resetBehindEnd } from './connection-handle.js';
import { isReset } from './connection.js';
import type { Resolved } from './errors.js';
import { isIpLiteral } from './ip-literal.js';
import { isTlsError, lookupErrorReason, oneLine, socketErrorReason, tlsErrorReason } from './reason.js';
import type { TlsMaterial } from './tls-material.js';
import type { TlsOptions } from './types.js';

/** Where to connect, and how. `host` is an IP literal or a DNS name; `alpn` is offered in the TLS handshake. */
export interface DialTarget {
  readonly host: string;
  readonly port: number;
  /** A Unix domain socket to connect to instead of host and port (which then only name the peer). */
  readonly unixSocket?: string;
  readonly tls?: TlsOptions;
  readonly alpn?: readonly string[];
}

/** `credentials`: the check's own TLS files cannot be used; `tls`: the handshake failed, or would with these files. */
export type DialPhase = 'lookup' | 'connect' | 'credentials' | 'tls';

export interface DialHandlers {
  /** The connection is up (TLS included): its events keep coming here (`ended`, `failed`), bytes go out through write(). */
  connected(): void;
  /** The dial failed, or the connection did once up. */
  failed(phase: DialPhase, reason: string): void;
  /** The peer closed the connection once it was up. */
  ended?(): void;
}

/** Resolves a name to its addresses, in the order the resolver gives them; injectable for tests of the fallback. */
export type Resolver = (name: string) => Promise<readonly string[]>;

/** getaddrinfo, as every other program on the machine resolves (/etc/hosts first: `localhost` works offline). */
const systemResolver: Resolver = async (name) => {
  // node:dns is loaded by the first check of a name: checks of IP literals never pay for it at start-up.
  const { lookup } = await import('node:dns');
  return new Promise((resolve, reject) =>
    lookup(name, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((entry) => entry.address)))),
  );
};

/**
 * Opens one connection for a check: the name looked up (at every check, so that a moved service is followed),
 * each address the resolver gave tried in its order until one accepts (so that `localhost` reaches a server that
 * listens on 127.0.0.1 only when ::1 comes first), then TLS when asked. A refusal moves on to the next address; a
 * stall does not, since the caller's one deadline bounds the whole dial.
 *
 * A plain connection goes through connection.ts (node:net, or Bun.connect in the single executable); TLS and a
 * Unix socket go through node:net and node:tls, loaded then only.
 *
 * It owns the connection until close(), which ends it and makes every later event moot: the caller's deadline,
 * abort or verdict call close() and nothing of the dial outlives it (a lookup cannot be cancelled, so its answer
 * is ignored).
 */
export class Dialer {
  private state: 'dialing' | 'connected' | 'closed' = 'dialing';
  /** A plain connection's. */
  private connection: Connection | undefined;
  /** A TLS connection's, or a Unix socket's. */
  private socket: Socket | TLSSocket | undefined;
  /** The TCP socket under a TLS one: what a reset ends (node:net resets TCP only, never a Unix socket). */
  private tcp: Socket | undefined;
  /** The address being tried, or the last one tried. */
  private address: string | undefined;
  private readonly onData: ((chunk: Buffer) => void) | undefined;

  /**
   * @param onData every chunk read once connected, valid only during the call (a plain connection reads into
   *   one shared buffer): Buffers, or plain Uint8Arrays for a reader that asks for them with `chunks` (connection.ts's
   *   Chunks: a plain connection in the executable then makes no Buffer; TLS and Unix sockets hand Buffers anyway).
   */
  constructor(target: DialTarget, handlers: DialHandlers, onData?: (chunk: Buffer) => void, resolver?: Resolver);
  constructor(target: DialTarget, handlers: DialHandlers, onData: (chunk: Uint8Array) => void, resolver: Resolver | undefined, chunks: 'uint8array');
  constructor(
    private readonly target: DialTarget,
    private readonly handlers: DialHandlers,
    // A Buffer is a Uint8Array: the overloads pair a reader of Buffers with Buffers only.
    onData?: ((chunk: Buffer) => void) | ((chunk: Uint8Array) => void),
    private readonly resolver: Resolver = systemResolver,
    private readonly chunks: Chunks = 'buffer',
  ) {
    this.onData = onData;
  }

  /** The name and the address used, for messages; undefined for an IP literal, which names itself. */
  get resolved(): Resolved | undefined {
    const { host } = this.target;
    return isIpLiteral(host) || this.address === undefined ? undefined : { name: host, address: this.address };
  }

  /** `{resolved}` to spread into an error's facts: empty for an IP literal. */
  get resolvedFact(): { resolved?: Resolved } {
    const { resolved } = this;
    return resolved === undefined ? {} : { resolved };
  }

  start(): void {
    const { host, unixSocket } = this.target;
    if (unixSocket !== undefined) return void this.viaNode(undefined, undefined);
    if (isIpLiteral(host)) return this.tryAddresses([host], 0);
    this.resolver(host).then(
      (addresses) => {
        if (this.state !== 'dialing') return;
        if (addresses.length === 0) return this.fail('lookup', `lookup ${host}: no such host`);
        this.tryAddresses(addresses, 0);
      },
      (err: unknown) => {
        if (this.state === 'dialing') this.fail('lookup', lookupErrorReason(host, err));
      },
    );
  }

  /** Sends bytes on a connection whose events stay here; queued until it is up. */
  write(bytes: Uint8Array): void {
    this.connection?.write(bytes);
    this.socket?.write(bytes);
  }

  /**
   * `reset`: a connection the check is done with ends with a reset rather than a FIN (SO_LINGER 0), as the kubelet
   * closes its probes: nothing more is owed either way, and a checker that closes first with a FIN keeps every
   * connection in TIME_WAIT for a minute — thousands of them on a supervisor checking thousands of apps.
   */
  close(reset = false): void {
    const { connection, socket, tcp, state } = this;
    this.state = 'closed';
    this.connection = undefined;
    this.socket = undefined;
    this.tcp = undefined;
    if (reset && state === 'connected') connection?.reset();
    else connection?.destroy();
    // Under TLS, also a check cut short in its handshake: the TCP connection is up, and a FIN would leave it
    // waiting a minute on a server that never answers.
    if (reset && tcp !== undefined && !tcp.connecting) tcp.resetAndDestroy();
    socket?.destroy();
  }

  private tryAddresses(addresses: readonly string[], index: number): void {
    const address = addresses[index] as string;
    this.address = address;
    const next = index + 1 < addresses.length ? () => this.tryAddresses(addresses, index + 1) : undefined;
    if (this.target.tls === undefined) this.plain(address, next);
    else void this.viaNode(address, next);
  }

  /** A refusal moves on to the next address, if any. */
  private plain(address: string, next: (() => void) | undefined): void {
    const hop = new PlainHop(this, next);
    this.connection = openConnection(address, this.target.port, hop, this.chunks);
    hop.connection = this.connection;
  }

  // A plain connection's events, through its PlainHop: each concerns the dial only while the connection is its own.

  plainConnected(connection: Connection): void {
    if (this.connection !== connection || this.state !== 'dialing') return;
    this.state = 'connected';
    this.handlers.connected();
  }

  /** A Buffer unless `chunks` asked for Uint8Arrays, whose reader takes them (the constructor's overloads). */
  plainData(connection: Connection, bytes: Uint8Array): void {
    if (this.connection === connection && this.state === 'connected') this.onData?.(bytes as Buffer);
  }

  plainEnded(connection: Connection): void {
    if (this.connection === connection && this.state === 'connected') this.handlers.ended?.();
  }

  /** The next address, when the dial is still trying them and one is left. */
  plainFailed(connection: Connection, err: Error, next: (() => void) | undefined): void {
    if (this.connection !== connection) return;
    if (this.state === 'dialing' && next !== undefined) return next();
    if (this.state !== 'closed') this.fail('connect', socketErrorReason(err));
  }

  /** `address` undefined: the target's Unix socket. */
  private async viaNode(address: string | undefined, next: (() => void) | undefined): Promise<void> {
    const { connect } = await import('node:net');
    if (this.state !== 'dialing') return;
    const { port, unixSocket } = this.target;
    const socket: Socket = address === undefined && unixSocket !== undefined ? connect({ path: unixSocket }) : connect({ host: address as string, port });
    this.socket = socket;
    this.tcp = address === undefined ? undefined : socket;
    socket.on('error', (err) => {
      if (this.socket !== socket || this.state !== 'dialing') return;
      socket.destroy();
      // A reset the connect saw: the connection was made, and the handshake, when TLS was asked, had begun.
      if (isReset(err) && this.target.tls !== undefined) return this.fail('tls', tlsErrorReason(err));
      if (next !== undefined && !isReset(err)) return next();
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || address === undefined) return this.fail('connect', socketErrorReason(err));
      void refusalCause(address, this.target.port).then((cause) => {
        if (this.socket === socket && this.state === 'dialing') this.fail('connect', socketErrorReason(cause ?? err));
      });
    });
    socket.once('connect', () => {
      if (this.socket !== socket || this.state !== 'dialing') return;
      if (this.target.tls === undefined) return this.connected(socket);
      void this.handshake(socket, this.target.tls);
    });
  }

  private async handshake(socket: Socket, options: TlsOptions): Promise<void> {
    const { readTlsMaterial, isTlsFileProblem, describeTlsProblem } = await import('./tls-material.js');
    const material = await readTlsMaterial(options);
    if (this.socket !== socket || this.state !== 'dialing') return;
    if (isTlsFileProblem(material)) return this.fail(material.validity ? 'tls' : 'credentials', `tls: ${describeTlsProblem(material)}`);
    // node:tls is loaded by the first TLS check only: plain checks never pay for it at start-up.
    const { connect: tlsConnect } = await import('node:tls');
    if (this.socket !== socket || this.state !== 'dialing') return;
    let tls: TLSSocket;
    try {
      tls = tlsConnect({ ...connectionOptions(this.target, options, material), socket });
    } catch (thrown) {
      // The files passed tls-material's checks; what OpenSSL still refuses (a key type it lacks) is said here.
      return this.fail('credentials', `tls: the TLS files cannot be used: ${oneLine(thrown instanceof Error ? thrown.message : String(thrown))}`);
    }
    this.socket = tls;
    tls.on('error', (err) => {
      if (this.socket === tls && this.state === 'dialing') this.fail('tls', tlsErrorReason(err));
    });
    tls.once('secureConnect', () => {
      if (this.socket === tls && this.state === 'dialing') this.connected(tls, socket);
    });
  }

  /** `raw`: the TCP socket under a TLS one. */
  private connected(socket: Socket | TLSSocket, raw: Socket = socket): void {
    this.state = 'connected';
    socket.removeAllListeners('error');
    // Its cleartext, its errors and its close. A TLS alert after the handshake is TLS's (a TLS 1.3 server refuses a
    // client certificate so).
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData?.(chunk);
    });
    socket.on('error', (err) => {
      if (this.socket === socket && this.state === 'connected') this.fail(isTlsError(err) ? 'tls' : 'connect', socketErrorReason(err));
    });
    socket.on('end', () => {
      if (this.socket !== socket || this.state !== 'connected') return;
      const reset = resetBehindEnd(raw);
      if (reset === undefined) this.handlers.ended?.();
      else this.fail('connect', socketErrorReason(reset));
    });
    this.handlers.connected();
  }

  private fail(phase: DialPhase, reason: string): void {
    this.close();
    this.handlers.failed(phase, reason);
  }
}

/**
 * The options of one handshake. SNI is the server name or the host when it is a name (SNI cannot carry an IP
 * literal); the certificate is checked against the same name, or the IP literal's SANs.
 */
function connectionOptions(target: DialTarget, options: TlsOptions, material: TlsMaterial): ConnectionOptions {
  const name = options.serverName ?? target.host;
  return {
    rejectUnauthorized: !options.skipVerify,
    ...(isIpLiteral(name) ? {} : { servername: name }),
    // Node checks the identity against `host`; the socket is already connected, so host is only that name here.
    host: name,
    ...material,
    ...(target.alpn === undefined ? {} : { ALPNProtocols: [...target.alpn] }),
  };
}

/**
 * One plain connection's events, passed to its dialer with the connection they belong to: one object per connection
 * rather than an events object and four closures (a supervisor opens one connection per check, all day). An event
 * of a connection the dialer has moved on from (the next address) or closed is dropped there.
 */
class PlainHop implements ConnectionEvents {
  /** Set as soon as openConnection returns, before any event can come (connection.ts). */
  connection!: Connection;

  constructor(
    private readonly dialer: Dialer,
    private readonly next: (() => void) | undefined,
  ) {}

  connected(): void {
    this.dialer.plainConnected(this.connection);
  }

  data(bytes: Uint8Array): void {
    this.dialer.plainData(this.connection, bytes);
  }

  ended(): void {
    this.dialer.plainEnded(this.connection);
  }

  failed(err: Error): void {
    this.dialer.plainFailed(this.connection, err, this.next);
  }
}
