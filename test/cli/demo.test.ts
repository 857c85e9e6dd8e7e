// `npm run demo` (scripts/demo.mjs) on examples/demo.json, shortened, on a free port and a private state directory.
// Deterministic enough to test: every transition but the random `web` app's comes from an app whose fate is
// certain (crasher, sick, never-ready, quitter, the claimed pool), each well inside the shortened run.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../helpers/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { start } from '../helpers/agent.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** examples/demo.json on a free port and a private state directory, removed after the test. */
async function demoConfig(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-demo-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const demo = JSON.parse(await readFile(join(ROOT, 'examples/demo.json'), 'utf8')) as Record<string, unknown>;
  const config = join(dir, 'demo.json');
  // Moved out of examples/, the apps still run from there: a config's relative commands are its own directory's.
  const apps = (demo.apps as Record<string, unknown>[]).map((app) => ({ ...app, cwd: join(ROOT, 'examples') }));
  await writeFile(config, JSON.stringify({ ...demo, apps, http: { listen: `127.0.0.1:${await freePort()}` }, stateDir: join(dir, 'state') }));
  return config;
}

t.test('the demo shows every transition, claims once, and stops cleanly', async (t) => {
  const config = await demoConfig(t);

  const ended = await start(process.execPath, [join(ROOT, 'scripts/demo.mjs')], {
    env: { LIFEGUARD_DEMO_CONFIG: config, LIFEGUARD_DEMO_SECONDS: '24' },
    killAfterMs: 100_000,
  }).ended;
  t.equal(ended.code, 0, `demo exit 0 (stderr: ${ended.stderr})`);
  t.match(ended.stdout, /^demo: claimed pool-\d+ \(127\.0\.0\.1:\d+\)/m);
  t.match(ended.stdout, /^demo: lifeguard exited 0 and every transition appeared$/m);
  for (const state of ['scheduled', 'starting', 'healthy', 'unhealthy', 'timed-out', 'crashed', 'destroying', 'destroyed', 'claimed', 'given-up']) {
    t.match(ended.stdout, new RegExp(`^${state} +[1-9]\\d* +\\S`, 'm'), `summary row for ${state}`);
  }
});

t.test('Ctrl-C during the demo: lifeguard stops every instance, the demo exits 0', async (t) => {
  const config = await demoConfig(t);
  const started = start(process.execPath, [join(ROOT, 'scripts/demo.mjs')], { env: { LIFEGUARD_DEMO_CONFIG: config, LIFEGUARD_DEMO_SECONDS: '60' }, killAfterMs: 60_000 });
  let said = '';
  started.child.stdout!.on('data', (text: string) => (said += text));
  for (let i = 0; i < 300 && !/ -> healthy/.test(said); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  // A terminal's Ctrl-C goes to the foreground process group: the demo and lifeguard both.
  process.kill(-started.child.pid!, 'SIGINT');
  const ended = await started.ended;
  t.equal(ended.code, 0, `exit 0 (stderr: ${ended.stderr})`);
  t.match(ended.stdout, /^demo: interrupted \(SIGINT\): lifeguard stopped every instance and exited 0$/m);
  t.notMatch(ended.stdout + ended.stderr, /never seen/);
});

