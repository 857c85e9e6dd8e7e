// The socket layer's conformance table: ONE list of what a peer can do to a check's connection (refuse it, reset it
// or close it at each stage, stop reading, ...), with the one verdict, exit code and words, that every run of either
// build must give. test/cli/socket-conformance.test.ts runs it against the agent under test (the Node bundle under
// `npm test`, the Bun executable under `npm run test:executable`); scripts/socket-table.mjs runs it against both
// side by side and prints the table.
//
// Each server acts at once (on accept, on the first bytes, on the call's headers): no sleeps, so that a case is
// cheap enough to repeat 20 times and more, which is what catches a race: one run of a racy path passes by luck.
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createSecureServer as createSecureH2Server, createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { parseAgentArgs } from '../../src/cli/agent-args.js';
import { runCheck } from '../../src/checks/run-check.js';
import { preloadEnv, run } from './agent.js';
import { closedPort } from './ports.js';
import { tempDir } from './temp-dir.js';
import { makeCerts, type KeyPair } from './tls.js';
import type { Teardown } from '../checks/fixtures.js';
import { getenvOf } from './getenv.js';

type Protocol = 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';

/**
 * What the loopback server does with each connection:
 * - `tcp`: `act` gets the accepted socket, bytes and all (for TLS and gRPC: before or during the handshake);
 * - `tls`: the TLS handshake is done first; `act` gets the TCP socket under it and the cleartext side;
 * - `call`: the server speaks HTTP/2 (over TLS for grpcs); `act` gets the TCP socket when the call's headers come;
 * - `closed`: nothing listens on the port.
 */
type ServerSpec =
  | { readonly kind: 'tcp'; readonly act: (socket: Socket) => void }
  | { readonly kind: 'tls'; readonly act: (socket: Socket, clear: TLSSocket) => void }
  | { readonly kind: 'call'; readonly act: (socket: Socket, stream: ServerHttp2Stream) => void }
  | { readonly kind: 'closed' };

/** One verdict: the exit code and the reason, the words after the check's prefix (`failed to make ... on A:P: `). */
interface Outcome {
  readonly exitCode: number;
  readonly reason: string;
}

export interface SocketCase {
  readonly name: string;
  readonly protocol: Protocol;
  readonly server: ServerSpec;
  /** Every run ends in this outcome; a list only where two answers are both right (a deadline racing a reset). */
  readonly expect: Outcome | readonly Outcome[];
  /** The check's --timeout (default 10s: far beyond a loopback answer, so a run that waits is a run that missed). */
  readonly timeout?: string;
  /** More arguments to the agent. */
  readonly args?: readonly string[];
  /** The agent cannot open another descriptor once it starts (its descriptor table is filled by a preload). */
  readonly emfile?: true;
  /** A row of issue 26's table: the HTTP check of the issue (`--uri /h --timeout 1s`) against this server. */
  readonly issueRow?: string;
}

const RESET = 'read: connection reset by peer';
const TLS_CLOSED = 'tls: the server closed the connection during the handshake';
const EMFILE = 'connect: too many open files';
const REFUSED = 'connect: connection refused';
const NO_RESPONSE = 'connection closed before a response was received';
const exit = (exitCode: number, reason: string): Outcome => ({ exitCode, reason });

// What the servers do. resetAndDestroy() closes with SO_LINGER 0: a RST, not a FIN.
const reset = (socket: Socket): void => void socket.resetAndDestroy();
const fin = (socket: Socket): void => void socket.end();
const onRequest = (then: (socket: Socket) => void) => (socket: Socket) => void socket.once('data', () => then(socket));
const thenReset = (bytes: string) => (socket: Socket) => {
  socket.write(bytes);
  socket.resetAndDestroy();
};
const thenFin = (bytes: string) => (socket: Socket) => void socket.end(bytes);
const HEAD_PART = 'HTTP/1.1 2';
const BODY_PART = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhealthy so far';
const CLOSE_FRAMED = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhealthy';
const tcp = (act: (socket: Socket) => void): ServerSpec => ({ kind: 'tcp', act });

