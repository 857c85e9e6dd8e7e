// The agent's HTTPS, assertion, name and gRPC checks end to end through the built agent (npm run build): exit
// codes and report lines against real loopback servers, hostile ones included, each within its deadline.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { tcpServer } from '../checks/fixtures.js';
import { runAgent } from '../helpers/agent.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';

t.test('HTTPS: 0 with the CA, 5 naming the TLS reason, 65 for a stalled handshake', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const pem = (file: string) => readFileSync(file);
  const good = await httpsServer(t, { cert: pem(certs.server.cert), key: pem(certs.server.key) }, (_req, res) => res.end('{"status":"ok"}'));
  const expired = await httpsServer(t, { cert: pem(certs.expired.cert), key: pem(certs.expired.key) }, (_req, res) => res.end());
  const ok = await runAgent(['--check', `https://localhost:${good}/health`, '--ca-file', certs.caFile, '--expect-body', '"ok"']);
  t.same([ok.code, ok.stdout, ok.stderr], [0, '', '']);
  const unknown = await runAgent(['--check', `https://127.0.0.1:${good}/health`]);
  t.equal(unknown.code, 5);
  t.match(unknown.stdout, new RegExp(`\\nfailed to make HTTPS request to '/health' on 127.0.0.1:${good}: tls: certificate signed by an unknown authority\\n$`));
  const old = await runAgent(['--check', `https://localhost:${expired}/`, '--ca-file', certs.caFile]);
  t.equal(old.code, 5);
  t.match(old.stdout, /on localhost:\d+ \(127\.0\.0\.1\): tls: certificate has expired\n$/);
  const stall = await tcpServer(t, () => {});
  const stalled = await runAgent(['--check', `https://127.0.0.1:${stall}/`, '--tls-skip-verify', '--timeout', '300ms']);
  t.equal(stalled.code, 65);
  t.ok(stalled.elapsedMs < 3000, `ended in ${Math.round(stalled.elapsedMs)}ms`);
});

t.test('an endless body under --expect-body: decided at 64 KiB, exit 6', async (t) => {
  const port = await tcpServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    const more = () => {
      while (!socket.destroyed && socket.write('x'.repeat(16384)));
    };
    socket.on('drain', more);
    more();
  });
  const ended = await runAgent(['--check', `http://localhost:${port}/`, '--expect-body', 'ready', '--timeout', '5s']);
  t.equal(ended.code, 6);
  t.match(ended.stdout, /body does not contain "ready" \(first 65536 bytes read\)/);
  t.ok(ended.elapsedMs < 4000, `ended in ${Math.round(ended.elapsedMs)}ms`);
});

t.test('--expect-header and HEAD', async (t) => {
  const { httpServer } = await import('../checks/fixtures.js');
  const port = await httpServer(t, (req, res) => {
    res.setHeader('X-Ready', req.method === 'HEAD' ? 'yes' : 'no');
    res.end();
  });
  t.equal((await runAgent(['--host', 'localhost', '--port', String(port), '--uri', '/', '--method', 'HEAD', '--expect-header', 'X-Ready: ^yes$'])).code, 0);
  const get = await runAgent(['--host', 'localhost', '--port', String(port), '--uri', '/', '--expect-header', 'X-Ready: ^yes$']);
  t.equal(get.code, 6);
  t.match(get.stdout, /header X-Ready "no" does not match \/\^yes\$\//);
});

t.test('gRPC: 0 serving, 6 not serving, 65 for a stream never answered, an HTTP/2 SETTINGS flood within the deadline', async (t) => {
  const server = await grpcHealthServer(t, { '': { serving: 1 }, down: { serving: 2 }, silent: 'never' });
  t.equal((await runAgent(['--check', `grpc://localhost:${server.port}`])).code, 0);
  const down = await runAgent(['--check', `grpc://127.0.0.1:${server.port}/down`, '--json']);
  t.equal(down.code, 6);
  t.match(JSON.parse(down.stdout), { passed: false, exitCode: 6, checks: [{ target: `grpc://127.0.0.1:${server.port}/down`, kind: 'grpc', lastError: { code: 'grpc-status', message: /status NOT_SERVING/ } }] });
  const silent = await runAgent(['--check', `grpc://127.0.0.1:${server.port}/silent`, '--timeout', '300ms']);
  t.equal(silent.code, 65);
  const settings = Buffer.concat(Array.from({ length: 500 }, () => Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100])));
  const flood = await tcpServer(t, (socket) => {
    const more = () => {
      while (!socket.destroyed && socket.write(settings));
    };
    socket.on('drain', more);
    more();
  });
  const flooded = await runAgent(['--check', `grpc://127.0.0.1:${flood}`, '--timeout', '1s']);
  t.ok([5, 65].includes(flooded.code ?? -1), `exit ${flooded.code}: ${flooded.stdout.split('\n')[1]}`);
  t.ok(flooded.elapsedMs < 4000, `ended in ${Math.round(flooded.elapsedMs)}ms`);
});
