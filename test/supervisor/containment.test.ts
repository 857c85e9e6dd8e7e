// Containment (README "Drivers"): an app that daemonises (`setsid`) or fork-bombs leaves nothing behind after its
// destroy or the supervisor's stop — in a cgroup v2 of its own, in cgroup v1 hierarchies (legacy and hybrid
// hosts: freeze, kill, thaw), and with the environ marker alone; limits and the OOM killer's verdict come from
// the instance's cgroup in either flavour; a frozen app's cgroup does not stop its sidecar agent. Each cgroup
// flavour runs where this machine has it (a hybrid host has both); `auto` picks the one with the controllers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { readCgroupHost, type V1Hierarchy } from '../../src/supervisor/host/cgroup-host.js';
import { Containment, type ContainmentMode, INSTANCE_ENV, limitsUnsupported } from '../../src/supervisor/host/containment.js';
import { ProcessDriver } from '../../src/supervisor/drivers/process.js';
import { isRunning, marked, STATE_DIR_ENV } from '../../src/supervisor/host/state-dir.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { LifeguardFailure } from '../../src/checks/errors.js';
import type { ContainmentStatus } from '../../src/shared/status.js';
import { tempDir } from '../helpers/temp-dir.js';
import { AGENT, appSpec, ensureAgent, supervise, to } from './harness.js';

ensureAgent();

/** Why this machine gives an instance no cgroup in `mode` (its cases then skip), or undefined. */
function noCgroup(mode: ContainmentMode): string | undefined {
  const probe = new Containment(tempDir(t), mode);
  const reason = probe.fallbackReason;
  probe.close();
  return reason;
}
const CGROUP_MODES = ['cgroup-v2', 'cgroup-v1'] as const;
const MODES: readonly ContainmentMode[] = [...CGROUP_MODES, 'environ'];

/** An instance's cgroup directory: v2's, or v1's in one hierarchy (the freezer's unless named). */
function cgroupOf(status: ContainmentStatus | undefined, instance: string, hierarchy: V1Hierarchy = 'freezer'): string {
  if (status?.path === undefined) throw new Error(`no cgroup tree: ${JSON.stringify(status)}`);
  if (status.kind === 'cgroup v2') return join(status.path, instance);
  const v1 = readCgroupHost().v1;
  return join(v1.get(hierarchy) as string, relative(v1.get('freezer') as string, status.path), instance);
}

const procs = (dir: string) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).sort();

