// The carrier image (scripts/build-carrier-image.sh), on the engine this test is given: Podman by default, or the
// Docker Engine that LIFEGUARD_TEST_DOCKER_SOCKET names (the image built there with `docker import`). Its only
// content is the agent's directory at /etc/cf-assets/healthcheck, its entrypoint the agent. One container runs
// with no network but loopback (exit 3); the README's block for the engine runs as written against an app
// container of the test image (scripts/build-test-images.sh): the carrier in the app's network namespace, and
// the directory copied out of it. On Podman, one more checks a listener in a network namespace this test creates
// (ip netns add; podman joins it with --network ns:PATH, which Docker has no twin of). The image, containers,
// namespace and listener are the test's own and removed at the end.
import t from 'tap';
import Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start } from '../helpers/agent.js';
import { CF_ASSETS, ROOT, ensureExecutable } from '../helpers/executable.js';
import { NS_ADDRESS } from '../helpers/netns.js';

const SERVER = fileURLToPath(new URL('../cli/fixtures/ns-server.cjs', import.meta.url));
const onPath = (program: string) => (process.env['PATH'] ?? '').split(':').map((dir) => join(dir, program)).find((path) => existsSync(path));
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path));
const SOCKET = process.env['LIFEGUARD_TEST_DOCKER_SOCKET'];
// Docker when the socket given is a Docker Engine; Podman's own CLI otherwise (its service needs no socket here).
const version = SOCKET === undefined ? undefined : await new Docker({ socketPath: SOCKET }).version().catch(() => undefined);
const cli = version !== undefined && version.Components?.some((c) => c.Name === 'Podman Engine') !== true ? 'docker' : 'podman';
const ENGINE = onPath(cli);
const own = `${process.pid}-${randomBytes(3).toString('hex')}`;
const IMAGE = `localhost/lifeguard-healthcheck:test-${own}`;
const APP_IMAGE = process.env['LIFEGUARD_TEST_IMAGE'] ?? 'localhost/lifeguard-test:latest';
const NETNS = `lifeguard-carrier-${process.pid}`;
// Podman: the flags this machine needs (runc, ulimits), unless the caller chose a configuration. Docker: the socket.
const env =
  cli === 'docker'
    ? { DOCKER_HOST: `unix://${SOCKET}` }
    : { CONTAINERS_CONF: process.env['CONTAINERS_CONF'] ?? `${ROOT}test/containers/containers.conf` };

const skip =
  process.getuid?.() !== 0 ? `needs root (${cli}, ip netns)`
  : SOCKET !== undefined && version === undefined ? `no engine answers on LIFEGUARD_TEST_DOCKER_SOCKET=${SOCKET}`
  : !ENGINE ? `needs the ${cli} CLI (apt-get install ${cli === 'docker' ? 'docker.io' : 'podman runc'})`
  : !IP ? 'needs iproute2' : false;

t.setTimeout(300_000);

const engine = (args: readonly string[]) => run(ENGINE!, args, { env, killAfterMs: 120_000 });

