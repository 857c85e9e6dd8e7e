// HTTPS checks against real TLS servers on loopback, with certificates openssl makes for the test: verification
// (CA file, expiry, self-signed, names, client certificates) and hostile servers that stall the handshake.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { runCheck } from '../../src/checks/run-check.js';
import type { CheckResult, HttpCheckSpec, TlsOptions } from '../../src/checks/types.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';
import { tcpServer } from './fixtures.js';

function https(port: number, tls: TlsOptions, more: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return { kind: 'http', host: '127.0.0.1', port, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, tls, ...more };
}

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

t.test('HTTPS', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const read = (file: string) => readFileSync(file);
  const serve = (pair: { cert: string; key: string }, more = {}) =>
    httpsServer(t, { cert: read(pair.cert), key: read(pair.key), ...more }, (_req, res) => res.end('ok'));
  const good = await serve(certs.server);

  t.test('a certificate from the CA file passes, on 127.0.0.1 (IP SAN) and on localhost (SNI and DNS SAN)', async (t) => {
    t.match(await runCheck(https(good, { skipVerify: false, caFile: certs.caFile })), { passed: true, status: 200 });
    t.match(await runCheck(https(good, { skipVerify: false, caFile: certs.caFile }, { host: 'localhost' })), { passed: true });
  });

  t.test('without the CA: exit 5, unknown authority', async (t) => {
    t.match(failure(await runCheck(https(good, { skipVerify: false }))), {
      code: 'http-failed',
      exitCode: 5,
      message: `failed to make HTTPS request to '/health' on 127.0.0.1:${good}: tls: certificate signed by an unknown authority`,
    });
  });

  t.test('--tls-skip-verify accepts it', async (t) => {
    t.match(await runCheck(https(good, { skipVerify: true })), { passed: true });
  });

  t.test('expired, self-signed, hostname mismatch: each named', async (t) => {
    const expired = await serve(certs.expired);
    const self = await serve(certs.selfSigned);
    t.match(failure(await runCheck(https(expired, { skipVerify: false, caFile: certs.caFile }))), { exitCode: 5, message: /: tls: certificate has expired$/ });
    t.match(failure(await runCheck(https(self, { skipVerify: false }))), { exitCode: 5, message: /: tls: self-signed certificate$/ });
    t.match(failure(await runCheck(https(good, { skipVerify: false, caFile: certs.caFile, serverName: 'api.example.test' }))), {
      exitCode: 5,
      message: /: tls: hostname mismatch: .*api\.example\.test.*localhost/,
    });
  });

  t.test('a server that requires a client certificate: refused without one, passed with it', async (t) => {
    const mtls = await serve(certs.server, { requestCert: true, rejectUnauthorized: true, ca: read(certs.caFile) });
    const base = { skipVerify: false, caFile: certs.caFile };
    t.match(failure(await runCheck(https(mtls, base))), { exitCode: 5, message: /: tls: the server requires a client certificate$/ });
    t.match(await runCheck(https(mtls, { ...base, clientCertFile: certs.client.cert, clientKeyFile: certs.client.key })), { passed: true });
  });

  t.test('a CA file that cannot be read is the reason, not a throw', async (t) => {
    t.match(failure(await runCheck(https(good, { skipVerify: false, caFile: `${certs.dir}/missing.pem` }))), {
      exitCode: 5,
      message: /: tls: CA file '.*missing\.pem': no such file$/,
    });
  });

  t.test('plain HTTP on the port: the server does not speak TLS', async (t) => {
    const plain = await tcpServer(t, (socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    t.match(failure(await runCheck(https(plain, { skipVerify: true }))), { exitCode: 5, message: /: tls: / });
  });
});

t.test('hostile TLS servers: the one deadline covers the handshake', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const upstream = await httpsServer(t, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (_req, res) => res.end('ok'));

  t.test('a server that accepts and never answers the ClientHello: timeout, on time', async (t) => {
    const stall = await tcpServer(t, () => {});
    const started = performance.now();
    t.match(failure(await runCheck(https(stall, { skipVerify: true }, { timeoutMs: 300 }))), { code: 'http-timeout', exitCode: 65 });
    t.ok(performance.now() - started < 1000, 'not late');
  });

  t.test('a server that sends its ServerHello and never its certificate: timeout, on time', async (t) => {
    // A proxy to a real TLS server that passes on the client's bytes, but of the server's only the first TLS
    // record (the ServerHello): the certificate that follows never arrives.
    let forwarded = 0;
    const proxy = await tcpServer(t, (client: Socket) => {
      const server = connect({ host: '127.0.0.1', port: upstream });
      server.on('error', () => {});
      client.on('close', () => server.destroy());
      client.on('data', (bytes) => server.write(bytes));
      let head = Buffer.alloc(0);
      let done = false;
      server.on('data', (bytes: Buffer) => {
        if (done) return;
        head = Buffer.concat([head, bytes]);
        if (head.length < 5) return;
        const recordEnd = 5 + head.readUInt16BE(3);
        if (head.length < recordEnd) return;
        done = true;
        forwarded = head[0] as number;
        client.write(head.subarray(0, recordEnd));
      });
    });
    const started = performance.now();
    t.match(failure(await runCheck(https(proxy, { skipVerify: false, caFile: certs.caFile }, { timeoutMs: 400 }))), { code: 'http-timeout', exitCode: 65 });
    t.ok(performance.now() - started < 1200, 'not late');
    t.equal(forwarded, 22, 'the record passed on was a handshake record (the ServerHello)');
  });
});
