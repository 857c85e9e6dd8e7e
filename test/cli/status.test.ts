// `lifeguard status` against a real supervisor's endpoint: tables, --json, one app, the token, and the exit code
// that makes it a check (1 when an app has fewer healthy instances than desired).
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import t from 'tap';
import { run } from '../helpers/agent.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CLI, fixtureApp, runCli, stopCleanly } from '../reliability/cli-supervisor.js';

const app = (name: string, instances: number, env: Record<string, string>) =>
  fixtureApp(name, { STATUS_TEST: '1', ...env }, { instances, restart: { immediate: 0, backoffMin: '1m' } });

t.test('lifeguard status', async (t) => {
  const dir = tempDir(t);
  const cli = await runCli(t, dir, [app('web', 2, {}), app('broken', 1, { NEVER_READY: '1' })], { token: 's3cret' });
  await cli.until((all) => all.filter((x) => x.app === 'web' && x.to === 'healthy').length === 2);
  const endpoint = ['--endpoint', `127.0.0.1:${cli.port}`];
  const status = (args: string[], env: Record<string, string | undefined> = { LIFEGUARD_TOKEN: undefined }) => run(process.execPath, [CLI, 'status', ...endpoint, ...args], { env });

  const web = await status(['web', '--token', 's3cret']);
  t.equal(web.code, 0, 'one app at its desired count: exit 0');
  t.equal(web.stderr, '');
  const [apps, instances] = web.stdout.split('\nINSTANCE');
  t.match(apps, /^APP +HEALTHY +STATUS +PREWARM\nweb +2\/2 +ok +0\n$/);
  t.match(instances, /\nweb-1 +web +healthy +127\.0\.0\.1:\d+ +\d+ +0 +\d{4}-\d\d-\d\dT/);
  t.match(instances, /\nweb-2 +web +healthy /);
  t.match(instances, /\n\ncontainment: (cgroup v[12] at \/\S+ \(limits: [a-z, ]+\)|environment marker only \(no cgroup: .+\))\nconfig: \/\S+\/config\.json \(what SIGHUP reloads\)\n$/, 'which containment and which config file are in force');

  const all = await status([], { LIFEGUARD_TOKEN: 's3cret' });
  t.equal(all.code, 1, 'an app below its desired count: exit 1 (the token from LIFEGUARD_TOKEN)');
  t.match(all.stdout, /\nbroken +0\/1 +BELOW DESIRED +0\n/);
  t.match(all.stdout, /\nbroken-1 +broken +starting /);

  const json = await status(['--json', '--token', 's3cret']);
  t.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; apps: { name: string; desired: number; healthy: number; instances: unknown[] }[] };
  t.equal(parsed.ok, false);
  t.match(parsed, { containment: { kind: /^(cgroup v[12]|environ)$/ } });
  t.match(parsed.apps, [{ name: 'web', desired: 2, healthy: 2, instances: [{ id: 'web-1', state: 'healthy' }, { id: 'web-2' }] }, { name: 'broken', desired: 1, healthy: 0 }]);

  const noToken = await status(['web']);
  t.same([noToken.code, noToken.stdout], [2, '']);
  t.equal(noToken.stderr, `status: cannot read lifeguard's status at 127.0.0.1:${cli.port}: the endpoint wants a bearer token: --token, or LIFEGUARD_TOKEN\n`);
  const unknown = await status(['nope', '--token', 's3cret']);
  t.same([unknown.code, unknown.stderr], [2, "no app named 'nope' (there are: web, broken)\n"]);

  await stopCleanly(t, cli, 'STATUS_TEST', '1');
});

t.test('nothing listening, a bad endpoint: one line, exit 2', async (t) => {
  const port = await freePort();
  const refused = await run(process.execPath, [CLI, 'status', '--endpoint', `127.0.0.1:${port}`]);
  t.same([refused.code, refused.stdout, refused.stderr], [2, '', `status: cannot read lifeguard's status at 127.0.0.1:${port}: ECONNREFUSED\n`]);
  // Accepts and never answers: the 5s deadline holds.
  const silent = createServer(() => {}).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(() => silent.close());
  const silentPort = (silent.address() as AddressInfo).port;
  const stuck = await run(process.execPath, [CLI, 'status', '--endpoint', `127.0.0.1:${silentPort}`]);
  t.same([stuck.code, stuck.stderr], [2, `status: cannot read lifeguard's status at 127.0.0.1:${silentPort}: no answer within 5000ms\n`]);
  const bad = await run(process.execPath, [CLI, 'status', '--endpoint', 'localhost']);
  t.same([bad.code, bad.stderr], [2, "--endpoint 'localhost': expected an IP address (or localhost) and port such as 127.0.0.1:9464 or [::1]:9464\n"]);
});