t.test(skip === false ? `the carrier image, on ${cli}` : 'the carrier image', { skip }, async (t) => {
  ensureExecutable();
  const built = await run(`${ROOT}scripts/build-carrier-image.sh`, [cli], { env: { ...env, LIFEGUARD_CARRIER_IMAGE: IMAGE }, killAfterMs: 120_000 });
  t.equal(built.code, 0, built.stderr);
  t.ok(built.stdout.includes(`, ${cli})`), `built with ${cli}: ${built.stdout.trim()}`);
  t.teardown(() => engine(['rmi', '--force', IMAGE]).then(() => undefined));

  t.test('holds the directory and nothing else; its entrypoint is the agent', async (t) => {
    const inspect = await engine(['image', 'inspect', IMAGE, '--format', '{{json .Config.Entrypoint}}']);
    t.same(JSON.parse(inspect.stdout), ['/etc/cf-assets/healthcheck/healthcheck']);
    const created = await engine(['create', IMAGE]);
    const id = created.stdout.trim();
    t.teardown(() => engine(['rm', '--force', id]).then(() => undefined));
    const exported = spawnSync('sh', ['-c', `"${ENGINE}" export ${id} | tar -t`], { encoding: 'utf8', env: { ...process.env, ...env } });
    // Docker's export adds the files every container has (/.dockerenv, /etc/hosts, /dev, /proc ...) as empty
    // entries; they are the engine's, not the image's.
    const engines = /^(\.dockerenv|etc\/(hostname|hosts|resolv\.conf|mtab)|dev\/.*|proc\/.*|sys\/.*)$/;
    const files = exported.stdout.split('\n').filter((line) => line !== '' && !line.endsWith('/')).map((f) => f.replace(/^\.\//, '')).filter((f) => !engines.test(f)).sort();
    const expected = readdirSync(CF_ASSETS).map((name) => `etc/cf-assets/healthcheck/${name}`).sort();
    t.same(files, expected, `files in the image: ${files.join(', ')}`);
  });

  t.test('with no network but loopback: exit 3, failure to find suitable interface', async (t) => {
    const ended = await engine(['run', '--rm', '--network', 'none', IMAGE, '-port=8080']);
    t.same([ended.code, ended.stderr.trim().split('\n').at(-1)], [3, 'failure to find suitable interface']);
  });

  const app = await engine(['image', 'inspect', APP_IMAGE, '--format', '{{.Id}}']);
  const noApp = app.code !== 0 ? `needs ${APP_IMAGE} in ${cli} (scripts/build-test-images.sh ${cli})` : false;
  t.test(`the README's ${cli} block, as written`, { skip: noApp }, async (t) => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const at = readme.indexOf('**The carrier image**');
    const blocks = [...readme.slice(at, readme.indexOf('\n#', at)).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const block = blocks.find((text) => text.startsWith(`${cli} `));
    t.ok(block, `the README has a ${cli} block for the carrier image`);
    // Only the names are made the test's own: the app, the copy's container, the image's tag.
    const appName = `lgcarrier-app-${own}`;
    const carrier = `lgcarrier-${own}`;
    const lines = (block ?? '').trimEnd().split('\n').map((line) =>
      line.replace('container:APP', `container:${appName}`).replace(/localhost\/lifeguard-healthcheck\b/g, IMAGE).replace(/\bcarrier\b/g, carrier));
    const runLine = lines.find((line) => line.startsWith(`${cli} run `));
    const copyLine = lines.find((line) => line.startsWith(`${cli} create `));
    t.ok(runLine && copyLine, 'a run line and a create-and-copy line');

    const started = await engine(['run', '-d', '--name', appName, '-e', 'PORT=8080', APP_IMAGE]);
    t.equal(started.code, 0, started.stderr);
    t.teardown(() => engine(['rm', '--force', appName]).then(() => undefined));
    const sh = (line: string, cwd?: string) => run('sh', ['-c', line], { env, killAfterMs: 120_000, ...(cwd === undefined ? {} : { cwd }) });
    // The app's httpd listens a moment after its container starts: the line as written, until it passes (bounded).
    let checked = await sh(runLine!);
    for (let i = 0; i < 20 && checked.code !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      checked = await sh(runLine!);
    }
    t.same([checked.code, checked.stdout], [0, ''], `the carrier in the app's network namespace passes its check: ${checked.stderr}`);

    const dir = t.testdir({});
    t.teardown(() => engine(['rm', '--force', carrier]).then(() => undefined));
    const copied = await sh(copyLine!, dir);
    t.equal(copied.code, 0, copied.stderr);
    const names = readdirSync(CF_ASSETS).sort();
    t.same(readdirSync(join(dir, 'healthcheck')).sort(), names, 'the directory copied out');
    for (const name of names) t.ok(readFileSync(join(dir, 'healthcheck', name)).equals(readFileSync(join(CF_ASSETS, name))), `${name}: the same bytes`);
  });

  t.test('in the namespace of a listener: checks it over the discovered address', { skip: cli === 'docker' ? 'Docker joins no network namespace by path (--network ns: is Podman\'s); the README block above runs it in an app\'s' : false }, async (t) => {
    const ip = (args: readonly string[]) => run(IP!, args);
    t.equal((await ip(['netns', 'add', NETNS])).code, 0);
    t.teardown(() => ip(['netns', 'del', NETNS]).then(() => undefined));
    const setup = await run(IP!, ['netns', 'exec', NETNS, 'sh', '-c',
      `ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add ${NS_ADDRESS}/24 dev v0 && ip link set v0 up && ip link set v1 up`]);
    t.equal(setup.code, 0, setup.stderr);
    const dir = t.testdir({});
    const server = start(IP!, ['netns', 'exec', NETNS, process.execPath, SERVER, dir, NS_ADDRESS, '200,503']);
    t.teardown(async () => {
      server.child.kill('SIGKILL');
      await server.ended;
    });
    for (let i = 0; i < 100 && !existsSync(`${dir}/ready`); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.ok(existsSync(`${dir}/ready`), 'the listener is up');
    const network = ['--network', `ns:/run/netns/${NETNS}`];
    const passed = await engine(['run', '--rm', ...network, IMAGE, '-port=8080', '-uri=/health']);
    t.same([passed.code, passed.stdout], [0, ''], passed.stderr);
    const failed = await engine(['run', '--rm', ...network, IMAGE, '--mode=once', '--port', '8080', '--uri', '/health']);
    t.equal(failed.code, 6, 'the second request gets 503: exit 6');
    t.match(failed.stdout, 'received status code 503');
    const requests = readFileSync(`${dir}/requests`, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    t.same(requests.map((r: { url: string }) => r.url), ['/health', '/health']);
    t.equal(requests[0].headers['user-agent'], 'diego-healthcheck', 'the CF dialect, as Diego runs it');
  });
});
