// The two dialects' parsing, in-process: which AgentOptions a command line becomes. Running them is
// tested end to end through the built agent (native.test.ts, cf-dialect.test.ts).
import t from 'tap';
import type { AgentOptions, LoopMode } from '../../src/engine/types.js';
import { parseCfArgs } from '../../src/cli/cf-dialect.js';
import { parseNativeArgs } from '../../src/cli/healthcheck.js';
import { makeCerts, tlsSkip } from '../helpers/tls.js';
import type { Invocation, ParseArgs } from '../../src/cli/invocation.js';
import { getenvOf } from '../helpers/getenv.js';

async function options(parse: ParseArgs, argv: string[], env: Record<string, string> = {}): Promise<AgentOptions> {
  const invocation: Invocation = await parse(argv, getenvOf(env));
  if (invocation.kind !== 'run') throw new Error('expected a run');
  return invocation.options;
}

const native = (argv: string[], env?: Record<string, string>) => options(parseNativeArgs, argv, env);
const cf = (argv: string[], env?: Record<string, string>) => options(parseCfArgs, argv, env);

t.test('native defaults: once, TCP on $PORT else 8080, 1s timeout', async (t) => {
  t.same(await native([]), {
    mode: 'once',
    checks: [{ kind: 'tcp', port: 8080, timeoutMs: 1000 }],
    intervalMs: 2000,
    startupTimeoutMs: 0,
    initialDelayMs: 0,
    failureThreshold: 1,
  });
  t.equal((await native([], { PORT: '9000' })).checks[0]!.port, 9000, '$PORT');
  t.equal((await native(['--port', '7000'], { PORT: '9000' })).checks[0]!.port, 7000, '--port wins over $PORT');
});

t.test('native modes, aliases and their default intervals', async (t) => {
  for (const [mode, agentMode, intervalMs, startupTimeoutMs] of [
    ['readiness', 'readiness', 2000, 60_000],
    ['starting', 'readiness', 2000, 60_000],
    ['startup', 'readiness', 2000, 60_000],
    ['liveness', 'liveness', 30_000, 0],
    ['running', 'liveness', 30_000, 0],
    ['until-ready', 'until-ready', 2000, 0],
    ['once', 'once', 2000, 0],
  ] as const) {
    const o = await native([`--mode=${mode}`]);
    t.same([o.mode, o.intervalMs, o.startupTimeoutMs], [agentMode, intervalMs, startupTimeoutMs], mode);
  }
});

t.test('native HTTP options apply to every HTTP check', async (t) => {
  const o = await native([
    '--host', '::1', '--port', '8081', '--uri', '/health', '--timeout', '250ms', '--interval', '1m30s',
    '--startup-timeout', '0', '--initial-delay', '2s', '--failure-threshold', '3', '--expect-status', '200-299,304',
    '--header', 'Authorization: Bearer x', '--header', 'X-A: 1', '--follow-redirects', '--mode', 'readiness',
  ]);
  const http = {
    expectStatus: [{ min: 200, max: 299 }, { min: 304, max: 304 }],
    headers: [['Authorization', 'Bearer x'], ['X-A', '1']],
    followRedirects: true,
  };
  t.same(o, {
    mode: 'readiness',
    checks: [{ kind: 'http', host: '::1', port: 8081, timeoutMs: 250, path: '/health', ...http }],
    intervalMs: 90_000,
    startupTimeoutMs: 0,
    initialDelayMs: 2000,
    failureThreshold: 3,
  });
});

t.test('--check replaces --port/--uri; an empty host takes --host', async (t) => {
  const o = await native(['--check', 'tcp://:5432', '--check', 'http://127.0.0.2:8080/ready', '--host', '127.0.0.1', '--port', '1', '--uri', '/x']);
  t.same(o.checks.map((c) => [c.kind, c.host, c.port]), [['tcp', '127.0.0.1', 5432], ['http', '127.0.0.2', 8080]]);
});

