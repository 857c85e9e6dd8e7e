// Containment (README "Drivers"): an app that daemonises (`setsid`) leaves nothing behind after its destroy or
// the supervisor's stop, in its own cgroup and with the environ marker alone; limits and the OOM killer's verdict
// come from the instance's cgroup; a frozen app's cgroup does not stop its sidecar agent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { cgroup2Mount } from '../../src/supervisor/cgroup.js';
import { Containment, type ContainmentMode } from '../../src/supervisor/containment.js';
import { ownerTag } from '../../src/supervisor/drivers/owner.js';
import { ProcessDriver } from '../../src/supervisor/drivers/process.js';
import { isRunning, STATE_DIR_ENV } from '../../src/supervisor/state-dir.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { LifeguardFailure } from '../../src/checks/errors.js';
import type { AppSpec } from '../../src/supervisor/types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { AGENT, appSpec, ensureAgent, supervise, to } from './harness.js';

ensureAgent();

/** Why this machine gives an instance no cgroup (the auto cases then skip), or undefined. */
function noCgroup(): string | undefined {
  const probe = new Containment(tempDir(t));
  const reason = probe.fallbackReason;
  probe.close();
  return reason;
}
const withoutCgroups = noCgroup();
const MODES: readonly ContainmentMode[] = ['auto', 'environ'];

function instanceCgroup(stateDir: string, instance: string): string {
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  return join(cgroup2Mount() as string, own, 'lifeguard', ownerTag(stateDir), instance);
}

async function daemonPid(file: string): Promise<number> {
  for (let i = 0; i < 250 && !existsSync(file); i++) await sleep(20);
  return Number(readFileSync(file, 'utf8'));
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(20);
  return !isRunning(pid);
}

for (const mode of MODES) {
  const skip = mode === 'auto' ? withoutCgroups : undefined;

  t.test(`${mode}: a setsid daemon goes with its instance's destroy`, { skip }, async (t) => {
    const stateDir = tempDir(t);
    const pidFile = join(stateDir, 'daemon.pid');
    const containment = new Containment(stateDir, mode);
    t.teardown(() => containment.close());
    const spec = appSpec('native', { env: { SETSID_PIDFILE: pidFile, [STATE_DIR_ENV]: stateDir } });
    const result = await new ProcessDriver({ containment, outputDir: stateDir }).launch({ instance: 'web-1', spec, onExit: () => {} });
    if (!result.ok) throw new Error(result.reason);
    const daemon = await daemonPid(pidFile);
    t.ok(isRunning(daemon), 'the daemon runs, in a session of its own');
    // The pid is written at spawn; setsid(1) leaves the app's session a moment later (bounded wait).
    const session = () => readFileSync(`/proc/${daemon}/stat`, 'utf8').split(' ')[5];
    for (let i = 0; i < 100 && session() === String(result.running.pid); i++) await sleep(20);
    t.not(session(), String(result.running.pid), 'out of the app\'s session');
    if (mode === 'auto') {
      const cgroup = instanceCgroup(stateDir, 'web-1');
      t.same(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).sort(), [result.running.pid, daemon].sort(), 'both in the instance\'s cgroup');
      await result.running.destroy(1000);
      t.notOk(existsSync(cgroup), 'the cgroup is removed');
    } else {
      await result.running.destroy(1000);
    }
    t.ok(await gone(daemon), 'the daemon is gone after destroy');
  });

  t.test(`${mode}: a setsid daemon goes with the supervisor's stop`, { skip }, async (t) => {
    const markers = tempDir(t);
    const pidFile = join(markers, 'daemon.pid');
    const { supervisor, until } = await supervise(t, [appSpec('native', { env: { SETSID_PIDFILE: pidFile } })], {}, undefined, undefined, { containment: mode });
    await until(to('healthy'));
    const daemon = await daemonPid(pidFile);
    t.ok(isRunning(daemon));
    await supervisor.stop();
    t.ok(await gone(daemon), 'the daemon is gone after stop');
  });
}

