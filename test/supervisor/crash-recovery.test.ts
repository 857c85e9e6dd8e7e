// A supervisor killed with SIGKILL cannot stop its instances; the next one on the same state directory must.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import t from 'tap';
import { isRunning, readProcStat } from '../../src/supervisor/host/state-dir.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { SupervisorOptions } from '../../src/supervisor/config/options.js';
import type { Transition } from '../../src/shared/transition.js';
import { AGENT, appSpec, ensureAgent, recordedPids, ROOT, STRATEGIES } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const FIXTURE = `${ROOT}test/fixtures/supervisor.ts`;

for (const probe of STRATEGIES) {
  t.test(`${probe}: after a SIGKILLed supervisor, the next one leaves no orphan behind`, async (t) => {
    if (probe === 'sidecar') ensureAgent();
    const stateDir = tempDir(t);
    const options: SupervisorOptions = { apps: [appSpec(probe, { instances: 2 })], stateDir, agentPath: AGENT };
    const first = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => {
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    });
    const healthy = new Set<string>();
    const deadline = setTimeout(() => first.kill('SIGKILL'), 20_000);
    for await (const line of createInterface({ input: first.stdout })) {
      const transition = JSON.parse(line) as Transition;
      if (transition.to === 'healthy') healthy.add(transition.instance);
      // Under sidecar probing the liveness agents start right after `healthy`; give them a moment to be recorded.
      if (healthy.size === 2) break;
    }
    clearTimeout(deadline);
    t.equal(healthy.size, 2, 'both instances became healthy under the first supervisor');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const left = recordedPids(stateDir);
    t.equal(left.length, probe === 'sidecar' ? 4 : 2, 'apps (and agents) recorded');

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    t.ok(left.every(isRunning), 'its instances outlive it: orphans');

    const second = new Supervisor({ ...options, apps: [appSpec(probe, { instances: 0 })] });
    await second.start();
    t.teardown(() => second.stop());
    for (const pid of left) t.notOk(isRunning(pid), `orphan ${pid} is gone (${readProcStat(pid)?.state ?? 'no /proc entry'})`);
    t.same(recordedPids(stateDir), [], 'and its record with it');
  });
}

t.test('a recorded pid that now belongs to another process (a different start time) is left alone', async (t) => {
  const stateDir = tempDir(t);
  const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  t.teardown(() => bystander.kill('SIGKILL'));
  await new Promise((resolve) => bystander.once('spawn', resolve));
  const pid = bystander.pid as number;
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(`${stateDir}/instances`, { recursive: true });
  // As if the record were written for an earlier process that had the same pid.
  const reused = { role: 'app', pid, pgid: pid, startTime: String(BigInt(readProcStat(pid)?.startTime ?? '1') - 1n) };
  writeFileSync(`${stateDir}/instances/web-1.json`, JSON.stringify({ app: 'web', instance: 'web-1', processes: [reused] }));
  writeFileSync(`${stateDir}/instances/web-2.json.tmp`, '{"torn');
  const supervisor = new Supervisor({ apps: [], stateDir });
  await supervisor.start();
  t.ok(isRunning(pid), 'a process started after the record was written is not the recorded one');
  t.same(recordedPids(stateDir), []);
  await supervisor.stop();
});
