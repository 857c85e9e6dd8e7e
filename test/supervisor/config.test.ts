import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { APP_DEFAULTS, loadConfig, parseConfig } from '../../src/supervisor/config/config.js';

const web = { name: 'web', command: ['node', 'app.mjs'], checks: [{ http_check: { port: 8080, path: '/health' } }] };

/** The usage error (exit 2) a config gives, as the operator reads it. */
function failureOf(json: unknown): { exitCode: number; message: string } {
  try {
    parseConfig(json);
  } catch (error) {
    if (error instanceof LifeguardFailure) return { exitCode: error.error.exitCode, message: error.message };
    throw error;
  }
  throw new Error('config was accepted');
}

t.test('applies every default to a minimal app', async (t) => {
  const config = parseConfig({ apps: [web] });
  t.equal(config.http, undefined, 'no endpoint unless configured');
  t.equal(config.supervisor.stateDir, '.lifeguard');
  t.same(config.supervisor.apps[0], {
    name: 'web',
    command: ['node', 'app.mjs'],
    env: {},
    instances: 1,
    ports: [8080],
    checks: [{ kind: 'http', port: 8080, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false }],
    readinessChecks: [{ kind: 'http', port: 8080, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false }],
    startupTimeoutMs: 60_000,
    startupIntervalMs: 2_000,
    livenessIntervalMs: 30_000,
    probe: 'sidecar',
    driver: 'process',
    gracePeriodMs: 10_000,
    prewarm: 0,
    restart: { immediate: 3, backoffMinMs: 30_000, backoffMaxMs: 960_000, maxRestarts: 200, resetAfterMs: 300_000 },
    rollout: { maxSurge: 1, maxUnavailable: 0 },
    output: { to: 'file', maxBytes: 10 * 1024 * 1024 },
    checkHistory: 10,
  });
  t.equal(APP_DEFAULTS.instances, 1);
});

t.test('limits and output: sizes in bytes or with a unit, cpu in cores', async (t) => {
  const app = parseConfig({ apps: [{ ...web, limits: { memory: '64M', cpu: 0.5, pids: 100 }, output: { to: 'stderr', maxSize: '1Mi' } }] }).supervisor.apps[0]!;
  t.same(app.limits, { memoryBytes: 64 * 1024 * 1024, cpuQuotaUs: 50_000, pids: 100 });
  t.same(app.output, { to: 'stderr', maxBytes: 1024 * 1024 });
  t.same(parseConfig({ apps: [{ ...web, limits: { memory: 1 << 30 } }] }).supervisor.apps[0]!.limits, { memoryBytes: 1 << 30 });
  t.equal(parseConfig({ apps: [web] }).supervisor.apps[0]!.limits, undefined, 'no limits unless asked');
});

t.test('takes every field of the README example', async (t) => {
  const config = parseConfig({
    apps: [{
      name: 'web', command: ['node', 'examples/app.mjs'], env: { GREETING: 'hi' }, instances: 3, ports: [8080],
      checks: [{ http_check: { port: 8080, path: '/health', request_timeout_ms: 1000 } }],
      startTimeout: '60s', startupInterval: '2s', livenessInterval: '30s',
      probe: 'native', driver: 'process', gracePeriod: '1m30s', prewarm: 2,
      restart: { immediate: 1, backoffMin: '500ms', backoffMax: '4s', maxRestarts: 5, resetAfter: '1m' },
    }],
    http: { listen: '127.0.0.1:9464', token: 'secret' },
    stateDir: '/tmp/lg',
  });
  const app = config.supervisor.apps[0]!;
  t.same(app.env, { GREETING: 'hi' });
  t.equal(app.instances, 3);
  t.equal(app.probe, 'native');
  t.equal(app.gracePeriodMs, 90_000);
  t.equal(app.prewarm, 2);
  t.same(app.restart, { immediate: 1, backoffMinMs: 500, backoffMaxMs: 4000, maxRestarts: 5, resetAfterMs: 60_000 });
  t.same(config.http, { listen: '127.0.0.1:9464', token: 'secret' });
  t.equal(config.supervisor.stateDir, '/tmp/lg');
});

t.test('ports default to the ports the checks name, readiness checks included', async (t) => {
  const app = parseConfig({
    apps: [{ ...web, checks: [{ tcp_check: { port: 9000 } }, { http_check: { port: 8080, path: '/' } }], readiness_checks: [{ tcp_check: { port: 9000 } }, { tcp_check: { port: 7000 } }] }],
  }).supervisor.apps[0]!;
  t.same(app.ports, [9000, 8080, 7000]);
  t.same(app.readinessChecks.map((c) => c.port), [9000, 7000]);
  t.same(app.checks.map((c) => c.port), [9000, 8080]);
});