export const SOCKET_CASES: readonly SocketCase[] = [
  // TCP: the check passes once the handshake is done, whatever the app does with the connection next.
  { name: 'nothing listens', protocol: 'tcp', server: { kind: 'closed' }, expect: exit(4, REFUSED) },
  { name: 'resets on accept', protocol: 'tcp', server: tcp(reset), expect: exit(0, '') },
  { name: 'closes (FIN) on accept', protocol: 'tcp', server: tcp(fin), expect: exit(0, '') },
  { name: 'no descriptor left (EMFILE)', protocol: 'tcp', server: tcp(() => {}), emfile: true, expect: exit(4, EMFILE) },

  { name: 'nothing listens', protocol: 'http', server: { kind: 'closed' }, expect: exit(5, REFUSED) },
  { name: 'resets on accept', protocol: 'http', server: tcp(reset), expect: exit(5, RESET), issueRow: 'resets the connection on accept' },
  { name: 'resets after reading the request', protocol: 'http', server: tcp(onRequest(reset)), expect: exit(5, RESET), issueRow: 'resets after reading the request' },
  { name: 'sends `HTTP/1.1 2`, then resets', protocol: 'http', server: tcp(onRequest(thenReset(HEAD_PART))), expect: exit(5, RESET), issueRow: 'sends `HTTP/1.1 2`, then resets' },
  { name: 'closes (FIN) after reading the request', protocol: 'http', server: tcp(onRequest(fin)), expect: exit(5, NO_RESPONSE), issueRow: 'closes (FIN) after reading the request' },
  { name: 'closes (FIN) on accept', protocol: 'http', server: tcp(fin), expect: exit(5, NO_RESPONSE) },
  { name: 'sends `HTTP/1.1 2`, then closes (FIN)', protocol: 'http', server: tcp(onRequest(thenFin(HEAD_PART))), expect: exit(5, 'connection closed before the end of the response headers') },
  { name: 'resets in the middle of the body', protocol: 'http', server: tcp(onRequest(thenReset(BODY_PART))), args: ['--expect-body', 'healthy'], expect: exit(5, RESET) },
  // A body framed by the close is complete at the FIN: judged on what came.
  { name: 'answers, then closes (FIN) to end the body', protocol: 'http', server: tcp(onRequest(thenFin(CLOSE_FRAMED))), args: ['--expect-body', 'healthy'], expect: exit(0, '') },
  // Half-close: the whole answer and the server's FIN before it has read a byte; the check's request still goes out.
  { name: 'answers and closes (FIN) before reading the request', protocol: 'http', server: tcp(thenFin(CLOSE_FRAMED)), expect: exit(0, '') },
  {
    name: 'resets before reading a 256 KiB request (a write into a reset socket)',
    protocol: 'http',
    server: tcp(reset),
    args: Array.from({ length: 4 }, (_, i) => ['--header', `X-Pad-${i}: ${'x'.repeat(64 * 1024)}`]).flat(),
    expect: exit(5, RESET),
  },
  {
    name: 'never reads a 256 KiB request, never answers',
    protocol: 'http',
    server: tcp((socket) => socket.pause()),
    args: Array.from({ length: 4 }, (_, i) => ['--header', `X-Pad-${i}: ${'x'.repeat(64 * 1024)}`]).flat(),
    timeout: '300ms',
    expect: exit(65, 'timed out after 0.30 seconds'),
  },
  // The deadline and the reset race: either answer is true, nothing else is.
  {
    name: 'resets after reading the request, the deadline due at once',
    protocol: 'http',
    server: tcp(onRequest(reset)),
    timeout: '1ms',
    expect: [exit(5, RESET), exit(65, 'timed out after 0.001 seconds')],
  },
  { name: 'no descriptor left (EMFILE)', protocol: 'http', server: tcp(() => {}), emfile: true, expect: exit(5, EMFILE) },

  // HTTPS: node:tls over node:net in both builds (in Bun, node:net is Bun's socket).
  { name: 'nothing listens', protocol: 'https', server: { kind: 'closed' }, expect: exit(5, REFUSED) },
  { name: 'resets on accept', protocol: 'https', server: tcp(reset), expect: exit(5, TLS_CLOSED) },
  { name: 'resets on the ClientHello', protocol: 'https', server: tcp(onRequest(reset)), expect: exit(5, TLS_CLOSED) },
  { name: 'closes (FIN) on the ClientHello', protocol: 'https', server: tcp(onRequest(fin)), expect: exit(5, TLS_CLOSED) },
  { name: 'resets after reading the request', protocol: 'https', server: { kind: 'tls', act: (socket, clear) => clear.once('data', () => reset(socket)) }, expect: exit(5, RESET) },
  { name: 'sends `HTTP/1.1 2`, then resets', protocol: 'https', server: { kind: 'tls', act: (socket, clear) => clear.once('data', () => clear.write(HEAD_PART, () => reset(socket))) }, expect: exit(5, RESET) },
  { name: 'closes after reading the request', protocol: 'https', server: { kind: 'tls', act: (_socket, clear) => clear.once('data', () => clear.end()) }, expect: exit(5, NO_RESPONSE) },
  { name: 'no descriptor left (EMFILE)', protocol: 'https', server: tcp(() => {}), emfile: true, expect: exit(5, EMFILE) },

  // gRPC: node:http2 over node:net (h2c) or node:tls.
  { name: 'nothing listens', protocol: 'grpc', server: { kind: 'closed' }, expect: exit(5, REFUSED) },
  { name: 'resets on the connection preface', protocol: 'grpc', server: tcp(onRequest(reset)), expect: exit(5, RESET) },
  { name: 'closes (FIN) on the connection preface', protocol: 'grpc', server: tcp(onRequest(fin)), expect: exit(5, 'connection closed before a reply') },
  { name: 'resets on the call', protocol: 'grpc', server: { kind: 'call', act: reset }, expect: exit(5, RESET) },
  { name: 'answers the call\'s headers, then resets', protocol: 'grpc', server: { kind: 'call', act: (socket, stream) => { stream.respond({ ':status': 200, 'content-type': 'application/grpc' }); setImmediate(() => reset(socket)); } }, expect: exit(5, RESET) },
  { name: 'no descriptor left (EMFILE)', protocol: 'grpc', server: tcp(() => {}), emfile: true, expect: exit(5, EMFILE) },
  { name: 'resets on the ClientHello', protocol: 'grpcs', server: tcp(onRequest(reset)), expect: exit(5, TLS_CLOSED) },
  { name: 'resets on the call', protocol: 'grpcs', server: { kind: 'call', act: reset }, expect: exit(5, RESET) },
];

