// The supervisor itself SIGKILLed at seeded random moments (mid launch, mid readiness, while healthy), then
// started again on the same state directory: the successor reaps what its predecessor left, counts no instance
// twice, and brings the app back to its desired count. Reproduce a run with LIFEGUARD_SEED=<seed>.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { SeenProcesses } from '../helpers/seen-processes.js';
import { fixtureApp, LOOP_FOREVER, MARKER } from './apps.js';
import { allInstances, markedProcesses, runCli, stopCleanly } from './cli-supervisor.js';
import { seedFromEnv } from './seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const INSTANCES = 3;
const KILLS = 4;
const seed = seedFromEnv(1984);

t.test(`seed ${seed}: ${KILLS} supervisors SIGKILLed, then one left to run`, async (t) => {
  const run = randomUUID();
  const dir = tempDir(t);
  // Readiness after 300ms, so that a kill can land before, during or after it.
  const app = fixtureApp('web', run, { instances: INSTANCES, probe: 'sidecar', restart: LOOP_FOREVER, env: { READY_AFTER_MS: '300' } });
  const left = new SeenProcesses();
  // Moments count from the first log line, so that a loaded machine's slow Node.js start does not eat them.
  for (const killAtMs of fc.sample(fc.integer({ min: 0, max: 2500 }), { seed, numRuns: KILLS })) {
    const cli = await runCli(t, dir, [app]);
    // A loaded machine can take many seconds to start Node.js; its stderr says why if it never logs at all.
    await cli.until((all) => all.length > 0, 60_000).catch(async (error: Error) => {
      cli.child.kill('SIGKILL');
      throw new Error(`${error.message}; stderr: ${(await cli.ended).stderr}`);
    });
    await sleep(killAtMs);
    cli.child.kill('SIGKILL');
    await cli.ended;
    left.addAll(cli.pids);
    t.comment(`killed after ${killAtMs}ms with ${cli.transitions.length} transitions logged, ${cli.pids.size} processes recorded`);
  }

  const last = await runCli(t, dir, [app]);
  let healthy = false;
  for (let waited = 0; waited < 30_000 && !healthy; waited += 250) {
    await sleep(250);
    const instances = allInstances(await last.status());
    healthy = instances.length === INSTANCES && instances.every((i) => i.state === 'healthy');
  }
  t.ok(healthy, `desired count restored: ${INSTANCES} healthy instances`);
  const instances = allInstances(await last.status());
  t.equal(new Set(instances.map((i) => i.id)).size, instances.length, 'no instance listed twice');
  const pids = instances.map((i) => i.pid);
  t.same(markedProcesses(MARKER, run).sort(), [...pids].sort(), 'the app processes running are exactly the instances listed: no orphan, no double');
  t.same(left.running().filter((pid) => !pids.includes(pid)), [], "every process the killed supervisors left is gone");

  await stopCleanly(t, last, MARKER, run, 'maybe');
});