t.test("the checks' interval_ms sets an interval the app leaves out", async (t) => {
  const checks = [{ http_check: { port: 8080, path: '/health', interval_ms: 700 } }];
  t.equal(parseConfig({ apps: [{ ...web, checks }] }).supervisor.apps[0]!.livenessIntervalMs, 700);
  t.equal(parseConfig({ apps: [{ ...web, checks, livenessInterval: '5s' }] }).supervisor.apps[0]!.livenessIntervalMs, 5000);
});

t.test('a docker app needs an image and no command', async (t) => {
  const app = parseConfig({ apps: [{ name: 'db', image: 'postgres:16', driver: 'docker', checks: [{ tcp_check: { port: 5432 } }] }] }).supervisor.apps[0]!;
  t.equal(app.image, 'postgres:16');
  t.equal(app.command, undefined);
});

t.test('each invalid field is a usage error (exit 2) naming its path', async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /^config: expected a JSON or YAML object with "apps"$/],
    ['no apps', {}, /^config: apps: /],
    ['empty apps', { apps: [] }, /^config: apps: expected at least one app/],
    ['unknown top-level field', { apps: [web], extra: 1 }, /^config: extra: unknown field$/],
    ['unknown app field', { apps: [{ ...web, comand: ['x'] }] }, /^config: apps\[0\]\.comand: unknown field \(did you mean 'command'\?\)$/],
    ['a near miss, nested', { apps: [{ ...web, restart: { maxRestart: 2 } }] }, /^config: apps\[0\]\.restart\.maxRestart: unknown field \(did you mean 'maxRestarts'\?\)$/],
    ['a near miss at the top', { apps: [web], statedir: 'x' }, /^config: statedir: unknown field \(did you mean 'stateDir'\?\)$/],
    ['missing name', { apps: [{ command: ['x'], checks: web.checks }] }, /^config: apps\[0\]\.name: /],
    ['name not URL-safe', { apps: [{ ...web, name: 'a/b' }] }, /^config: apps\[0\]\.name: .*got "a\/b"/],
    ['duplicate name', { apps: [web, web] }, /^config: apps\[1\]\.name: duplicate app name/],
    ['shell-string command', { apps: [{ ...web, command: 'node app.mjs' }] }, /^config: apps\[0\]\.command: expected an array of strings/],
    ['empty command', { apps: [{ ...web, command: [] }] }, /^config: apps\[0\]\.command: /],
    ['empty argument', { apps: [{ ...web, command: ['node', ''] }] }, /^config: apps\[0\]\.command\[1\]: /],
    ['no command', { apps: [{ name: 'web', checks: web.checks }] }, /^config: apps\[0\]\.command: required by the process driver/],
    ['image without docker', { apps: [{ ...web, image: 'x' }] }, /^config: apps\[0\]\.image: /],
    ['docker without image', { apps: [{ ...web, driver: 'docker' }] }, /^config: apps\[0\]\.image: required by the docker driver/],
    ['no checks', { apps: [{ name: 'web', command: ['x'] }] }, /^config: apps\[0\]\.checks: /],
    ['a roll that could never move', { apps: [{ ...web, rollout: { maxSurge: 0, maxUnavailable: 0 } }] }, /^config: apps\[0\]\.rollout: maxSurge and maxUnavailable cannot both be 0/],
    ['a negative surge', { apps: [{ ...web, rollout: { maxSurge: -1 } }] }, /^config: apps\[0\]\.rollout\.maxSurge: expected an integer of at least 0/],
    ['unknown rollout field', { apps: [{ ...web, rollout: { strategy: 'recreate' } }] }, /^config: apps\[0\]\.rollout\.strategy: unknown field$/],
    ['empty checks', { apps: [{ ...web, checks: [] }] }, /^config: apps\[0\]\.checks: expected at least one check/],
    ['bad check port', { apps: [{ ...web, checks: [{ tcp_check: { port: 70000 } }] }] }, /^config: apps\[0\]\.checks\[0\]\.tcp_check\.port: /],
    ['check entry with both kinds', { apps: [{ ...web, checks: [{ tcp_check: { port: 1 }, http_check: { port: 1, path: '/' } }] }] }, /^config: apps\[0\]\.checks\[0\]: /],
    ['check port not among ports', { apps: [{ ...web, ports: [9090] }] }, /^config: apps\[0\]\.checks\[0\]\.http_check\.port: expected one of the app's ports \(9090\)/],
    ['readiness port not among ports', { apps: [{ ...web, ports: [8080], readiness_checks: [{ tcp_check: { port: 1 } }] }] }, /^config: apps\[0\]\.readiness_checks\[0\]\.tcp_check\.port: /],
    ['port 0', { apps: [{ ...web, ports: [0] }] }, /^config: apps\[0\]\.ports\[0\]: expected a port number from 1 to 65535/],
    ['port too high', { apps: [{ ...web, ports: [8080, 65536] }] }, /^config: apps\[0\]\.ports\[1\]: /],
    ['duplicate port', { apps: [{ ...web, ports: [8080, 8080] }] }, /^config: apps\[0\]\.ports\[1\]: duplicate port/],
    ['env value not a string', { apps: [{ ...web, env: { N: 5 } }] }, /^config: apps\[0\]\.env\.N: expected a string/],
    ['negative instances', { apps: [{ ...web, instances: -1 }] }, /^config: apps\[0\]\.instances: expected an integer of at least 0/],
    ['fractional prewarm', { apps: [{ ...web, prewarm: 1.5 }] }, /^config: apps\[0\]\.prewarm: /],
    ['unknown probe', { apps: [{ ...web, probe: 'exec' }] }, /^config: apps\[0\]\.probe: expected "sidecar", "native" or "oneshot"/],
    ['unknown driver', { apps: [{ ...web, driver: 'vm' }] }, /^config: apps\[0\]\.driver: /],
    ['bare-number duration', { apps: [{ ...web, restart: { backoffMin: '5' } }] }, /^config: apps\[0\]\.restart\.backoffMin: expected a Go duration .*got "5"$/],
    ['numeric duration', { apps: [{ ...web, startTimeout: 5 }] }, /^config: apps\[0\]\.startTimeout: expected a Go duration .*got 5$/],
    ['zero interval', { apps: [{ ...web, livenessInterval: '0s' }] }, /^config: apps\[0\]\.livenessInterval: .*above 0/],
    ['unknown restart field', { apps: [{ ...web, restart: { max: 1 } }] }, /^config: apps\[0\]\.restart\.max: unknown field$/],
    ['backoffMax below backoffMin', { apps: [{ ...web, restart: { backoffMin: '10s', backoffMax: '1s' } }] }, /^config: apps\[0\]\.restart\.backoffMax: /],
    ['non-loopback listen', { apps: [web], http: { listen: '0.0.0.0:9464' } }, /^config: http\.listen: expected a loopback address/],
    ['host name listen', { apps: [web], http: { listen: 'localhost:9464' } }, /^config: http\.listen: expected an IP address and port/],
    ['empty token', { apps: [web], http: { listen: '127.0.0.1:9464', token: '' } }, /^config: http\.token: /],
    ['unknown http field', { apps: [web], http: { listen: '127.0.0.1:1', tls: true } }, /^config: http\.tls: unknown field$/],
    ['empty stateDir', { apps: [web], stateDir: '' }, /^config: stateDir: /],
    ['memory without a known unit', { apps: [{ ...web, limits: { memory: '64MB' } }] }, /^config: apps\[0\]\.limits\.memory: expected bytes, or a size such as 64M or 1G, of at least 4096 bytes, got "64MB"$/],
    ['memory too small', { apps: [{ ...web, limits: { memory: 10 } }] }, /^config: apps\[0\]\.limits\.memory: .*at least 4096 bytes, got 10$/],
    ['cpu as a string', { apps: [{ ...web, limits: { cpu: '1' } }] }, /^config: apps\[0\]\.limits\.cpu: expected a number of cores/],
    ['cpu zero', { apps: [{ ...web, limits: { cpu: 0 } }] }, /^config: apps\[0\]\.limits\.cpu: expected at least 0\.01 cores/],
    ['pids zero', { apps: [{ ...web, limits: { pids: 0 } }] }, /^config: apps\[0\]\.limits\.pids: expected an integer of at least 1/],
    ['unknown limit', { apps: [{ ...web, limits: { swap: 1 } }] }, /^config: apps\[0\]\.limits\.swap: unknown field$/],
    ['limits on docker', { apps: [{ name: 'db', image: 'x', driver: 'docker', checks: web.checks, limits: { pids: 5 } }] }, /^config: apps\[0\]\.limits: only the process and netns drivers apply limits$/],
    ['unknown output target', { apps: [{ ...web, output: { to: 'syslog' } }] }, /^config: apps\[0\]\.output\.to: expected "file", "stderr" or "discard"/],
    ['output size too small', { apps: [{ ...web, output: { maxSize: 10 } }] }, /^config: apps\[0\]\.output\.maxSize: .*at least 1024 bytes/],
  ];
  for (const [name, json, expected] of cases) {
    const { exitCode, message } = failureOf(json);
    t.equal(exitCode, 2, `${name}: exit code`);
    t.match(message, expected, name);
    t.notOk(message.includes('\n'), `${name}: one line`);
  }
});

