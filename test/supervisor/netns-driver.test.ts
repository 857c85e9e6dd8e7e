// The netns driver against the real kernel (root): an instance per network namespace, reached over its own veth
// pair; the sidecar agent runs inside and finds the address itself. All traffic stays on the pairs these tests
// create; every namespace and link is gone at the end, including those a SIGKILLed supervisor left.
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import t from 'tap';
import { ip } from '../../src/supervisor/drivers/ip-command.js';
import { ownerTag } from '../../src/shared/owner.js';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { SupervisorOptions } from '../../src/supervisor/config/options.js';
import type { AppSpec, ProbeStrategy } from '../../src/supervisor/spec/types.js';
import type { Transition } from '../../src/shared/transition.js';
import { netnsSkip } from '../helpers/netns.js';
import { AGENT, agentPid, appSpec, ensureAgent, ROOT, STRATEGIES, supervise, to } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const ADDRESS = /^10\.213\.\d+\.\d+:8080$/;

/** The fixture app on all addresses: inside its namespace, eth0 is where checks come from. */
function nsApp(probe: ProbeStrategy, overrides: Partial<AppSpec> = {}): AppSpec {
  return appSpec(probe, { driver: 'netns', ...overrides, env: { LISTEN_HOST: '0.0.0.0', ...overrides.env } });
}

/** This state directory's namespaces and the host ends of their pairs, as the kernel lists them. */
async function leftovers(stateDir: string): Promise<{ namespaces: string[]; links: string[] }> {
  const prefix = `lg-${ownerTag(stateDir)}-`;
  const namespaces = (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(prefix));
  const slots = new Set(namespaces.map((name) => name.slice(prefix.length)));
  const links = (await ip('-o', 'link', 'show')).split('\n').map((line) => line.split(': ')[1]?.split('@')[0] ?? '').filter((name) => /^lg\d+h$/.test(name));
  return { namespaces, links: links.filter((name) => slots.has(name.slice(2, -1))) };
}

