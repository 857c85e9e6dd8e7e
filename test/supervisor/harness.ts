// Shared by the supervisor tests: a short-timed app spec on the fixture app, a supervisor whose transitions
// are recorded, bounded waits on those transitions, and a teardown that stops it and proves nothing outlived it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { SeenProcesses } from '../helpers/seen-processes.js';
import type { Driver } from '../../src/supervisor/drivers/driver.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { SupervisorOptions, SupervisorTuning } from '../../src/supervisor/config/options.js';
import type { AppSpec, ProbeStrategy } from '../../src/supervisor/spec/types.js';
import type { Transition } from '../../src/shared/transition.js';
import { tempDir } from '../helpers/temp-dir.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE_APP = join(ROOT, 'test/fixtures/app.mjs');
export const AGENT = join(ROOT, 'dist/healthcheck.cjs');
export const STRATEGIES: readonly ProbeStrategy[] = ['native', 'sidecar'];

/** The sidecar strategy runs the built agent; build it once if this checkout has not yet. */
export function ensureAgent(): void {
  if (!existsSync(AGENT)) execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

export function appSpec(probe: ProbeStrategy, overrides: Partial<AppSpec> = {}): AppSpec {
  // A second, not 0.3: on a loaded machine (CI beside other work) the fixture app is starved for longer than 0.3 s
  // and a healthy instance failed liveness, which these tests never mean to test (rollout failed so at load 14).
  const health = { kind: 'http', port: 8080, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  return {
    name: 'web',
    command: [process.execPath, FIXTURE_APP],
    env: {},
    instances: 1,
    ports: [8080],
    checks: [health],
    readinessChecks: [health],
    startupTimeoutMs: 5000,
    startupIntervalMs: 100,
    livenessIntervalMs: 200,
    probe,
    driver: 'process',
    gracePeriodMs: 1000,
    prewarm: 0,
    restart: { immediate: 3, backoffMinMs: 200, backoffMaxMs: 1000, maxRestarts: 5, resetAfterMs: 60_000 },
    ...overrides,
  };
}

export interface Harness {
  readonly supervisor: Supervisor;
  readonly stateDir: string;
  readonly transitions: Transition[];
  /** Resolves with the first matching transition, already seen or still to come; rejects after timeoutMs. */
  until(match: (t: Transition) => boolean, timeoutMs?: number): Promise<Transition>;
  /** Every pid of an app or agent this supervisor ran, as far as status and the state directory told. */
  readonly pids: SeenProcesses;
}

/** A started supervisor; t.teardown stops it and checks that every process it ever ran is gone. */
export async function supervise(t: Test, apps: readonly AppSpec[], tuning: SupervisorTuning = {}, beforeStart?: (supervisor: Supervisor) => void, driver?: Driver, extra: Partial<SupervisorOptions> = {}): Promise<Harness> {
  const stateDir = tempDir(t);
  const supervisor = new Supervisor({ apps, stateDir, agentPath: AGENT, tuning, driver, ...extra });
  const transitions: Transition[] = [];
  const pids = new SeenProcesses();
  const waiters = new Set<(t: Transition) => void>();
  supervisor.on('transition', (transition) => {
    transitions.push(transition);
    for (const app of supervisor.status().apps) for (const i of [...app.instances, ...app.prewarm]) if (i.pid !== null) pids.add(i.pid);
    for (const { pid, startTime } of recordedProcesses(stateDir)) pids.add(pid, startTime);
    for (const waiter of waiters) waiter(transition);
  });
  const until = (match: (t: Transition) => boolean, timeoutMs = 10_000): Promise<Transition> =>
    new Promise((resolve, reject) => {
      const seen = transitions.find(match);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching transition within ${timeoutMs}ms; saw:\n${transitions.map(show).join('\n')}`));
      }, timeoutMs);
      const waiter = (transition: Transition) => {
        if (!match(transition)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(transition);
      };
      waiters.add(waiter);
    });
  t.teardown(async () => {
    await supervisor.stop();
    // Past the test's end tap takes no assertion; a throw here still fails the test.
    const leftovers = pids.running();
    for (const pid of leftovers) process.kill(pid, 'SIGKILL');
    if (leftovers.length > 0) throw new Error(`processes left running after stop(): ${leftovers.join(', ')}`);
  });
  beforeStart?.(supervisor);
  await supervisor.start();
  return { supervisor, stateDir, transitions, until, pids };
}

export function recordedPids(stateDir: string, role?: 'app' | 'agent'): number[] {
  return recordedProcesses(stateDir, role).map((p) => p.pid);
}

/** The processes the state directory records, each with the start time it was recorded with. */
export function recordedProcesses(stateDir: string, role?: 'app' | 'agent'): { pid: number; startTime: string }[] {
  const dir = join(stateDir, 'instances');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      try {
        const { processes } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { processes: { pid: number; role: string; startTime: string }[] };
        return processes.filter((p) => role === undefined || p.role === role);
      } catch {
        return [];
      }
    });
}

/** The agent pid recorded for an instance, under sidecar probing. */
export function agentPid(stateDir: string, instance: string): number | undefined {
  try {
    const record = JSON.parse(readFileSync(join(stateDir, 'instances', `${instance}.json`), 'utf8')) as { processes: { role: string; pid: number }[] };
    return record.processes.find((p) => p.role === 'agent')?.pid;
  } catch {
    return undefined;
  }
}

export function show(t: Transition): string {
  return `${t.instance} ${t.from} -> ${t.to}: ${t.msg}${t.reason === undefined ? '' : ` (${t.reason})`}`;
}

export const to = (state: Transition['to'], instance?: string) => (t: Transition) => t.to === state && (instance === undefined || t.instance === instance);
