// The TLS files of the native flags and of a CheckDefinition, judged when the agent starts (both builds): one that
// can never work is a usage error (exit 2) naming it, where `--check grpcs://… --client-key` of another
// certificate once crashed the agent (tls.connect throwing in a handshake nobody awaited).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { closedPort, tcpServer } from '../checks/fixtures.js';
import { runAgent } from '../helpers/agent.js';
import { makeCerts, tlsSkip } from '../helpers/tls.js';

t.test('native flags and definitions: exit 2, one line naming the file', { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const other = makeCerts(t);
  const notPem = join(certs.dir, 'not.pem');
  writeFileSync(notPem, 'not PEM\n');
  const port = await closedPort();
  const definition = (tls: object) => {
    const file = join(certs.dir, `definition-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ checks: [{ grpc_check: { port, tls } }] }));
    return ['--definition', file];
  };
  for (const [argv, line] of [
    [['--check', `grpcs://127.0.0.1:${port}`, '--ca-file', notPem], `invalid TLS file: CA file '${notPem}': not PEM (no -----BEGIN line)`],
    [['--check', `grpcs://127.0.0.1:${port}`, '--client-cert', certs.client.cert, '--client-key', other.client.key], `invalid TLS file: client key '${other.client.key}': does not match the client certificate '${certs.client.cert}'`],
    [['--check', `https://127.0.0.1:${port}/`, '--ca-file', certs.client.key], `invalid TLS file: CA file '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`],
    [definition({ ca_file: notPem }), `invalid TLS file: CA file '${notPem}': not PEM (no -----BEGIN line)`],
    [definition({ client_cert: certs.client.key, client_key: certs.client.key }), `invalid TLS file: client certificate '${certs.client.key}': holds no certificate (PEM of a PRIVATE KEY)`],
    [definition({ server_name: 'bad name' }), 'server_name: expected a host name such as api.internal'],
  ] as const) {
    const ended = await runAgent([...argv]);
    t.equal(ended.code, 2, line);
    t.match(ended.stderr, /^[^\n]+\n$/, 'one line');
    t.ok(ended.stderr.includes(line), ended.stderr);
  }
  // The files are read once connected: a server that accepts and never speaks is enough.
  const listening = await tcpServer(t, () => {});
  const expired = await runAgent(['--check', `grpcs://127.0.0.1:${listening}`, '--client-cert', certs.expired.cert, '--client-key', certs.expired.key, '--ca-file', certs.caFile]);
  t.equal(expired.code, 5, 'an expired client certificate fails the check (a rotation may fix it), it is no usage error');
  t.match(expired.stdout, /tls: client certificate '.*expired\.pem': certificate expired on 2020-01-02/);
});