t.test('extension checks: grpc_check and https take their ports; options a --check URL cannot carry need native probing', async (t) => {
  const checks = [
    { grpc_check: { port: 50051, service: 'shop.Cart' } },
    { http_check: { port: 8443, path: '/health', tls: {} } },
  ];
  const sidecar = parseConfig({ apps: [{ name: 'a', command: ['x'], checks }] }).supervisor.apps[0];
  t.same(sidecar?.ports, [50051, 8443]);
  t.match(sidecar?.checks, [{ kind: 'grpc', service: 'shop.Cart' }, { kind: 'http', tls: { skipVerify: false } }]);
  const options = [{ http_check: { port: 8443, path: '/health', tls: { ca_file: '/ca.pem' }, expect_body: 'ok' } }, { grpc_check: { port: 50051, connect_timeout_ms: 200 } }];
  const native = parseConfig({ apps: [{ name: 'a', command: ['x'], probe: 'native', checks: options }] }).supervisor.apps[0];
  t.match(native?.checks, [{ kind: 'http', tls: { caFile: '/ca.pem' }, expectBody: { text: 'ok' } }, { kind: 'grpc', connectTimeoutMs: 200 }]);
  t.match(failureOf({ apps: [{ name: 'a', command: ['x'], checks: options }] }), {
    exitCode: 2,
    message: 'config: apps[0].checks[0].http_check.tls: needs "probe": "native" (sidecar and oneshot agents are given the check as a --check URL, which cannot carry it)',
  });
  t.match(failureOf({ apps: [{ name: 'a', command: ['x'], probe: 'oneshot', checks: [options[1]] }] }), { message: /^config: apps\[0\]\.checks\[0\]\.grpc_check\.connect_timeout_ms: needs "probe": "native"/ });
  t.match(failureOf({ apps: [{ name: 'a', command: ['x'], ports: [1], checks: [options[1]] }] }), { message: /^config: apps\[0\]\.checks\[0\]\.grpc_check\.port: expected one of the app's ports \(1\), got 50051$/ });
});

t.test('a non-loopback listen address is accepted when explicitly allowed', async (t) => {
  t.same(parseConfig({ apps: [web], http: { listen: '0.0.0.0:9464', allowNonLoopback: true } }).http, { listen: '0.0.0.0:9464', allowNonLoopback: true });
  t.same(parseConfig({ apps: [web], http: { listen: '[::1]:0' } }).http, { listen: '[::1]:0' });
});

t.test('loadConfig reports unreadable files and bad JSON as usage errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  await writeFile(bad, '{"apps": [');
  await t.rejects(loadConfig(bad), { name: 'LifeguardFailure', message: /^config: .*bad\.json:1:11: not valid JSON: Unexpected end of JSON input$/ });
  const unplaced = join(dir, 'unplaced.json');
  await writeFile(unplaced, '{"apps": [}');
  await t.rejects(loadConfig(unplaced), { message: /^config: '.*unplaced\.json' is not valid JSON: Unexpected token '\}'/ }, 'no position given: its own words');
  const placed = join(dir, 'placed.json');
  await writeFile(placed, '{\n  "apps": [\n    {"name": "web",}\n  ]\n}\n');
  await t.rejects(loadConfig(placed), { message: `config: ${placed}:3:20: not valid JSON: Expected double-quoted property name` }, 'line:column, as YAML');
  const cut = join(dir, 'cut.json');
  await writeFile(cut, '{\n  "apps": [');
  await t.rejects(loadConfig(cut), { message: `config: ${cut}:2:12: not valid JSON: Unexpected end of JSON input` }, 'the end of a cut file');
  await t.rejects(loadConfig(join(dir, 'missing.json')), { name: 'LifeguardFailure', message: /^config: cannot read '.*missing\.json': no such file$/ });
  const good = join(dir, 'good.json');
  await writeFile(good, JSON.stringify({ apps: [web] }));
  t.equal((await loadConfig(good)).supervisor.apps[0]!.name, 'web');
});

t.test('agentStartConcurrency: a bound on agents booting at once, an integer of at least 1', async (t) => {
  const app = { name: 'web', command: ['x'], checks: [{ tcp_check: { port: 8080 } }] };
  t.same(parseConfig({ apps: [app], agentStartConcurrency: 8 }).supervisor.tuning, { agentStartConcurrency: 8 });
  t.equal(parseConfig({ apps: [app] }).supervisor.tuning, undefined, 'absent: the default, 2 per core');
  t.throws(() => parseConfig({ apps: [app], agentStartConcurrency: 0 }), /config: agentStartConcurrency: expected an integer of at least 1/);
});

t.test('env: a PORT lifeguard would overwrite is refused; fromEnv passes a variable of the supervisor through', async (t) => {
  for (const name of ['PORT', 'PORT_8080', 'LIFEGUARD_INSTANCE', 'LIFEGUARD_STATE_DIR']) {
    t.match(failureOf({ apps: [{ ...web, env: { [name]: '1' } }] }), { exitCode: 2, message: new RegExp(`^config: apps\\[0\\]\\.env\\.${name}: set by lifeguard for every instance`) }, name);
  }
  const env = { LG_TEST_SECRET: 'hunter2' };
  const app = parseConfig({ apps: [{ ...web, env: { A: 'plain', DB: { fromEnv: 'LG_TEST_SECRET' } } }] }, { env }).supervisor.apps[0];
  t.same(app?.env, { A: 'plain', DB: 'hunter2' });
  t.throws(() => parseConfig({ apps: [{ ...web, env: { DB: { fromEnv: 'LG_TEST_UNSET' } } }] }, { env }), { message: "config: apps[0].env.DB.fromEnv: LG_TEST_UNSET is not set in lifeguard's environment" });
  t.match(failureOf({ apps: [{ ...web, env: { DB: { from: 'X' } } }] }), { message: /^config: apps\[0\]\.env\.DB: expected a string, or \{"fromEnv": "NAME"\}/ });
});

t.test('user: a name or uid of /etc/passwd, only as root', async (t) => {
  if (process.getuid?.() === 0) {
    t.match(parseConfig({ apps: [{ ...web, user: 'nobody' }] }).supervisor.apps[0]?.user, { name: 'nobody', uid: 65534 });
    t.match(parseConfig({ apps: [{ ...web, user: '65534' }] }).supervisor.apps[0]?.user, { name: 'nobody' });
    t.match(failureOf({ apps: [{ ...web, user: 'lifeguard-no-such-user' }] }), { message: 'config: apps[0].user: no such user in /etc/passwd, got "lifeguard-no-such-user"' });
  } else {
    t.match(failureOf({ apps: [{ ...web, user: 'nobody' }] }), { message: 'config: apps[0].user: only a supervisor running as root can run apps as another user' });
  }
});

t.test('YAML: the same schema, errors with the file, line and column; paths from the file and --state-dir', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-yaml-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const good = `# an operator's config
apps:
  - name: web
    command: [node, app.mjs]
    cwd: site
    instances: 2
    checks:
      - http_check: {port: 8080, path: /health}
stateDir: state
`;
  await writeFile(join(dir, 'good.yaml'), good);
  const config = await loadConfig(join(dir, 'good.yaml'));
  t.match(config.supervisor.apps[0], { name: 'web', instances: 2, cwd: join(dir, 'site'), checks: [{ kind: 'http', port: 8080, path: '/health' }] });
  t.equal(config.supervisor.stateDir, join(dir, 'state'));
  t.equal((await loadConfig(join(dir, 'good.yaml'), { stateDir: 'elsewhere' })).supervisor.stateDir, join(process.cwd(), 'elsewhere'), '--state-dir wins');

  const cases: [string, string, string][] = [
    ['bad.yml', good.replace('instances: 2', 'instances: two'), `config: ${join(dir, 'bad.yml')}:6:16: apps[0].instances: expected an integer of at least 0, got "two"`],
    ['unknown.yaml', good.replace('    instances: 2', '    replicas: 2'), `config: ${join(dir, 'unknown.yaml')}:6:15: apps[0].replicas: unknown field`],
    ['missing.yaml', good.replace(/    checks:\n.*\n/, ''), `config: ${join(dir, 'missing.yaml')}:3:5: apps[0].checks: expected an array of checks`],
    ['syntax.yaml', good.replace('[node, app.mjs]', '[node, app.mjs'), `config: ${join(dir, 'syntax.yaml')}:`],
    ['twice.yaml', `${good}stateDir: again\n`, `config: ${join(dir, 'twice.yaml')}:10:1: not valid YAML: Map keys must be unique`],
  ];
  for (const [name, text, message] of cases) {
    await writeFile(join(dir, name), text);
    await t.rejects(loadConfig(join(dir, name)), { message: message.endsWith(':') ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d+:\\d+: not valid YAML: `) : message }, name);
  }
});

t.test('successThreshold: passes in a row before a readiness check counts as passed', async (t) => {
  const app = { name: 'web', command: ['x'], checks: [{ tcp_check: { port: 8080 } }] };
  t.equal(parseConfig({ apps: [{ ...app, successThreshold: 3 }] }).supervisor.apps[0]?.successThreshold, 3);
  t.equal(parseConfig({ apps: [app] }).supervisor.apps[0]?.successThreshold, undefined, 'absent: 1, the engine default');
  t.throws(() => parseConfig({ apps: [{ ...app, successThreshold: 0 }] }), /config: apps\[0\]\.successThreshold: expected an integer of at least 1/);
});

t.test('routing: checks, interval, thresholds and drain, with defaults; its checks name the app\'s ports and may use native-only fields', async (t) => {
  const ready = { http_check: { port: 8081, path: '/ready', expect_body: 'ok' } };
  const [app] = parseConfig({ apps: [{ ...web, routing: { checks: [ready] } }] }).supervisor.apps;
  t.same(app?.routing, {
    checks: [{ kind: 'http', port: 8081, path: '/ready', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false, expectBody: { kind: 'substring', text: 'ok' } }],
    intervalMs: 2000, failureThreshold: 1, successThreshold: 1, drainMs: 0,
  }, 'defaults applied; a sidecar app\'s routing check may assert on the body (routing runs in the supervisor)');
  t.same(app?.ports, [8080, 8081], 'ports default to the routing checks\' too');
  const full = parseConfig({ apps: [{ ...web, routing: { checks: [{ tcp_check: { port: 8080, interval_ms: 700 } }], failureThreshold: 3, successThreshold: 2, drain: '5s' } }] }).supervisor.apps[0];
  t.match(full?.routing, { intervalMs: 700, failureThreshold: 3, successThreshold: 2, drainMs: 5000 }, 'interval_ms stands in for a missing interval');
  t.match(parseConfig({ apps: [{ ...web, routing: { drain: '2s', interval: '500ms' } }] }).supervisor.apps[0]?.routing, { checks: [], intervalMs: 500, drainMs: 2000 }, 'a drain without routing checks');
  t.equal(parseConfig({ apps: [web] }).supervisor.apps[0]?.routing, undefined, 'no section, no routing');
  const bad: [unknown, string][] = [
    ['yes', 'config: apps[0].routing: expected an object, got "yes"'],
    [{ checks: {} }, 'config: apps[0].routing.checks: expected an array of checks'],
    [{ checks: [{ tcp_check: { port: 9090 } }] }, "config: apps[0].routing.checks[0].tcp_check.port: expected one of the app's ports (8080), got 9090"],
    [{ interval: '0s' }, 'config: apps[0].routing.interval: expected a Go duration such as 500ms, 2s or 1m30s, above 0, got "0s"'],
    [{ failureThreshold: 0 }, 'config: apps[0].routing.failureThreshold: expected an integer of at least 1, got 0'],
    [{ successThreshold: 1.5 }, 'config: apps[0].routing.successThreshold: expected an integer of at least 1, got 1.5'],
    [{ drain: 5 }, 'config: apps[0].routing.drain: expected a Go duration such as 500ms, 2s or 1m30s, got 5'],
    [{ drian: '1s' }, "config: apps[0].routing.drian: unknown field (did you mean 'drain'?)"],
  ];
  for (const [routing, message] of bad) {
    t.same(failureOf({ apps: [{ ...web, ports: [8080], routing }] }), { exitCode: 2, message }, message);
  }
});

t.test("README's routing example is a valid config", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Routing: readiness apart from liveness'));
  const block = /^```json\n([\s\S]*?)^```$/m.exec(section)?.[1];
  const app = parseConfig(JSON.parse(block ?? 'null')).supervisor.apps[0];
  t.match(app?.routing, { checks: [{ kind: 'http', port: 8080, path: '/ready' }], intervalMs: 2000, failureThreshold: 1, successThreshold: 1, drainMs: 5000 });
});