t.test('netns driver', { skip: netnsSkip }, async (t) => {
  t.before(ensureAgent);

  for (const probe of STRATEGIES) {
    t.test(`${probe}: an instance in its own namespace becomes healthy at its own address`, async (t) => {
      const h = await supervise(t, [nsApp(probe, { instances: 2 })]);
      await h.until(to('healthy', 'web-1'));
      await h.until(to('healthy', 'web-2'));
      const [one, two] = h.supervisor.status().apps[0]?.instances ?? [];
      t.match(one?.address, ADDRESS);
      t.match(two?.address, ADDRESS);
      t.not(one?.address, two?.address, 'each instance has its own subnet');
      t.equal((await leftovers(h.stateDir)).namespaces.length, 2);
    });
  }

  t.test('sidecar: the agent runs inside the namespace and is given no host', async (t) => {
    const h = await supervise(t, [nsApp('sidecar', { livenessIntervalMs: 5000 })]);
    await h.until(to('healthy', 'web-1'));
    const app = h.supervisor.status().apps[0]?.instances[0]?.pid as number;
    // The liveness agent is started, and recorded, as the instance becomes healthy.
    const agent = agentPid(h.stateDir, 'web-1') as number;
    t.ok(agent !== undefined && isRunning(agent), 'a liveness agent runs');
    // Just spawned, it may still be `ip` on its way into the namespace: wait (bounded) for the exec.
    const netns = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
    for (let i = 0; i < 100 && netns(agent) !== netns(app); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(netns(agent), netns(app), "in the app's network namespace");
    const argv = readFileSync(`/proc/${agent}/cmdline`, 'utf8').split('\0');
    t.ok(argv.includes('http://:8080/health'), `checks name the container port only: ${argv.join(' ')}`);
    t.notOk(argv.some((arg) => arg.startsWith('--host')));
  });

  t.test('an app that exits is a crash, and its replacement gets a namespace of its own', async (t) => {
    const once = `${tempDir(t)}/once`;
    const h = await supervise(t, [nsApp('native', { livenessIntervalMs: 10_000, env: { CRASH_AFTER_MS: '1000', CRASH_CODE: '7', ONCE: once } })]);
    t.match(await h.until(to('crashed', 'web-1')), { reason: 'exited with code 7' });
    await h.until(to('destroyed', 'web-1'));
    await h.until(to('healthy', 'web-2'));
    t.equal((await leftovers(h.stateDir)).namespaces.length, 1, "the crashed instance's namespace is gone");
  });

  t.test('stop destroys every instance with its namespace and links', async (t) => {
    const h = await supervise(t, [nsApp('sidecar', { instances: 2 })]);
    await h.until(to('healthy', 'web-1'));
    await h.until(to('healthy', 'web-2'));
    const before = await leftovers(h.stateDir);
    t.equal(before.links.length, 2, 'a host link per instance');
    await h.supervisor.stop();
    t.same(await leftovers(h.stateDir), { namespaces: [], links: [] });
  });

  t.test('a command that does not exist, or is not executable, is a permanent failure: given up at once', async (t) => {
    const dir = t.testdir({ 'not-executable': 'x' });
    const h = await supervise(t, [nsApp('native', { command: ['lifeguard-no-such-command'] }), { ...nsApp('native', { command: ['./not-executable'], cwd: dir }), name: 'api' }]);
    await h.until(to('given-up', 'web-1'));
    await h.until(to('given-up', 'api-1'));
    for (const [id, reason] of [['web-1', 'command not found: lifeguard-no-such-command'], ['api-1', 'permission denied: ./not-executable']] as const) {
      const mine = h.transitions.filter((x) => x.instance === id);
      t.same(mine.map((x) => [x.to, x.cause]), [['scheduled', 'backfill'], ['crashed', 'permanent'], ['destroying', 'permanent'], ['destroyed', 'permanent'], ['given-up', 'permanent']], id);
      t.match(mine.find(to('crashed')), { from: 'scheduled', reason }, `${id}: one clear reason`);
    }
    t.notOk(h.transitions.some((x) => x.cause === 'restart'), 'never retried');
    t.same(await leftovers(h.stateDir), { namespaces: [], links: [] }, 'no namespace is left behind');
  });

  t.test('a supervisor started after a SIGKILLed one deletes the namespaces it left', async (t) => {
    const stateDir = tempDir(t);
    const options: SupervisorOptions = { apps: [nsApp('native')], stateDir, agentPath: AGENT };
    const first = spawn(process.execPath, ['--import', 'tsx', `${ROOT}test/fixtures/supervisor.ts`, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    });
    const deadline = setTimeout(() => first.kill('SIGKILL'), 20_000);
    for await (const line of createInterface({ input: first.stdout })) {
      if ((JSON.parse(line) as Transition).to === 'healthy') break;
    }
    clearTimeout(deadline);
    const left = await leftovers(stateDir);
    t.equal(left.namespaces.length, 1, 'the first supervisor made a namespace');
    const pids = (await ip('netns', 'pids', left.namespaces[0] as string)).split('\n').filter(Boolean).map(Number);
    const app = pids[0];
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    const second = new Supervisor({ ...options, apps: [nsApp('native', { instances: 0 })] });
    t.teardown(() => second.stop());
    await second.start();
    t.same(await leftovers(stateDir), { namespaces: [], links: [] }, 'its namespace and link are gone');
    t.notOk(app !== undefined && isRunning(app), 'and the app that ran in it');
  });
});

t.test('netns is refused up front without root, naming the field', async (t) => {
  const getuid = process.getuid;
  process.getuid = () => 1000;
  t.teardown(() => {
    process.getuid = getuid;
  });
  t.throws(() => new Supervisor({ apps: [appSpec('native'), nsApp('native')], stateDir: t.testdir({}) }), {
    message: "apps[1].driver: 'netns' needs root (it creates network namespaces and veth pairs); run as root or use 'process'",
  });
});