/** The test app's daemon, which the test kills at its end if the code under test left it running (a failed assertion). */
async function daemonPid(t: Test, file: string): Promise<number> {
  for (let i = 0; i < 250 && !existsSync(file); i++) await sleep(20);
  const pid = Number(readFileSync(file, 'utf8'));
  t.teardown(() => {
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  return pid;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(20);
  return !isRunning(pid);
}

for (const mode of MODES) {
  const skip = mode === 'environ' ? undefined : noCgroup(mode);

  t.test(`${mode}: a setsid daemon goes with its instance's destroy`, { skip }, async (t) => {
    const stateDir = tempDir(t);
    const pidFile = join(stateDir, 'daemon.pid');
    const containment = new Containment(stateDir, mode);
    t.teardown(() => containment.close());
    const spec = appSpec('native', { env: { SETSID_PIDFILE: pidFile, [STATE_DIR_ENV]: stateDir } });
    const result = await new ProcessDriver({ containment, outputDir: stateDir }).launch({ instance: 'web-1', spec, onExit: () => {} });
    if (!result.ok) throw new Error(result.reason);
    const daemon = await daemonPid(t, pidFile);
    t.ok(isRunning(daemon), 'the daemon runs, in a session of its own');
    // The pid is written at spawn; setsid(1) leaves the app's session a moment later (bounded wait).
    const session = () => readFileSync(`/proc/${daemon}/stat`, 'utf8').split(' ')[5];
    for (let i = 0; i < 100 && session() === String(result.running.pid); i++) await sleep(20);
    t.not(session(), String(result.running.pid), 'out of the app\'s session');
    if (mode !== 'environ') {
      const status = containment.status();
      t.equal(status.kind, mode.replace('-', ' '), 'status names the flavour in force');
      const dirs = mode === 'cgroup-v1' ? (['freezer', 'memory', 'cpu', 'pids'] as const).filter((h) => readCgroupHost().v1.has(h)).map((h) => cgroupOf(status, 'web-1', h)) : [cgroupOf(status, 'web-1')];
      for (const dir of dirs) t.same(procs(dir), [result.running.pid, daemon].sort(), `both in ${dir}`);
      await result.running.destroy(1000);
      for (const dir of dirs) t.notOk(existsSync(dir), `${dir} is removed`);
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
    const daemon = await daemonPid(t, pidFile);
    t.ok(isRunning(daemon));
    await supervisor.stop();
    t.ok(await gone(daemon), 'the daemon is gone after stop');
  });
}

for (const mode of CGROUP_MODES) {
  const skip = noCgroup(mode);

  t.test(`${mode}: a successor kills and removes the instance cgroups a killed supervisor left`, { skip }, async (t) => {
    const stateDir = tempDir(t);
    const pidFile = join(stateDir, 'daemon.pid');
    const first = new Containment(stateDir, mode);
    const launched = await new ProcessDriver({ containment: first, outputDir: stateDir }).launch({ instance: 'web-3', spec: appSpec('native', { env: { SETSID_PIDFILE: pidFile } }), onExit: () => {} });
    if (!launched.ok) throw new Error(launched.reason);
    const cgroup = cgroupOf(first.status(), 'web-3');
    const daemon = await daemonPid(t, pidFile);
    // The first supervisor "dies": no destroy. Its successor on the same state directory cleans up.
    const successor = new Containment(stateDir, mode);
    t.teardown(() => successor.close());
    await new ProcessDriver({ containment: successor, outputDir: stateDir }).cleanup();
    t.ok(await gone(daemon), 'the daemon is gone');
    t.ok(await gone(launched.running.pid as number), 'the app is gone');
    t.notOk(existsSync(cgroup), 'its cgroup is removed');
  });

  t.test(`${mode}: the sidecar agent keeps working while the app's cgroup is frozen: the app is unhealthy, the agent not lost`, { skip }, async (t) => {
    const { supervisor, until } = await supervise(t, [appSpec('sidecar')], {}, undefined, undefined, { containment: mode });
    await until(to('healthy', 'web-1'));
    const [file, frozen, thawed] = mode === 'cgroup-v2' ? ['cgroup.freeze', '1', '0'] : ['freezer.state', 'FROZEN', 'THAWED'];
    const freeze = join(cgroupOf(supervisor.status().containment, 'web-1'), file);
    readFileSync(freeze); // present: the app is in a cgroup of its own, without its agent
    writeFileSync(freeze, frozen);
    t.teardown(() => {
      if (existsSync(freeze)) writeFileSync(freeze, thawed);
    });
    const unhealthy = await until(to('unhealthy', 'web-1'));
    t.equal(unhealthy.cause, 'unhealthy', 'the agent reported the frozen app, it did not fall silent');
    t.match(unhealthy.reason, /timed out/);
    // Destroy thaws nothing by hand: cgroup.kill (v1: freeze, kill, thaw) ends a frozen cgroup too.
    await until(to('destroyed', 'web-1'));
  });

  const limits = { memoryBytes: 256 * 1024 * 1024, cpuQuotaUs: 50_000, pids: 64 };
  t.test(`${mode}: limits are written to the instance's cgroup`, { skip: skip ?? limitsUnsupported(limits, mode) }, async (t) => {
    const { supervisor, until } = await supervise(t, [appSpec('native', { limits })], {}, undefined, undefined, { containment: mode });
    await until(to('healthy', 'web-1'));
    const status = supervisor.status().containment;
    t.match(status, { kind: mode.replace('-', ' '), controllers: ['memory', 'cpu', 'pids'] });
    const read = (hierarchy: V1Hierarchy, file: string) => readFileSync(join(cgroupOf(status, 'web-1', hierarchy), file), 'utf8').trim();
    if (mode === 'cgroup-v2') {
      t.equal(read('memory', 'memory.max'), String(limits.memoryBytes));
      t.equal(read('cpu', 'cpu.max'), '50000 100000');
    } else {
      t.equal(read('memory', 'memory.limit_in_bytes'), String(limits.memoryBytes));
      if (existsSync(join(cgroupOf(status, 'web-1', 'memory'), 'memory.memsw.limit_in_bytes'))) t.equal(read('memory', 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes), 'no swap beyond it');
      t.equal(read('cpu', 'cpu.cfs_period_us'), '100000');
      t.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
    }
    t.equal(read('pids', 'pids.max'), '64');
  });

  t.test(`${mode}: an app killed by the OOM killer crashes with the reason "out of memory"`, { skip: skip ?? limitsUnsupported({ memoryBytes: 1 }, mode) }, async (t) => {
    const hog = `const kept = []; setInterval(() => kept.push(Buffer.alloc(16 << 20, 1)), 20)`;
    const spec = appSpec('native', { command: [process.execPath, '-e', hog], limits: { memoryBytes: 96 * 1024 * 1024 } });
    const { until } = await supervise(t, [spec], {}, undefined, undefined, { containment: mode });
    const crashed = await until(to('crashed', 'web-1'));
    t.equal(crashed.reason, 'out of memory');
  });

  t.test(`${mode}: a fork bomb (held to pids.max) is ended whole by destroy, its cgroup removed`, { skip: skip ?? limitsUnsupported({ pids: 1 }, mode) }, async (t) => {
    const stateDir = tempDir(t);
    const containment = new Containment(stateDir, mode);
    t.teardown(() => containment.close());
    // Every process forks two more and exits: the set never stops changing, which outruns any kill loop.
    const bomb = 'sleep 0.2; b() { b | b & }; b; exec sleep 600';
    const spec = appSpec('native', { command: ['sh', '-c', bomb], env: { [STATE_DIR_ENV]: stateDir }, limits: { pids: 100 } });
    const result = await new ProcessDriver({ containment, outputDir: stateDir }).launch({ instance: 'bomb-1', spec, onExit: () => {} });
    if (!result.ok) throw new Error(result.reason);
    const cgroup = cgroupOf(containment.status(), 'bomb-1', 'pids');
    const current = () => Number(readFileSync(join(cgroup, 'pids.current'), 'utf8'));
    for (let i = 0; i < 250 && current() < 50; i++) await sleep(20);
    t.ok(current() >= 50, `the bomb went off (${current()} processes)`);
    await result.running.destroy(0);
    t.notOk(existsSync(cgroup), 'the cgroup is removed, so it held no process');
    t.same(marked([`${INSTANCE_ENV}=bomb-1`, `${STATE_DIR_ENV}=${stateDir}`]), [], 'no process of the instance is left anywhere');
  });
}

t.test('auto: status says which containment is in force; limits this host can apply are taken', async (t) => {
  const supported = limitsUnsupported({ memoryBytes: 1 }) === undefined;
  const { supervisor, until } = await supervise(t, [appSpec('native', supported ? { limits: { memoryBytes: 256 * 1024 * 1024 } } : {})]);
  await until(to('healthy', 'web-1'));
  const status = supervisor.status().containment;
  t.ok(status?.kind === 'cgroup v1' || status?.kind === 'cgroup v2' || status?.kind === 'environ', `in force: ${JSON.stringify(status)}`);
  if (supported) t.ok(status?.controllers?.includes('memory'), 'the flavour chosen is the one with the memory controller');
  // A hybrid host's unified hierarchy has no controllers: auto takes the v1 hierarchies there.
  const host = readCgroupHost();
  if (host.unified !== undefined && readFileSync(join(host.unified, 'cgroup.controllers'), 'utf8').trim() === '' && host.v1.has('freezer')) t.equal(status?.kind, 'cgroup v1');
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
  t.match((error as Error).message, /^apps\[0\]\.limits: limits need a cgroup of its own per instance, and there is none: the environ marker was asked for$/);
  t.equal(limitsUnsupported({ pids: 10 }, 'environ'), 'limits need a cgroup of its own per instance, and there is none: the environ marker was asked for', 'preflight says the same, creating nothing');
});
