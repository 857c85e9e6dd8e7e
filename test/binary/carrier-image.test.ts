// The carrier image (scripts/build-carrier-image.sh), run with podman as Kubernetes or Docker would run it: its
// only content is the agent's directory at /etc/cf-assets/healthcheck, its entrypoint the agent. One container
// checks a listener in a network namespace this test creates (ip netns add; podman joins it with
// --network ns:PATH), one runs with no network but loopback (exit 3). The image is built under a tag of this
// run and removed at the end, with the namespace and the listener.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, start } from '../helpers/agent.js';
import { CF_ASSETS, ROOT, ensureExecutable } from '../helpers/executable.js';
import { NS_ADDRESS } from '../helpers/netns.js';

const SERVER = fileURLToPath(new URL('../cli/fixtures/ns-server.cjs', import.meta.url));
const PODMAN = ['/usr/bin/podman', '/bin/podman'].find((path) => existsSync(path));
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path));
const IMAGE = `localhost/lifeguard-healthcheck:test-${process.pid}`;
const NETNS = `lifeguard-carrier-${process.pid}`;
// The flags this machine needs (runc, ulimits), unless the caller chose a configuration.
const env = { CONTAINERS_CONF: process.env['CONTAINERS_CONF'] ?? `${ROOT}test/containers/containers.conf` };

const skip = process.getuid?.() !== 0 ? 'needs root (podman, ip netns)' : !PODMAN || !IP ? 'needs podman and iproute2 (apt-get install podman runc iproute2)' : false;

t.setTimeout(300_000);

const podman = (args: readonly string[]) => run(PODMAN!, args, { env, killAfterMs: 120_000 });

t.test('the carrier image', { skip }, async (t) => {
  ensureExecutable();
  const built = await run(`${ROOT}scripts/build-carrier-image.sh`, [], { env: { ...env, LIFEGUARD_CARRIER_IMAGE: IMAGE }, killAfterMs: 120_000 });
  t.equal(built.code, 0, built.stderr);
  t.teardown(() => podman(['rmi', '--force', IMAGE]).then(() => undefined));

  t.test('holds the directory and nothing else; its entrypoint is the agent', async (t) => {
    const inspect = await podman(['image', 'inspect', IMAGE, '--format', '{{json .Config.Entrypoint}}']);
    t.same(JSON.parse(inspect.stdout), ['/etc/cf-assets/healthcheck/healthcheck']);
    const created = await podman(['create', IMAGE]);
    const id = created.stdout.trim();
    t.teardown(() => podman(['rm', '--force', id]).then(() => undefined));
    const exported = spawnSync('sh', ['-c', `"${PODMAN}" export ${id} | tar -t`], { encoding: 'utf8', env: { ...process.env, ...env } });
    const files = exported.stdout.split('\n').filter((line) => line !== '' && !line.endsWith('/')).map((f) => f.replace(/^\.\//, '')).sort();
    const expected = readdirSync(CF_ASSETS).map((name) => `etc/cf-assets/healthcheck/${name}`).sort();
    t.same(files, expected, `files in the image: ${files.join(', ')}`);
  });

  t.test('with no network but loopback: exit 3, failure to find suitable interface', async (t) => {
    const ended = await podman(['run', '--rm', '--network', 'none', IMAGE, '-port=8080']);
    t.same([ended.code, ended.stderr.trim().split('\n').at(-1)], [3, 'failure to find suitable interface']);
  });

  t.test('in the namespace of a listener: checks it over the discovered address', async (t) => {
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
    const passed = await podman(['run', '--rm', ...network, IMAGE, '-port=8080', '-uri=/health']);
    t.same([passed.code, passed.stdout], [0, ''], passed.stderr);
    const failed = await podman(['run', '--rm', ...network, IMAGE, '--mode=once', '--port', '8080', '--uri', '/health']);
    t.equal(failed.code, 6, 'the second request gets 503: exit 6');
    t.match(failed.stdout, 'received status code 503');
    const requests = readFileSync(`${dir}/requests`, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    t.same(requests.map((r: { url: string }) => r.url), ['/health', '/health']);
    t.equal(requests[0].headers['user-agent'], 'diego-healthcheck', 'the CF dialect, as Diego runs it');
  });
});