/** The agent's arguments for a case against `port`. */
function caseArgs(c: SocketCase, port: number): string[] {
  const target = {
    tcp: `tcp://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}/h`,
    https: `https://127.0.0.1:${port}/h`,
    grpc: `grpc://127.0.0.1:${port}`,
    grpcs: `grpcs://127.0.0.1:${port}`,
  }[c.protocol];
  const tls = c.protocol === 'https' || c.protocol === 'grpcs' ? ['--tls-skip-verify'] : [];
  return ['--check', target, '--timeout', c.timeout ?? '10s', ...tls, ...(c.args ?? [])];
}

/** The line the agent's report ends with for this outcome (empty for a pass, which is silent). */
function expectedLine(c: SocketCase, port: number, outcome: Outcome): string {
  if (outcome.exitCode === 0) return '';
  const address = `127.0.0.1:${port}`;
  const prefix = {
    tcp: `failed to make TCP connection to ${address}`,
    http: `failed to make HTTP request to '/h' on ${address}`,
    https: `failed to make HTTPS request to '/h' on ${address}`,
    grpc: `failed gRPC health check of ${address}`,
    grpcs: `failed gRPC health check of ${address}`,
  }[c.protocol];
  return `${prefix}: ${outcome.reason}`;
}

function outcomes(c: SocketCase): readonly Outcome[] {
  return 'exitCode' in c.expect ? [c.expect as Outcome] : (c.expect as readonly Outcome[]);
}

/** How one run ended, as the table counts it: the exit code and the report's last line. */
function runKey(exitCode: number | null, stdout: string): string {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  return `${exitCode} ${exitCode === 0 ? '' : last}`.trimEnd();
}

export function expectedKeys(c: SocketCase, port: number): string[] {
  return outcomes(c).map((o) => `${o.exitCode} ${expectedLine(c, port, o)}`.trimEnd());
}

/** The descriptor limit of an `emfile` case's agent: its own start needs fewer, its check one more. */
const EMFILE_LIMIT = 256;

/**
 * Runs the agent (`command`: [node, bundle] or [executable]) `runs` times at once against a case's server on
 * `port`; how many runs ended each way (runKey).
 */
export async function runCase(
  lab: SocketLab,
  c: SocketCase,
  port: number,
  command: readonly [string, ...string[]],
  runs: number,
  args: readonly string[] = caseArgs(c, port),
  env: Record<string, string> = {},
): Promise<Map<string, number>> {
  const [file, ...rest] = c.emfile === true ? ['prlimit', `--nofile=${EMFILE_LIMIT}:${EMFILE_LIMIT}`, ...command] : command;
  if (c.emfile === true) env = { ...env, ...preloadEnv(lab.preload(), command) };
  const ended = await Promise.all(Array.from({ length: runs }, () => run(file as string, [...rest, ...args], { env, killAfterMs: 60_000 })));
  return count(ended.map(({ code, stdout }) => runKey(code, stdout)));
}

/**
 * The same, in this process, through the checks' own code (src/, node:net): the argv parsed as the agent parses it,
 * each check's verdict keyed as the agent would report it. For `npm test`, where spawning a Node agent per run
 * would cost the table minutes; an `emfile` case cannot be run in this process.
 */
