// The TLS files of a check judged in one place (src/checks/tls-material.ts): each fault an operator makes, named
// with its file in one line, at the check (https and grpcs against real servers: once a tls.connect() that threw
// these synchronously, in a handshake nobody awaited, and crashed the agent) and when a command line is parsed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCheck } from '../../src/checks/run-check.js';
import { describeTlsProblem, isTlsFileProblem, readTlsMaterial } from '../../src/checks/tls-material.js';
import { type CheckResult, type CheckSpec, GRPC_HEALTH_PATH, type TlsOptions } from '../../src/checks/types.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';

function failure(result: CheckResult) {
  if (result.passed) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

t.test('each fault, named with its file, at the check and in readTlsMaterial', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const other = makeCerts(t);
  const at = (name: string) => join(certs.dir, name);
  mkdirSync(at('a-dir'));
  writeFileSync(at('empty.pem'), '');
  writeFileSync(at('garbage.pem'), 'not PEM\n');
  writeFileSync(at('cut.pem'), readFileSync(certs.caFile, 'utf8').slice(0, 100));
  writeFileSync(at('bad-body.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  execFileSync('openssl', ['pkey', '-in', certs.client.key, '-out', at('pkcs8-enc.key'), '-aes256', '-passout', 'pass:x']);
  execFileSync('openssl', ['ec', '-in', certs.client.key, '-out', at('traditional-enc.key'), '-aes256', '-passout', 'pass:x'], { stdio: 'ignore' });
  const client = (cert: string, key: string): TlsOptions => ({ skipVerify: false, caFile: certs.caFile, clientCertFile: cert, clientKeyFile: key });
  const cases: [string, TlsOptions, string, 'credentials' | 'validity'][] = [
    ['missing CA', { skipVerify: false, caFile: at('missing.pem') }, `CA file '${at('missing.pem')}': no such file`, 'credentials'],
    ['CA a directory', { skipVerify: false, caFile: at('a-dir') }, `CA file '${at('a-dir')}': is a directory, not a file`, 'credentials'],
    ['CA empty', { skipVerify: false, caFile: at('empty.pem') }, `CA file '${at('empty.pem')}': is empty`, 'credentials'],
    ['CA not PEM', { skipVerify: false, caFile: at('garbage.pem') }, `CA file '${at('garbage.pem')}': not PEM (no -----BEGIN line)`, 'credentials'],
    ['CA cut short', { skipVerify: false, caFile: at('cut.pem') }, `CA file '${at('cut.pem')}': not PEM (a BEGIN line without its END line)`, 'credentials'],
    ['CA a key', { skipVerify: false, caFile: certs.client.key }, `CA file '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`, 'credentials'],
    ['CA malformed', { skipVerify: false, caFile: at('bad-body.pem') }, `CA file '${at('bad-body.pem')}': holds a malformed certificate`, 'credentials'],
    ['CA expired', { skipVerify: false, caFile: certs.expired.cert }, `CA file '${certs.expired.cert}': certificate expired on 2020-01-02T00:00:00.000Z`, 'validity'],
    ['key of another certificate', client(certs.client.cert, other.client.key), `client key '${other.client.key}': does not match the client certificate '${certs.client.cert}'`, 'credentials'],
    ['PKCS#8 encrypted key', client(certs.client.cert, at('pkcs8-enc.key')), `client key '${at('pkcs8-enc.key')}': is encrypted`, 'credentials'],
    ['traditional encrypted key', client(certs.client.cert, at('traditional-enc.key')), `client key '${at('traditional-enc.key')}': is encrypted`, 'credentials'],
    ['certificate given as key', client(certs.client.cert, certs.client.cert), `client key '${certs.client.cert}': holds no private key (PEM of a CERTIFICATE)`, 'credentials'],
    ['key given as certificate', client(certs.client.key, certs.client.key), `client certificate '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`, 'credentials'],
    ['client certificate missing', client(at('missing.pem'), certs.client.key), `client certificate '${at('missing.pem')}': no such file`, 'credentials'],
    ['client key empty', client(certs.client.cert, at('empty.pem')), `client key '${at('empty.pem')}': is empty`, 'credentials'],
    ['client certificate expired', client(certs.expired.cert, certs.expired.key), `client certificate '${certs.expired.cert}': certificate expired on 2020-01-02T00:00:00.000Z`, 'validity'],
  ];
  const read = (file: string) => readFileSync(file);
  const https = await httpsServer(t, { cert: read(certs.server.cert), key: read(certs.server.key) }, (_req, res) => res.end('ok'));
  const grpcs = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: read(certs.server.cert), key: read(certs.server.key) });
  for (const [name, tls, line, kind] of cases) {
    t.test(name, async (t) => {
      const judged = await readTlsMaterial(tls);
      t.ok(isTlsFileProblem(judged) && describeTlsProblem(judged).startsWith(line), line);
      t.equal(isTlsFileProblem(judged) && judged.validity, kind === 'validity');
      const httpsSpec: CheckSpec = { kind: 'http', host: 'localhost', port: https, path: '/', timeoutMs: 2000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, tls };
      const grpcsSpec: CheckSpec = { kind: 'grpc', host: 'localhost', port: grpcs.port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 2000, metadata: [], tls };
      const viaHttps = failure(await runCheck(httpsSpec));
      t.match(viaHttps, { code: 'http-failed', exitCode: 5 });
      t.ok(viaHttps.message.includes(`: tls: ${line}`), viaHttps.message);
      const viaGrpcs = failure(await runCheck(grpcsSpec));
      t.match(viaGrpcs, { code: kind === 'validity' ? 'grpc-tls' : 'grpc-credentials', exitCode: 5 });
      t.ok(viaGrpcs.message.includes(`: tls: ${line}`), viaGrpcs.message);
    });
  }
  t.test('a bundle with an expired certificate beside a current one is used', async (t) => {
    writeFileSync(at('bundle.pem'), `${readFileSync(certs.expired.cert, 'utf8')}${readFileSync(certs.caFile, 'utf8')}`);
    t.notOk(isTlsFileProblem(await readTlsMaterial({ skipVerify: false, caFile: at('bundle.pem') })));
    t.match(await runCheck({ kind: 'grpc', host: 'localhost', port: grpcs.port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 2000, metadata: [], tls: { skipVerify: false, caFile: at('bundle.pem') } }), { passed: true });
  });
  t.test('a certificate not yet valid is named so', async (t) => {
    const judged = await readTlsMaterial({ skipVerify: false, caFile: certs.caFile }, Date.parse('2000-01-01T00:00:00Z'));
    t.ok(isTlsFileProblem(judged) && /^CA file '.*': certificate not valid before \d{4}-/.test(describeTlsProblem(judged)));
  });
});
