// The shipped executable behaves the same whatever the app's environment holds: in Cloud Foundry and under a
// Docker HEALTHCHECK the agent inherits it. Each case runs a passing and a failing check and must end exactly as
// in a clean environment (exit code, stdout, stderr): no trace, no warning, no other exit code, no hang.
// Every name of the environment the Bun runtime reads is renamed in the executable (scripts/lib/bun-base.mjs), JavaScriptCore's and
// its allocator's (mimalloc's) options baked in (scripts/lib/bun-jsc-options.mjs, bun-mimalloc-options.mjs);
// NODE_OPTIONS is not read by Bun at all. Also: the working directory's .env and bunfig.toml are not loaded (Bun's
// compiled executables load both by default; scripts/lib/bun-compile.mjs turns that off).
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { closedPort, tcpServer } from '../checks/fixtures.js';
import { run, type Ended } from '../helpers/agent.js';
import { ensureExecutable } from '../helpers/executable.js';
import { httpsServer, makeCerts, tlsSkip } from '../helpers/tls.js';

t.setTimeout(300_000);
const BINARY = ensureExecutable();

// A preload that would announce itself, and leave a mark, if anything loaded it.
const dir = t.testdir({
  'otel.js': "require('fs').writeFileSync(__dirname + '/preloaded', 'yes'); console.error('PRELOADED');",
});
const preload = join(dir, 'otel.js');
const mark = join(dir, 'preloaded');
// Where Bun would write files at exit if the variables naming them reached it.
const written = ['order', 'order-names', 'digest'].map((name) => join(dir, name));

// Every BUN_<NAME> the runtime the executable is built from holds (about 120 in Bun 1.4.5, most of them read at
// some point: BUN_CONFIG_MAX_HTTP_REQUESTS=0 wrote a warning into the agent's stderr, BUN_GC_TIMER_DISABLE=1 changed
// how it ran), all set at once to 1, then to 0.
const require = createRequire(import.meta.url);
const bun = readFileSync(join(dirname(require.resolve('@oven/bun-linux-x64/package.json')), 'bin/bun')).toString('latin1');
const names = [...new Set(bun.match(/(?<![A-Za-z0-9_])BUN_[A-Z0-9][A-Z0-9_]*[A-Z0-9]/g))];
const every = (value: string): Record<string, string> => Object.fromEntries(names.map((name) => [name, value]));

