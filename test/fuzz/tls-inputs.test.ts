// TLS inputs fuzzed, seeded (LIFEGUARD_SEED), as the argument vectors are: every combination of CA file, client
// certificate, client key and server name drawn from a pool made by openssl for the test (good ones, and the faults
// operators make: missing, a directory, empty, not PEM, cut short, PEM of another kind, an encrypted key, a key for
// another certificate, an expired certificate, bytes of a good PEM flipped at random), through every way in: the
// native flags, a CheckDefinition, grpc-health-probe's flags, and the https/grpcs checks themselves against real
// servers on loopback. Each ends in an invocation, a one-line usage error naming the file, or a check result with a
// one-line message and a documented code: never a throw, a stack trace, or a check that outlives its deadline.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { asLifeguardError, isDocumentedExitCode, LifeguardFailure } from '../../src/checks/errors.js';
import { runCheck } from '../../src/checks/run-check.js';
import { describeTlsProblem, isTlsFileProblem, readTlsMaterial } from '../../src/checks/tls-material.js';
import { GRPC_HEALTH_PATH, type CheckSpec, type TlsOptions } from '../../src/checks/types.js';
import { parseAgentArgs } from '../../src/cli/agent-args.js';
import { grpcHealthServer } from '../helpers/grpc-health.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';
import { seedFromEnv } from '../reliability/seed.js';
import { getenvOf } from '../helpers/getenv.js';

const seed = seedFromEnv(19);
const PARSED = 600;
const CHECKED = 120;
t.setTimeout(300_000);

t.test(`seed ${seed}: TLS files and server names, through every way in`, { skip: tlsSkip }, async (t) => {
  const certs = makeCerts(t);
  const other = makeCerts(t);
  const at = (name: string) => join(certs.dir, name);
  const write = (name: string, bytes: string | Buffer) => {
    writeFileSync(at(name), bytes);
    return at(name);
  };
  mkdirSync(at('a-dir'));
  execFileSync('openssl', ['pkey', '-in', certs.client.key, '-out', at('encrypted.key'), '-aes256', '-passout', 'pass:x']);
  const caText = readFileSync(certs.caFile, 'utf8');
  const keyText = readFileSync(certs.client.key, 'utf8');
  // Bytes of a good PEM flipped at random: the seed decides which, so a failure replays.
  const flipped = (text: string, salt: number) => {
    const bytes = Buffer.from(text);
    const rng = fc.sample(fc.array(fc.nat({ max: bytes.length - 1 }), { minLength: 1, maxLength: 6 }), { seed: seed + salt, numRuns: 1 })[0] ?? [0];
    for (const index of rng) bytes[index] = (bytes[index] as number) ^ (1 + (index % 255));
    return bytes;
  };
  const cas = [
    certs.caFile, other.caFile, at('missing.pem'), at('a-dir'), write('empty.pem', ''), write('garbage.pem', 'not PEM\n'),
    write('cut.pem', caText.slice(0, 100)), certs.client.key, write('bundle.pem', `${caText}\n${readFileSync(other.caFile, 'utf8')}`),
    certs.expired.cert, write('crlf.pem', caText.replace(/\n/g, '\r\n')), write('flipped-ca.pem', flipped(caText, 1)),
    write('binary.pem', Buffer.from([0, 1, 2, 255, 254])),
  ];
  const clientCerts = [certs.client.cert, other.client.cert, certs.expired.cert, at('missing.pem'), at('a-dir'), at('empty.pem'), at('garbage.pem'), certs.client.key];
  const keys = [
    certs.client.key, other.client.key, certs.expired.key, at('encrypted.key'), at('missing.pem'), at('empty.pem'), certs.client.cert,
    write('flipped.key', flipped(keyText, 2)), write('cut.key', keyText.slice(0, 60)),
  ];
  const names = ['localhost', '127.0.0.1', 'other.test', '', 'bad name', 'a/b', '[::1]', '-x'];
  const material = fc.record({
    ca: fc.option(fc.constantFrom(...cas), { nil: undefined }),
    pair: fc.option(fc.tuple(fc.constantFrom(...clientCerts), fc.constantFrom(...keys)), { nil: undefined }),
    serverName: fc.option(fc.constantFrom(...names), { nil: undefined }),
    skipVerify: fc.boolean(),
  });
  const oneLine = (text: string) => text.length > 0 && !text.includes('\n') && !/^\s+at .+[(:]\d+/m.test(text);

  t.test(`${PARSED} combinations parse to an invocation, or a one-line usage error naming the file`, async (t) => {
    const outcomes = { run: 0, usage: 0 };
    await fc.assert(
      fc.asyncProperty(material, fc.constantFrom('native', 'definition', 'probe'), async (m, way) => {
        const argv = way === 'probe' ? probeArgv(m) : way === 'native' ? nativeArgv(m) : ['--definition', write('definition.json', definitionJson(m))];
        try {
          const invocation = await parseAgentArgs(argv, getenvOf({ PORT: '8080' }));
          outcomes.run += 1;
          return invocation.kind === 'run' || invocation.kind === 'print';
        } catch (thrown) {
          outcomes.usage += 1;
          const error = asLifeguardError(thrown);
          const expected = way === 'probe' ? 1 : 2;
          const names = (text: string) => [m.ca, ...(m.pair ?? [])].some((file) => file !== undefined && file !== '' && text.includes(`'${file}'`));
          const ok = thrown instanceof LifeguardFailure && error.exitCode === expected && oneLine(error.message);
          // A TLS file judged unusable is named; the other usage errors (a bad server name, a flag rule) name the flag.
          return ok && (!/TLS file|tls credentials:/.test(error.message) || names(error.message));
        }
      }),
      { seed, numRuns: PARSED },
    );
    t.pass(`invocations ${outcomes.run}, usage errors ${outcomes.usage}`);
  });

  t.test('readTlsMaterial: a problem is a value naming one of the files, never a throw', async (t) => {
    await fc.assert(
      fc.asyncProperty(material, async (m) => {
        const judged = await readTlsMaterial(tlsOf(m));
        if (!isTlsFileProblem(judged)) return true;
        return oneLine(describeTlsProblem(judged)) && [m.ca, ...(m.pair ?? [])].includes(judged.file);
      }),
      { seed, numRuns: PARSED },
    );
    t.pass();
  });

  t.test(`${CHECKED} https and grpcs checks against real servers: a result on time, one line, a documented code`, async (t) => {
    const read = (file: string) => readFileSync(file);
    const https = await httpsServer(t, { cert: read(certs.server.cert), key: read(certs.server.key), requestCert: true, rejectUnauthorized: false, ca: read(certs.caFile) }, (_req, res) => res.end('ok'));
    const grpcs = await grpcHealthServer(t, { '': { serving: 1 } }, { cert: read(certs.server.cert), key: read(certs.server.key), requestCert: true, rejectUnauthorized: true, ca: read(certs.caFile) });
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(material.filter((m) => m.serverName === undefined || /^[a-z0-9.]+$/.test(m.serverName)), fc.boolean(), async (m, grpc) => {
        const tls = tlsOf(m);
        const spec: CheckSpec = grpc
          ? { kind: 'grpc', host: 'localhost', port: grpcs.port, path: GRPC_HEALTH_PATH, service: '', timeoutMs: 2000, metadata: [], tls }
          : { kind: 'http', host: '127.0.0.1', port: https, path: '/', timeoutMs: 2000, expectStatus: [{ min: 200, max: 299 }], headers: [], followRedirects: false, tls };
        const started = performance.now();
        const result = await runCheck(spec);
        const late = performance.now() - started > 2000 + 1000;
        const key = result.passed ? 'passed' : result.error.code;
        codes.set(key, (codes.get(key) ?? 0) + 1);
        return !late && (result.passed || (oneLine(result.error.message) && isDocumentedExitCode(result.error.exitCode) && result.error.code !== 'internal'));
      }),
      { seed, numRuns: CHECKED },
    );
    t.pass(JSON.stringify(Object.fromEntries(codes)));
  });
});