export async function runCaseInProcess(c: SocketCase, port: number, runs: number): Promise<Map<string, number>> {
  const invocation = await parseAgentArgs(caseArgs(c, port), getenvOf());
  if (invocation.kind !== 'run' || invocation.options.checks.length !== 1) throw new Error(`${c.name}: not one check`);
  const [spec] = invocation.options.checks;
  const results = await Promise.all(Array.from({ length: runs }, () => runCheck(spec!)));
  return count(results.map((r) => (r.passed ? '0' : `${r.error?.exitCode} ${r.error?.message}`)));
}

function count(keys: readonly string[]): Map<string, number> {
  const tally = new Map<string, number>();
  for (const key of keys) tally.set(key, (tally.get(key) ?? 0) + 1);
  return tally;
}

/**
 * The servers of a run of the table: one per case, started on demand, all closed (their connections destroyed) by
 * the teardown. The TLS servers' certificate is made once (openssl).
 */
export class SocketLab {
  private pair: KeyPair | undefined;
  private emfilePreload: string | undefined;

  constructor(private readonly t: Teardown) {}

  /** Starts the case's server; its port (a port nothing listens on for `closed`). */
  async serve(c: SocketCase): Promise<number> {
    const { server: spec } = c;
    const sockets = new Set<Socket>();
    const track = (socket: Socket): void => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    };
    // Not a listener closed again: its port came from the ephemeral range, where another test may take it at once.
    if (spec.kind === 'closed') return closedPort();
    let server: Server;
    if (spec.kind === 'tcp') server = createServer((socket) => {
      track(socket);
      spec.act(socket);
    });
    else if (spec.kind === 'tls') {
      const { cert, key } = this.certs();
      server = createServer((socket) => {
        track(socket);
        const clear = new TLSSocket(socket, { isServer: true, cert, key });
        clear.on('error', () => {});
        clear.once('secure', () => spec.act(socket, clear));
      });
    } else {
      const h2 = c.protocol === 'grpcs' ? createSecureH2Server(this.certs()) : createH2Server();
      // The TCP socket under a session, by the client's port (a secure server makes its session after the handshake).
      const raw = new Map<number, Socket>();
      h2.on('sessionError', () => {});
      h2.on('session', (session) => session.on('error', () => {}));
      h2.on('stream', (stream: ServerHttp2Stream) => {
        stream.on('error', () => {});
        const socket = raw.get(stream.session?.socket.remotePort ?? -1);
        if (socket !== undefined) spec.act(socket, stream);
      });
      server = createServer((socket) => {
        track(socket);
        raw.set(socket.remotePort ?? -1, socket);
        h2.emit('connection', socket);
      });
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    this.t.teardown(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    });
    return port;
  }

  /**
   * A preload that fills the agent's descriptor table (with a low limit, set by `prlimit`) just before its check
   * connects. Under Node, in libuv's TCP connect, which makes the socket (modules may still be loading after the
   * main script, tap's coverage hook among them), and emptied again in the next tick, before the error is reported,
   * so that what the process does at exit (tap's coverage record) can still open a file.
   * Under Bun, whose agent is loaded whole from the executable, once the main script has run.
   */
  preload(): string {
    if (this.emfilePreload === undefined) {
      this.emfilePreload = join(tempDir(this.t), 'fill-descriptors.cjs');
      writeFileSync(
        this.emfilePreload,
        [
          "const { closeSync, openSync } = require('node:fs');",
          'const filled = [];',
          'const fill = () => {',
          '  for (let i = 0; i < 65536; i++) {',
          "    try { filled.push(openSync('/dev/null', 'r')); } catch (err) { if (err.code === 'EMFILE') return; throw err; }",
          '  }',
          '};',
          "if (typeof Bun !== 'undefined') process.nextTick(fill);",
          'else {',
          "  const { TCP } = process.binding('tcp_wrap');",
          "  for (const name of ['connect', 'connect6']) {",
          '    const connect = TCP.prototype[name];',
          '    TCP.prototype[name] = function (...args) {',
          '      fill();',
          '      const status = connect.apply(this, args);',
          '      process.nextTick(() => filled.splice(0).forEach((fd) => closeSync(fd)));',
          '      return status;',
          '    };',
          '  }',
          '}',
          '',
        ].join('\n'),
      );
    }
    return this.emfilePreload;
  }

  private certs(): { cert: string; key: string } {
    this.pair ??= makeCerts(this.t).server;
    return { cert: readFileSync(this.pair.cert, 'utf8'), key: readFileSync(this.pair.key, 'utf8') };
  }
}