const ENVIRONMENTS: readonly Record<string, string>[] = [
  { NODE_OPTIONS: '--require /app/otel.js' },
  { NODE_OPTIONS: `--require ${preload}` },
  { NODE_OPTIONS: '--inspect' },
  { NODE_OPTIONS: '--max-old-space-size=4096' },
  { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
  { NODE_EXTRA_CA_CERTS: '/nonexistent.pem' },
  { BUN_OPTIONS: '--require /app/otel.js' },
  { BUN_OPTIONS: `--preload ${preload}` },
  { BUN_OPTIONS: '--inspect' },
  { BUN_OPTIONS: '--max-old-space-size=4096' },
  { BUN_OPTIONS: '--smol --eval process.exit(9)' },
  { BUN_INSPECT: 'ws://127.0.0.1:1/x?break=1' },
  { BUN_INSPECT_PRELOAD: preload },
  { BUN_BE_BUN: '1' },
  // JavaScriptCore's options: Bun reads every BUN_JSC_<option>; the executable reads none (they are baked in).
  { BUN_JSC_useJIT: 'abc' },
  { BUN_JSC_dumpOptions: '2' },
  { BUN_JSC_useJIT: '1', BUN_JSC_useWarmUpMarkedBlocks: '1' },
  { JSC_useJIT: 'abc', JSC_dumpOptions: '2' },
  { BUN_BYTECODE_ORDER_OUT: written[0]!, BUN_BYTECODE_ORDER_NAMES_OUT: written[1]!, BUN_BYTECODE_DIGEST_OUT: written[2]! },
  // mimalloc, Bun's allocator, read MIMALLOC_<option> in any case: verbose wrote its diagnostics into stderr.
  { MIMALLOC_VERBOSE: '1', MIMALLOC_SHOW_STATS: '1', MIMALLOC_SHOW_ERRORS: '1' },
  { mimalloc_verbose: '1' },
  { BUN_CONFIG_MAX_HTTP_REQUESTS: '0' },
  { BUN_FEATURE_FLAG_DISABLE_IPV4: '1', BUN_GC_TIMER_DISABLE: '1', BUN_GARBAGE_COLLECTOR_LEVEL: '2' },
  every('1'),
  every('0'),
];

const clean = { PATH: '/usr/bin:/bin' };
const agent = (args: readonly string[], env: Record<string, string>, cwd?: string): Promise<Ended> =>
  // `env` replaces this process's environment entirely (run() adds to it), so that only the case is in play.
  // env -C: the working directory, where Bun would look for .env and bunfig.toml.
  run('/usr/bin/env', ['-i', '-C', cwd ?? dir, ...Object.entries({ ...clean, ...env }).map(([k, v]) => `${k}=${v}`), BINARY, ...args], {
    killAfterMs: 10_000,
  });
// Elapsed times in the report (`failed after 0.01s`) differ from run to run; nothing else may.
const outcome = (ended: Ended) => ({
  code: ended.code,
  signal: ended.signal,
  stdout: ended.stdout.replace(/\d+\.\d+s\b/g, 'N.NNs'),
  stderr: ended.stderr,
});

t.test('each variable is ignored: the same outcome as in a clean environment', async (t) => {
  const open = await tcpServer(t, (socket) => socket.destroy());
  const closed = await closedPort();
  const passing = ['--host', '127.0.0.1', '--port', String(open)];
  const failing = ['--host', '127.0.0.1', '--port', String(closed)];
  const expected = { passing: outcome(await agent(passing, {})), failing: outcome(await agent(failing, {})) };
  t.same(expected.passing, { code: 0, signal: null, stdout: '', stderr: '' }, 'clean: passes silently');
  t.equal(expected.failing.code, 4, 'clean: TCP failure');
  t.ok(names.length > 50 && names.includes('BUN_OPTIONS'), `the runtime's names found (${names.length})`);
  for (const env of ENVIRONMENTS) {
    const entries = Object.entries(env);
    const name = entries.length > 8 ? `every BUN_ name (${entries.length}) = ${entries[0]?.[1]}` : entries.map(([k, v]) => `${k}='${v}'`).join(' ');
    t.same(outcome(await agent(passing, env)), expected.passing, `${name}: passing check`);
    t.same(outcome(await agent(failing, env)), expected.failing, `${name}: failing check`);
  }
  t.notOk(existsSync(mark), 'nothing was preloaded');
  t.same(written.filter((file) => existsSync(file)), [], 'no file written where the environment said');
});

t.test('a TLS check: NODE_TLS_REJECT_UNAUTHORIZED changes nothing, not even stderr', { skip: tlsSkip }, async (t) => {
  // The checks set rejectUnauthorized themselves; Bun's node:tls warned that `0` disabled verification all the same.
  const certs = makeCerts(t);
  const port = await httpsServer(t, { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) }, (_req, res) => res.end());
  const trusted = ['--check', `https://localhost:${port}/`, '--ca-file', certs.caFile];
  const unknown = ['--check', `https://127.0.0.1:${port}/`];
  const expected = { trusted: outcome(await agent(trusted, {})), unknown: outcome(await agent(unknown, {})) };
  t.same(expected.trusted, { code: 0, signal: null, stdout: '', stderr: '' }, 'clean: the CA trusted, passes silently');
  t.match(expected.unknown, { code: 5, stdout: /tls: certificate signed by an unknown authority\n$/, stderr: '' }, 'clean: an unknown authority fails');
  for (const value of ['0', '1', '']) {
    t.same(outcome(await agent(trusted, { NODE_TLS_REJECT_UNAUTHORIZED: value })), expected.trusted, `NODE_TLS_REJECT_UNAUTHORIZED='${value}': trusted`);
    t.same(outcome(await agent(unknown, { NODE_TLS_REJECT_UNAUTHORIZED: value })), expected.unknown, `NODE_TLS_REJECT_UNAUTHORIZED='${value}': unknown authority`);
  }
});

t.test('.env and bunfig.toml in the working directory have no effect', async (t) => {
  const open = await tcpServer(t, (socket) => socket.destroy());
  const closed = await closedPort();
  const cwd = t.testdir({
    // Bun would load these at start: .env would set PORT (which the agent checks when given no --port) and
    // BUN_OPTIONS, bunfig.toml a preload.
    '.env': `PORT=${closed}\nBUN_OPTIONS=--preload ${preload}\n`,
    'bunfig.toml': `preload = ["${preload}"]\nsmol = true\n`,
  });
  const ended = await agent(['--host', '127.0.0.1'], { PORT: String(open) }, cwd);
  t.same(outcome(ended), { code: 0, signal: null, stdout: '', stderr: '' }, 'checked $PORT from the environment, not .env');
  const unset = await agent(['--host', '127.0.0.1', '--json'], {}, cwd);
  t.match(unset.stdout, '"target":"tcp://127.0.0.1:8080"', 'without $PORT: the default 8080, not the PORT of .env');
  t.notOk(existsSync(mark), 'bunfig.toml preloaded nothing');
});
