import { readFileSync } from 'node:fs';
import t from 'tap';
import { runCheck } from '../../src/checks/run-check.js';
import { GRPC_HEALTH_PATH } from '../../src/checks/types.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';
import { httpServer, tcpServer } from './fixtures.js';

t.test('dispatches on kind', async (t) => {
  const tcpPort = await tcpServer(t, () => {});
  const httpPort = await httpServer(t, (_req, res) => res.end());
  t.match(await runCheck({ kind: 'tcp', host: '127.0.0.1', port: tcpPort, timeoutMs: 1000 }), { passed: true });
  const http = { kind: 'http', host: '127.0.0.1', port: httpPort, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  t.match(await runCheck(http), { passed: true, status: 200 });
});

t.test('a spec without a host and no interface: exit 3', { skip: process.getuid?.() === 0 ? false : 'needs root for unshare -n' }, async (t) => {
  const { execFile } = await import('node:child_process');
  const script = `import('./src/checks/run-check.ts').then(async (m) => console.log(JSON.stringify(await m.runCheck({ kind: 'tcp', port: 8080, timeoutMs: 100 }))))`;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('unshare', ['-n', process.execPath, '--import', 'tsx', '-e', script], { timeout: 20_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  t.match(JSON.parse(stdout), { passed: false, error: { code: 'no-interface', exitCode: 3, message: 'failure to find suitable interface' } });
});

const TIME_WAIT = '06';
/** FIN_WAIT1, FIN_WAIT2, TIME_WAIT: what a FIN leaves on the side that closes first. */
const CLOSING = ['04', '05', TIME_WAIT];

/**
 * Sockets in one of `states` of this test's connections only: the server's port with one of the clients' ports the
 * server saw, on either side. A port number alone is not enough: the ephemeral range is shared, and another test's
 * connection may have used it as its source port (bind(0) gives a listener a port that has TIME_WAIT sockets of
 * other connections).
 */
function socketsIn(states: readonly string[], serverPort: number, clientPorts: ReadonlySet<number>): number {
  const hex = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const ends = (address: string, port: number) => address.endsWith(hex(port));
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1)).filter((line) => {
    const [, local = '', remote = '', state = ''] = line.trim().split(/\s+/);
    return states.includes(state) && [...clientPorts].some((client) => (ends(local, serverPort) && ends(remote, client)) || (ends(local, client) && ends(remote, serverPort)));
  }).length;
}

t.test('checks end their connections with a reset: no TIME_WAIT is left behind on either side', { skip: tlsSkip }, async (t) => {
  const timeWait = (serverPort: number, clientPorts: ReadonlySet<number>) => socketsIn([TIME_WAIT], serverPort, clientPorts);
  const httpClients = new Set<number>();
  const tcpClients = new Set<number>();
  const httpPort = await httpServer(t, (req, res) => {
    httpClients.add(req.socket.remotePort as number);
    res.end('ok');
  });
  // A connection the check reset before the server took it from the queue has no peer address left: not counted.
  const tcpPort = await tcpServer(t, (socket) => socket.remotePort !== undefined && tcpClients.add(socket.remotePort));
  const grpc = await grpcHealthServer(t, { '': { serving: 1 } });
  const certs = makeCerts(t);
  const httpsClients = new Set<number>();
  const httpsPort = await httpsServer(t, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (req, res) => {
    httpsClients.add(req.socket.remotePort as number);
    res.end('ok');
  });
  const tls = { skipVerify: false, caFile: certs.caFile };
  for (let i = 0; i < 20; i++) {
    t.match(await runCheck({ kind: 'http', host: '127.0.0.1', port: httpPort, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false }), { passed: true });
    t.match(await runCheck({ kind: 'tcp', host: '127.0.0.1', port: tcpPort, timeoutMs: 1000 }), { passed: true });
    t.match(await runCheck({ kind: 'grpc', host: '127.0.0.1', port: grpc.port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 1000, metadata: [] }), { passed: true });
    t.match(await runCheck({ kind: 'http', host: '127.0.0.1', port: httpsPort, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, tls }), { passed: true });
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(httpClients.size, 20, 'the HTTP server saw every check');
  t.ok(tcpClients.size > 0, `the TCP server saw the checks (${tcpClients.size} of 20 with their address)`);
  t.equal(timeWait(httpPort, httpClients), 0, 'HTTP');
  t.equal(timeWait(tcpPort, tcpClients), 0, 'TCP');
  const grpcClients = new Set(grpc.asked.map((call) => call.clientPort as number));
  t.equal(grpcClients.size, 20, 'the gRPC server saw every check, each on a connection of its own');
  t.equal(timeWait(grpc.port, grpcClients), 0, 'gRPC');
  t.equal(httpsClients.size, 20, 'the HTTPS server saw every check');
  t.equal(timeWait(httpsPort, httpsClients), 0, 'HTTPS');
});

t.test('a TLS check cut short in its handshake resets its connection: nothing left waiting on the checker', { skip: tlsSkip }, async (t) => {
  const clients = new Set<number>();
  // Takes the connection and never says a word: the handshake waits for a ServerHello that does not come.
  const port = await tcpServer(t, (socket) => {
    socket.on('error', () => {});
    if (socket.remotePort !== undefined) clients.add(socket.remotePort);
  });
  for (let i = 0; i < 5; i++) {
    const result = await runCheck({ kind: 'http', host: '127.0.0.1', port, path: '/', timeoutMs: 50, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, tls: { skipVerify: true } });
    t.match(result, { passed: false, error: { exitCode: 65 } });
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(clients.size, 5, 'the server took every connection');
  t.equal(socketsIn(CLOSING, port, clients), 0, 'no socket left in FIN_WAIT or TIME_WAIT');
});

t.test('a check whose code cannot be loaded fails, and its round ends', { timeout: 20_000 }, async (t) => {
  // A copy of the check engine without the HTTP and gRPC checks: their dynamic imports fail, as in a damaged install.
  const { copyFileSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const source = new URL('../../src/checks/', import.meta.url).pathname;
  const dir = t.testdir();
  for (const file of readdirSync(source)) {
    if (file.endsWith('.ts') && file !== 'http-check.ts' && file !== 'grpc-check.ts') copyFileSync(join(source, file), join(dir, file));
  }
  const copy = (await import(join(dir, 'run-check.ts'))) as typeof import('../../src/checks/run-check.js');
  const http = await copy.runCheck({ kind: 'http', host: '127.0.0.1', port: 1, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 399 }], headers: [], followRedirects: false });
  t.equal(http.passed, false);
  t.match(!http.passed && http.error, { code: 'http-failed', exitCode: 5, message: /^failed to make HTTP request to '\/' on 127\.0\.0\.1:1: cannot load the HTTP check \(.*http-check.*\)$/ });
  const grpc = await copy.runCheck({ kind: 'grpc', host: '127.0.0.1', port: 1, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 1000, metadata: [] });
  t.equal(grpc.passed, false);
  t.match(!grpc.passed && grpc.error, { code: 'grpc-connect', exitCode: 5, message: /^failed gRPC health check of 127\.0\.0\.1:1: cannot load the gRPC check \(.*grpc-check.*\)$/ });
});
