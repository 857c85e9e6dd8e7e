// SIGKILL and SIGSTOP at seeded random moments, aimed at random apps and at their sidecar agents: every hit is a
// failure with a reason, every failed instance is replaced, the app is back at its desired count, and nothing leaks.
// Reproduce a run with LIFEGUARD_SEED=<seed>.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { agentPid } from '../supervisor/harness.js';
import { fixtureApp, LOOP_FOREVER, MARKER } from './apps.js';
import { auditLog } from '../helpers/log-audit.js';
import { allInstances, runCli, stopCleanly } from './cli-supervisor.js';
import { seedFromEnv } from './seed.js';
import { tempDir } from '../helpers/temp-dir.js';

const INSTANCES = 3;
const HITS = 12;
const seed = seedFromEnv(5150);

const hit = fc.record({
  waitMs: fc.integer({ min: 50, max: 700 }),
  instance: fc.integer({ min: 0, max: INSTANCES - 1 }),
  target: fc.constantFrom('app', 'agent'),
  signal: fc.constantFrom('SIGKILL', 'SIGSTOP'),
});

t.test(`seed ${seed}: ${HITS} signals to apps and sidecar agents`, async (t) => {
  const run = randomUUID();
  const dir = tempDir(t);
  const app = fixtureApp('web', run, { instances: INSTANCES, probe: 'sidecar', restart: LOOP_FOREVER, livenessInterval: '300ms' });
  const cli = await runCli(t, dir, [app], { killAfterMs: 90_000 });
  /** Instances that were hit: each is a failure, so each must be gone, replaced by a new instance. */
  const hitIds = new Set<string>();
  const allHealthy = async () => {
    const instances = allInstances(await cli.status());
    return instances.length === INSTANCES && instances.every((i) => i.state === 'healthy' && !hitIds.has(i.id));
  };
  await cli.until((all) => all.filter((x) => x.to === 'healthy').length >= INSTANCES);

  const stopped: number[] = [];
  const hits = fc.sample(hit, { seed, numRuns: HITS });
  for (const { waitMs, instance, target, signal } of hits) {
    await sleep(waitMs);
    const chosen = allInstances(await cli.status())[instance];
    if (chosen === undefined) continue;
    const pid = target === 'app' ? chosen.pid : agentPid(join(dir, 'state'), chosen.id);
    if (pid === null || pid === undefined || !isRunning(pid)) continue;
    process.kill(pid, signal);
    hitIds.add(chosen.id);
    if (signal === 'SIGSTOP') stopped.push(pid);
    t.comment(`${signal} ${target} ${pid} of ${chosen.id} (${chosen.state})`);
  }

  // Steady again: every instance healthy and none of those hit (a SIGKILLed agent's instance may still read healthy
  // for a moment after the kill), each stopped process gone (an app destroyed, an agent killed for its silence).
  for (let waited = 0; waited < 30_000 && !((await allHealthy()) && !stopped.some(isRunning)); waited += 250) await sleep(250);
  t.ok(await allHealthy(), `back to ${INSTANCES} healthy instances, every one hit replaced`);
  t.same(stopped.filter(isRunning), [], 'every stopped process was noticed and ended');
  const failures = cli.transitions.filter((x) => ['crashed', 'unhealthy', 'timed-out'].includes(x.to));
  t.ok(failures.every((x) => typeof x.reason === 'string' && x.reason.length > 0), `each of ${failures.length} failures carries a reason`);
  t.same(auditLog(cli.transitions, false), [], 'one line per transition, every failure rescheduled');

  await stopCleanly(t, cli, MARKER, run);
  t.same(auditLog(cli.transitions, true), [], 'the whole log holds');
});
