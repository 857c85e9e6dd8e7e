import { lookup } from 'node:dns';
import { readFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { Resolved } from './errors.js';
import { lookupErrorReason, socketErrorReason, tlsErrorReason } from './reason.js';
import type { TlsOptions } from './types.js';

/** Where to connect, and how. `host` is an IP literal or a DNS name; `alpn` is offered in the TLS handshake. */
export interface DialTarget {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly alpn?: readonly string[];
}

export type DialPhase = 'lookup' | 'connect' | 'tls';

export interface DialHandlers {
  /** The connection is up (TLS included); the caller now owns its events, the dialer still destroys it on close. */
  connected(socket: Socket | TLSSocket): void;
  failed(phase: DialPhase, reason: string): void;
}

/** Resolves a name to its addresses, in the order the resolver gives them; injectable for tests of the fallback. */
export type Resolver = (name: string) => Promise<readonly string[]>;

/** getaddrinfo, as every other program on the machine resolves (/etc/hosts first: `localhost` works offline). */
export const systemResolver: Resolver = (name) =>
  new Promise((resolve, reject) =>
    lookup(name, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses.map((entry) => entry.address)),
    ),
  );

/**
 * Opens one connection for a check: the name looked up (at every check, so that a moved service is followed),
 * each address the resolver gave tried in its order until one accepts (so that `localhost` reaches a server that
 * listens on 127.0.0.1 only when ::1 comes first), then TLS when asked. A refusal moves on to the next address; a
 * stall does not, since the caller's one deadline bounds the whole dial.
 *
 * It owns the socket until close(), which destroys it and makes every later event moot: the caller's deadline,
 * abort or verdict call close() and nothing of the dial outlives it (a lookup cannot be cancelled, so its answer
 * is ignored).
 */
export class Dialer {
  private state: 'dialing' | 'connected' | 'closed' = 'dialing';
  private socket: Socket | TLSSocket | undefined;
  /** The address being tried, or the last one tried. */
  private address: string | undefined;

  /**
   * @param onData every chunk read once connected. Plain sockets read into `readBuffer` (net's onread, no Buffer
   *   per read), so a chunk is only valid during the call.
   */
  constructor(
    private readonly target: DialTarget,
    private readonly handlers: DialHandlers,
    private readonly onData?: (chunk: Buffer) => void,
    private readonly readBuffer?: Buffer,
    private readonly resolver: Resolver = systemResolver,
  ) {}

  /** The name and the address used, for messages; undefined for an IP literal, which names itself. */
  get resolved(): Resolved | undefined {
    const { host } = this.target;
    return isIP(host) !== 0 || this.address === undefined ? undefined : { name: host, address: this.address };
  }

  /** `{resolved}` to spread into an error's facts: empty for an IP literal. */
  get resolvedFact(): { resolved?: Resolved } {
    const { resolved } = this;
    return resolved === undefined ? {} : { resolved };
  }

  start(): void {
    const { host } = this.target;
    if (isIP(host) !== 0) return this.tryAddresses([host], 0);
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

  /** `reset`: a plain connection the check is done with ends with a reset (TCP and HTTP checks; see below). */
  close(reset = false): void {
    const { socket, state } = this;
    this.state = 'closed';
    this.socket = undefined;
    if (socket === undefined) return;
    // A connection the check is done with is reset rather than closed with a FIN, as the kubelet closes its probes
    // (SO_LINGER 0): nothing more is owed either way, and a checker that closes first with a FIN keeps every
    // connection in TIME_WAIT for a minute — thousands of them on a supervisor checking thousands of apps.
    if (reset && state === 'connected' && !socket.destroyed && !('encrypted' in socket)) {
      // A reset that fails (the peer reset first) is reported as an error: nobody needs it.
      socket.on('error', () => {});
      socket.resetAndDestroy();
    } else socket.destroy();
  }

  private tryAddresses(addresses: readonly string[], index: number): void {
    const address = addresses[index] as string;
    this.address = address;
    const { onData, readBuffer } = this;
    const plainReads = onData !== undefined && readBuffer !== undefined && this.target.tls === undefined;
    const socket: Socket = connect({
      host: address,
      port: this.target.port,
      ...(plainReads
        ? {
            onread: {
              buffer: readBuffer,
              callback: (bytes: number) => {
                if (this.socket === socket) onData(readBuffer.subarray(0, bytes));
                return true;
              },
            },
          }
        : {}),
    });
    this.socket = socket;
    socket.on('error', (err) => {
      if (this.socket !== socket || this.state !== 'dialing') return;
      socket.destroy();
      if (index + 1 < addresses.length) return this.tryAddresses(addresses, index + 1);
      this.fail('connect', socketErrorReason(err));
    });
    socket.once('connect', () => {
      if (this.socket !== socket || this.state !== 'dialing') return;
      if (this.target.tls === undefined) return this.connected(socket);
      void this.handshake(socket, this.target.tls);
    });
  }

  private async handshake(socket: Socket, options: TlsOptions): Promise<void> {
    const secure = await tlsOptions(this.target, options);
    if (typeof secure === 'string') {
      if (this.socket === socket && this.state === 'dialing') this.fail('tls', secure);
      return;
    }
    // node:tls is loaded by the first TLS check only: plain checks never pay for it at start-up.
    const { connect: tlsConnect } = await import('node:tls');
    if (this.socket !== socket || this.state !== 'dialing') return;
    const tls = tlsConnect({ ...secure, socket });
    this.socket = tls;
    tls.on('error', (err) => {
      if (this.socket === tls && this.state === 'dialing') this.fail('tls', tlsErrorReason(err));
    });
    tls.once('secureConnect', () => {
      if (this.socket === tls && this.state === 'dialing') this.connected(tls);
    });
  }

  private connected(socket: Socket | TLSSocket): void {
    this.state = 'connected';
    socket.removeAllListeners('error');
    const { onData } = this;
    // A plain socket reads through onread already; a TLS one gives its cleartext as 'data'.
    if (onData !== undefined && 'encrypted' in socket) {
      socket.on('data', (chunk: Buffer) => {
        if (this.socket === socket) onData(chunk);
      });
    }
    this.handlers.connected(socket);
  }

  private fail(phase: DialPhase, reason: string): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.state = 'closed';
    this.handlers.failed(phase, reason);
  }
}

/**
 * The options of one handshake. SNI is the server name or the host when it is a name (SNI cannot carry an IP
 * literal); the certificate is checked against the same name, or the IP literal's SANs.
 */
async function tlsOptions(target: DialTarget, options: TlsOptions): Promise<ConnectionOptions | string> {
  const name = options.serverName ?? target.host;
  const [ca, cert, key] = await Promise.all([
    readPem(options.caFile, 'CA file'),
    readPem(options.clientCertFile, 'client certificate'),
    readPem(options.clientKeyFile, 'client key'),
  ]);
  if (typeof ca === 'string') return ca;
  if (typeof cert === 'string') return cert;
  if (typeof key === 'string') return key;
  return {
    rejectUnauthorized: !options.skipVerify,
    ...(isIP(name) === 0 ? { servername: name } : {}),
    // Node checks the identity against `host`; the socket is already connected, so host is only that name here.
    host: name,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(target.alpn === undefined ? {} : { ALPNProtocols: [...target.alpn] }),
  };
}

/** The file's bytes, or why it cannot be read (a reason for the check's message). */
async function readPem(file: string | undefined, what: string): Promise<Buffer | string | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    return `tls: cannot read the ${what} '${file}' (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}
