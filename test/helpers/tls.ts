// Certificates made for a test by openssl (in a directory removed at teardown), and TLS servers on loopback.
// openssl is needed: tests that use these skip with the reason when it is missing (tlsSkip).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Test } from 'tap';
import { serveOnLoopback, type Teardown } from '../checks/fixtures.js';
import { tempDir } from './temp-dir.js';

/** false when openssl can make certificates here; else why the test skips. */
export const tlsSkip: false | string = spawnSync('openssl', ['version']).status === 0 ? false : 'needs openssl to make test certificates';

export interface Certs {
  readonly dir: string;
  /** The test CA, which signed every certificate below except selfSigned. */
  readonly caFile: string;
  /** For localhost, 127.0.0.1 and ::1, valid now. */
  readonly server: KeyPair;
  /** For localhost, 127.0.0.1 and ::1, but expired in 2020. */
  readonly expired: KeyPair;
  /** Self-signed, for localhost and 127.0.0.1. */
  readonly selfSigned: KeyPair;
  /** A client certificate (CN=lifeguard-client). */
  readonly client: KeyPair;
}

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1';

/** A fresh CA and the certificates the TLS tests need (EC P-256 keys: fast to make). */
export function makeCerts(t: Teardown): Certs {
  const dir = tempDir(t);
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(`${name}.key`));
  writeFileSync(at('san.cnf'), `${SAN}\n`);
  writeFileSync(at('client.cnf'), 'extendedKeyUsage=clientAuth\n');
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('serial'), '01\n');
  // `openssl ca` is the one way openssl 3.0 sets a start date in the past, for the expired certificate.
  writeFileSync(
    at('ca.cnf'),
    '[ca]\ndefault_ca=test\n[test]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n',
  );
  key('ca');
  openssl('req', '-x509', '-new', '-key', at('ca.key'), '-out', at('ca.pem'), '-subj', '/CN=lifeguard test CA', '-days', '2');
  const signed = (name: string, cn: string, ext: string) => {
    key(name);
    openssl('req', '-new', '-key', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(ext));
  };
  signed('server', 'localhost', 'san.cnf');
  signed('client', 'lifeguard-client', 'client.cnf');
  key('expired');
  openssl('req', '-new', '-key', at('expired.key'), '-out', at('expired.csr'), '-subj', '/CN=localhost');
  openssl('ca', '-batch', '-config', at('ca.cnf'), '-cert', at('ca.pem'), '-keyfile', at('ca.key'), '-in', at('expired.csr'), '-out', at('expired.pem'), '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', at('san.cnf'), '-notext');
  key('self');
  openssl('req', '-x509', '-new', '-key', at('self.key'), '-out', at('self.pem'), '-subj', '/CN=localhost', '-days', '2', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  const pair = (name: string): KeyPair => ({ cert: at(`${name}.pem`), key: at(`${name}.key`) });
  return { dir, caFile: at('ca.pem'), server: pair('server'), expired: pair('expired'), selfSigned: pair('self'), client: pair('client') };
}

/** An HTTPS server on loopback with the given certificate (and options, e.g. requestCert); closed at teardown. */
export async function httpsServer(
  t: Test,
  options: ServerOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<number> {
  const server = createHttpsServer(options, onRequest);
  server.on('tlsClientError', () => {});
  return serveOnLoopback(t, server, host);
}
