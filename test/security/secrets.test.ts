// Environment values are secrets until proven otherwise: they reach the app and nothing else — not the transition
// log through any crash, liveness failure or destroy, and not the error line of a config that gets them wrong.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { parseConfig } from '../../src/supervisor/config/config.js';
import { fixtureApp } from '../reliability/apps.js';
import { runCli } from '../reliability/cli-supervisor.js';
import { seedFromEnv } from '../reliability/seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET = `s3cr3t-${randomUUID()}`;

t.test('a secret env value never reaches the log, through crashes and liveness failures', async (t) => {
  const run = randomUUID();
  const apps = [
    fixtureApp('crashing', run, { env: { API_KEY: SECRET, CRASH_AFTER_MS: '300' } }),
    fixtureApp('sick', run, { env: { API_KEY: SECRET, UNHEALTHY_AFTER_MS: '200' }, probe: 'sidecar' }),
  ];
  const cli = await runCli(t, tempDir(t), apps);
  await cli.until((all) => ['crashing', 'sick'].every((app) => all.some((x) => x.app === app && x.to === 'destroyed')));
  const ended = await cli.stop();
  // On a loaded machine the sick app may time out its readiness rather than fail liveness: a failure either way.
  const failed = (app: string) => cli.transitions.some((x) => x.app === app && ['crashed', 'unhealthy', 'timed-out'].includes(x.to) && x.reason !== undefined);
  t.ok(failed('crashing') && failed('sick'), 'both apps failed, with reasons logged');
  t.notMatch(ended.stdout, SECRET, 'the log never holds the value');
  t.notMatch(ended.stderr, SECRET, 'nor does stderr');
});

t.test('config errors name the env field, never quote its value', async (t) => {
  const seed = seedFromEnv(4242);
  // Every wrong shape an env value can take, each carrying the secret somewhere inside it.
  const wrongValue = fc.oneof(
    fc.constant(`${SECRET}\u0000`),
    fc.constant([SECRET]),
    fc.constant({ value: SECRET }),
    fc.tuple(fc.integer(), fc.constant(SECRET)),
  );
  const env = fc.oneof(
    fc.record({ API_KEY: wrongValue }),
    fc.constant(SECRET),
    fc.constant([SECRET]),
    fc.constant({ [`A=${SECRET}`]: 'x' }),
  );
  const app = (e: unknown) => ({ name: 'web', command: ['node', 'app.mjs'], checks: [{ tcp_check: { port: 8080 } }], env: e });
  // The env nested one level wrong too (apps not an array, an app not an object) must not be quoted either.
  const config = fc.oneof(
    env.map((e) => ({ apps: [app(e)] })),
    env.map((e) => ({ apps: { env: e } })),
    env.map((e) => ({ apps: [[app(e)]] })),
  );
  let checked = 0;
  fc.assert(
    fc.property(config, (candidate) => {
      try {
        parseConfig(candidate);
      } catch (thrown) {
        checked++;
        return thrown instanceof LifeguardFailure && !thrown.message.includes('s3cr3t') && !thrown.message.includes('\n');
      }
      // A variable whose name holds the secret is refused ("="), so nothing here may pass.
      return false;
    }),
    { seed, numRuns: 300 },
  );
  t.equal(checked, 300, `seed ${seed}: 300 bad configs, each refused in one line without the value`);
});