t.test('https, grpc and names in --check; TLS flags and HTTP assertions apply to the checks that take them', { skip: tlsSkip }, async (t) => {
  // The TLS files are judged at parse time: real ones, made for the test.
  const certs = makeCerts(t);
  const o = await native([
    '--check', 'https://localhost:8443/ready', '--check', 'grpcs://[::1]:50051/shop.Cart', '--check', 'grpc://db.internal:50051',
    '--check', 'https://:443', '--check', 'tcp://localhost:5432', '--host', 'app.internal', '--ca-file', certs.caFile,
    '--server-name', 'api.internal', '--method', 'GET', '--expect-body-regex', '^ok', '--expect-header', 'Content-Type: ^text/',
    '--header', 'X-A: 1',
  ]);
  const tls = { skipVerify: false, caFile: certs.caFile, serverName: 'api.internal' };
  t.match(o.checks, [
    { kind: 'http', host: 'localhost', port: 8443, path: '/ready', tls, expectBody: { kind: 'regex', regex: /^ok/ }, expectHeaders: [{ name: 'Content-Type', regex: /^text\// }] },
    { kind: 'grpc', host: '::1', port: 50051, service: 'shop.Cart', tls, metadata: [['X-A', '1']], path: '/grpc.health.v1.Health/Check' },
    { kind: 'grpc', host: 'db.internal', port: 50051, service: '' },
    { kind: 'http', host: 'app.internal', port: 443, path: '/' },
    { kind: 'tcp', host: 'localhost', port: 5432 },
  ]);
  t.equal('tls' in (o.checks[2] ?? {}), false, 'grpc:// is plaintext');
  t.equal('method' in (o.checks[0] ?? {}), false, 'GET is the default, not a field');
  t.match((await native(['--uri', '/', '--method', 'HEAD'])).checks, [{ kind: 'http', method: 'HEAD' }]);
  t.match((await native(['--check', 'https://:1/', '--tls-skip-verify', '--client-cert', certs.client.cert, '--client-key', certs.client.key])).checks, [
    { tls: { skipVerify: true, clientCertFile: certs.client.cert, clientKeyFile: certs.client.key } },
  ]);
});

t.test('a command after --: split off before the dialect is chosen, even when it holds single-dash flags', async (t) => {
  const { parseAgentArgs } = await import('../../src/cli/agent-args.js');
  const gated = await parseAgentArgs(['--mode=readiness', '--check', 'tcp://:5432', '--', './server', '-port=8080', '--', 'x'], getenvOf());
  if (gated.kind !== 'run') throw new Error('expected a run');
  t.same(gated.command, ['./server', '-port=8080', '--', 'x']);
  t.equal(gated.options.mode, 'readiness');
  const plain = await parseAgentArgs(['--check', 'tcp://:5432'], getenvOf());
  t.equal(plain.kind === 'run' && plain.command, undefined);
});

t.test('the dialect selector reads arguments as the regular expression it replaces', async (t) => {
  const { dialectSelector } = await import('../../src/cli/dialect.js');
  const byExpression = (arg: string): boolean => arg[0] === '-' && arg[1] !== '-' && /^-[A-Za-z][\w-]+(=|$)/.test(arg);
  const args = ['-port=8080', '-uri', '-p', '-p=1', '-pp', '-pp=', '-pp==', '-p-', '-p_', '-p9', '-9p', '-_p', '-é', '-pé', '-pé=1', '-p%=1',
    '-pp=%', '-pp\n', '-p\u0663', '--port=1', '-', '', 'port', '-P-Q_R=x=y', '-pp x', '-pp\u2028'];
  for (const arg of args) {
    const shown = JSON.stringify(arg).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
    t.equal(dialectSelector([arg]) !== undefined, byExpression(arg), shown);
  }
});

t.test('help and version print and exit 0', async (t) => {
  const help = await parseNativeArgs(['--help'], getenvOf());
  t.equal(help.kind, 'print');
  t.match(help.kind === 'print' && help.told.stdout, /--mode <mode>[\s\S]*--heartbeat-fd/);
  const version = await parseNativeArgs(['--version'], getenvOf());
  t.match(version.kind === 'print' && version.told.stdout, /^\d+\.\d+\.\d+\n$/);
  const cfHelp = await parseCfArgs(['-help'], getenvOf());
  t.match(cfHelp.kind === 'print' && cfHelp.told.stderr, /-startup-interval duration/, 'CF: usage on stderr');
});

t.test('CF dialect: the mode comes from the first interval flag set, in the binary order', async (t) => {
  const once = await cf(['-port=8081']);
  t.same(once, {
    mode: 'once',
    checks: [{ kind: 'tcp', port: 8081, portText: '8081', timeoutMs: 1000 }],
    intervalMs: 1000,
    startupTimeoutMs: 0,
    initialDelayMs: 0,
    failureThreshold: 1,
    interfaceRule: 'cloud-foundry',
    fromProcessStart: true,
  });
  const startup = await cf(['-startup-interval=2s', '-liveness-interval=5s']);
  t.same([startup.mode, startup.intervalMs, startup.startupTimeoutMs], ['readiness', 2000, 60_000], 'startup wins');
  const liveness = await cf(['-liveness-interval=5s', '-readiness-interval=1s', '-startup-timeout=0']);
  t.same([liveness.mode, liveness.intervalMs, liveness.startupTimeoutMs], ['liveness', 5000, 0]);
  const readiness = await cf(['-readiness-interval', '3s']);
  t.same([readiness.mode, readiness.intervalMs], ['liveness', 3000], 'readiness: runs until a failure');
  const untilReady = await cf(['--until-ready-interval=500ms']);
  t.same([untilReady.mode, untilReady.intervalMs], ['until-ready', 500]);
  t.equal((await cf(['-startup-interval=0s'])).mode, 'once', 'an interval of 0 is "not set"');
  t.equal((await cf(['-liveness-interval=-1s'])).mode, 'once', 'nor is a negative one, as in the binary');
  const unbounded = await cf(['-startup-interval=1s', '-startup-timeout=-1s']);
  t.same([unbounded.mode, unbounded.startupTimeoutMs], ['readiness', 0], 'a negative startup timeout never fires');
  for (const argv of [['-port=1'], ['-startup-interval=1s'], ['-liveness-interval=1s'], ['-readiness-interval=1s'], ['-until-ready-interval=1s'], ['-readiness-interval=1s', '-readiness-timeout=1s']]) {
    t.equal((await cf(argv)).fromProcessStart, true, `${argv.join(' ')}: intervals count from the process's start`);
  }
});

t.test('CF dialect: HTTP with the binary headers, exactly 200, redirects followed', async (t) => {
  const o = await cf(['-uri=/health', '-port', '9000', '-timeout=2s', '-network=tcp']);
  t.same(o.checks, [{
    kind: 'http', port: 9000, portText: '9000', timeoutMs: 2000, path: '/health', expectStatus: [{ min: 200, max: 200 }],
    headers: [['X-Forwarded-Proto', 'https']], userAgent: 'diego-healthcheck', followRedirects: true,
    wording: 'cloud-foundry',
  }]);
  t.equal((await cf(['-uri=', '-port=1'])).checks[0]!.kind, 'tcp', 'an empty -uri is a TCP check');
});

t.test('CF dialect before May 2023: -readiness-timeout makes -readiness-interval the startup mode', async (t) => {
  const startup = await cf(['-port=8080', '-readiness-interval=2s', '-readiness-timeout=30s']);
  t.same([startup.mode, startup.intervalMs, startup.startupTimeoutMs], ['readiness', 2000, 30_000]);
  const never = await cf(['-readiness-interval=1s', '-readiness-timeout=0s']);
  t.same([never.mode, never.startupTimeoutMs], ['readiness', 0], 'a 0s timeout never times out');
  const liveness = await cf(['-liveness-interval=5s', '-readiness-timeout=60s']);
  t.same([liveness.mode, liveness.intervalMs, liveness.startupTimeoutMs], ['liveness', 5000, 0], 'that binary tried liveness after startup');
  t.equal((await cf(['-readiness-timeout=60s'])).mode, 'once');
  const today = await cf(['-readiness-interval=2s']);
  t.same([today.mode, today.startupTimeoutMs], ['liveness', 0], 'without -readiness-timeout: today\'s readiness, until a failure');
});

t.test('CF dialect: -external-port maps -port through CF_INSTANCE_PORTS; nothing is mapped without it', async (t) => {
  const env = { CF_INSTANCE_PORTS: '[{"internal":8080,"external":61001},{"internal":2222,"external":61002}]' };
  t.equal((await cf(['-port=8080', '-external-port'], env)).checks[0]!.port, 61001);
  t.equal((await cf(['-external-port=true', '-port=2222'], env)).checks[0]!.port, 61002);
  t.equal((await cf(['-port=9999', '-external-port'], env)).checks[0]!.port, 9999, 'a port with no mapping stays');
  t.equal((await cf(['-port=8080'], env)).checks[0]!.port, 8080, 'never by default');
  t.equal((await cf(['-port=8080', '-external-port=false'], env)).checks[0]!.port, 8080);
  const chained = { CF_INSTANCE_PORTS: '[{"internal":8080,"external":61001},{"internal":61001,"external":61005}]' };
  t.equal((await cf(['-port=8080', '-external-port'], chained)).checks[0]!.port, 61005, "each entry applies to the port left by the previous, as in that build");
});

t.test('the environment is read only for a value the command line leaves to it', async (t) => {
  const { parseAgentArgs } = await import('../../src/cli/agent-args.js');
  const env = getenvOf({ PORT: '9000', CF_INSTANCE_PORTS: '[{"internal":8080,"external":61001}]' });
  const reads = async (argv: string[]): Promise<string[]> => {
    const names: string[] = [];
    await parseAgentArgs(argv, (name) => {
      names.push(name);
      return env(name);
    });
    return names;
  };
  // Bun makes process.env whole at its first read, every variable a property: a start that needs none reads none.
  t.same(await reads(['--mode=once', '--port', '8080']), [], 'native, --port given');
  t.same(await reads(['--mode=readiness', '--check', 'tcp://:5432', '--', './server']), [], 'native, --check given');
  t.same(await reads(['--mode=once']), ['PORT'], 'native, no port: $PORT');
  t.same(await reads(['-port=8080']), [], 'CF flags');
  t.same(await reads(['-port=8080', '-external-port']), ['CF_INSTANCE_PORTS'], 'CF flags, -external-port');
  t.same(await reads(['-addr=:50051']), [], 'grpc-health-probe flags');
});

t.test('CF dialect: what the binary says when its mode fails', async (t) => {
  const outcome = { passed: false, exitCode: 4, elapsedMs: 60_000, attempts: 30, checks: [] } as const;
  const failure = { code: 'tcp-failed', exitCode: 4, message: 'failed to make TCP connection to 10.0.0.5:8080: connect: connection refused' } as const;
  const told = async (argv: string[], timedOut: boolean) => {
    const invocation = await parseCfArgs(argv, getenvOf());
    if (invocation.kind !== 'run') throw new Error('expected a run');
    return invocation.tell({ ...outcome, mode: invocation.options.mode as LoopMode, end: timedOut ? 'timed-out' : 'failed', timedOut, failure });
  };
  t.same(await told(['-startup-interval=2s'], true), {
    stderr: `Timed out after 1m0s (30 attempts) waiting for startup check to succeed: ${failure.message}\n`,
  });
  t.same(await told(['-readiness-interval=2s', '-readiness-timeout=1m'], true), {
    stderr: `Timed out after 1m0s (30 attempts) waiting for readiness check to succeed: ${failure.message}\n`,
  }, 'before May 2023');
  t.same(await told(['-liveness-interval=2s'], false), { stderr: `Liveness check unsuccessful: ${failure.message}\n` });
  t.same(await told(['-readiness-interval=2s'], false), { stderr: `Readiness check unsuccessful: ${failure.message}\n` });
  t.same(await told(['-port=8080'], false), { stderr: `${failure.message}\n` });
});