t.test('auto: a successor kills and removes the instance cgroups a killed supervisor left', { skip: withoutCgroups }, async (t) => {
  const stateDir = tempDir(t);
  const pidFile = join(stateDir, 'daemon.pid');
  const first = new Containment(stateDir);
  const launched = await new ProcessDriver({ containment: first, outputDir: stateDir }).launch({ instance: 'web-3', spec: appSpec('native', { env: { SETSID_PIDFILE: pidFile } }), onExit: () => {} });
  if (!launched.ok) throw new Error(launched.reason);
  const daemon = await daemonPid(pidFile);
  // The first supervisor "dies": no destroy. Its successor on the same state directory cleans up.
  const successor = new Containment(stateDir);
  t.teardown(() => successor.close());
  await new ProcessDriver({ containment: successor, outputDir: stateDir }).cleanup();
  t.ok(await gone(daemon), 'the daemon is gone');
  t.ok(await gone(launched.running.pid as number), 'the app is gone');
  t.notOk(existsSync(instanceCgroup(stateDir, 'web-3')), 'its cgroup is removed');
});

t.test('auto: the sidecar agent keeps working while the app\'s cgroup is frozen: the app is unhealthy, the agent not lost', { skip: withoutCgroups }, async (t) => {
  const { stateDir, until } = await supervise(t, [appSpec('sidecar')]);
  await until(to('healthy', 'web-1'));
  const freeze = join(instanceCgroup(stateDir, 'web-1'), 'cgroup.freeze');
  readFileSync(freeze); // present: the app is in a cgroup of its own, without its agent
  const { writeFileSync } = await import('node:fs');
  writeFileSync(freeze, '1');
  t.teardown(() => {
    if (existsSync(freeze)) writeFileSync(freeze, '0');
  });
  const unhealthy = await until(to('unhealthy', 'web-1'));
  t.equal(unhealthy.cause, 'unhealthy', 'the agent reported the frozen app, it did not fall silent');
  t.match(unhealthy.reason, /timed out/);
  // Destroy thaws nothing by hand: cgroup.kill ends a frozen cgroup too.
  await until(to('destroyed', 'web-1'));
});

/** Limits this machine can apply, or why not. */
function cannotLimit(limits: AppSpec['limits'] & object): string | undefined {
  const probe = new Containment(tempDir(t));
  const reason = probe.cannotLimit(limits);
  probe.close();
  return reason;
}

t.test('limits are written to the instance\'s cgroup', { skip: cannotLimit({ memoryBytes: 1, cpuQuotaUs: 1, pids: 1 }) }, async (t) => {
  const limits = { memoryBytes: 256 * 1024 * 1024, cpuQuotaUs: 50_000, pids: 64 };
  const { stateDir, until } = await supervise(t, [appSpec('native', { limits })]);
  await until(to('healthy', 'web-1'));
  const cgroup = instanceCgroup(stateDir, 'web-1');
  t.equal(readFileSync(join(cgroup, 'memory.max'), 'utf8').trim(), String(limits.memoryBytes));
  t.equal(readFileSync(join(cgroup, 'cpu.max'), 'utf8').trim(), '50000 100000');
  t.equal(readFileSync(join(cgroup, 'pids.max'), 'utf8').trim(), '64');
});

t.test('an app killed by the OOM killer crashes with the reason "out of memory"', { skip: cannotLimit({ memoryBytes: 1 }) }, async (t) => {
  const hog = `const kept = []; setInterval(() => kept.push(Buffer.alloc(16 << 20, 1)), 20)`;
  const spec = appSpec('native', { command: [process.execPath, '-e', hog], limits: { memoryBytes: 96 * 1024 * 1024 } });
  const { until } = await supervise(t, [spec]);
  const crashed = await until(to('crashed', 'web-1'));
  t.equal(crashed.reason, 'out of memory');
});

t.test('limits where they cannot be applied are refused up front, naming the field', async (t) => {
  const stateDir = tempDir(t);
  const make = () => new Supervisor({ apps: [appSpec('native', { limits: { pids: 10 } })], stateDir, agentPath: AGENT, containment: 'environ' });
  const error = (() => {
    try {
      make();
    } catch (thrown) {
      return thrown;
    }
  })();
  t.ok(error instanceof LifeguardFailure);
  t.match((error as Error).message, /^apps\[0\]\.limits: limits need a cgroup v2 of its own per instance, and there is none: the environ marker was asked for$/);
});