interface Drawn {
  readonly ca: string | undefined;
  readonly pair: readonly [string, string] | undefined;
  readonly serverName: string | undefined;
  readonly skipVerify: boolean;
}

function tlsOf(m: Drawn): TlsOptions {
  return {
    skipVerify: m.skipVerify,
    ...(m.ca === undefined ? {} : { caFile: m.ca }),
    ...(m.pair === undefined ? {} : { clientCertFile: m.pair[0], clientKeyFile: m.pair[1] }),
    ...(m.serverName === undefined || m.serverName === '' ? {} : { serverName: m.serverName }),
  };
}

function nativeArgv(m: Drawn): string[] {
  return [
    '--check', 'grpcs://127.0.0.1:1', '--check', 'https://127.0.0.1:1/',
    ...(m.skipVerify ? ['--tls-skip-verify'] : []),
    ...(m.ca === undefined ? [] : ['--ca-file', m.ca]),
    ...(m.pair === undefined ? [] : ['--client-cert', m.pair[0], '--client-key', m.pair[1]]),
    ...(m.serverName === undefined ? [] : [`--server-name=${m.serverName}`]),
  ];
}

function definitionJson(m: Drawn): string {
  const tls = {
    skip_verify: m.skipVerify,
    ...(m.ca === undefined ? {} : { ca_file: m.ca }),
    ...(m.pair === undefined ? {} : { client_cert: m.pair[0], client_key: m.pair[1] }),
    ...(m.serverName === undefined ? {} : { server_name: m.serverName }),
  };
  return JSON.stringify({ checks: [{ grpc_check: { port: 1, tls } }, { http_check: { port: 1, path: '/', tls } }] });
}

function probeArgv(m: Drawn): string[] {
  return [
    '-addr=127.0.0.1:1', '-tls',
    ...(m.skipVerify ? ['-tls-no-verify'] : []),
    ...(m.ca === undefined ? [] : [`-tls-ca-cert=${m.ca}`]),
    ...(m.pair === undefined ? [] : [`-tls-client-cert=${m.pair[0]}`, `-tls-client-key=${m.pair[1]}`]),
    ...(m.serverName === undefined ? [] : [`-tls-server-name=${m.serverName}`]),
  ];
}
