// The built supervisor CLI (`node bin/lifeguard.js run CONFIG`) as an operator runs it, for fault injection:
// its transition log line by line, its /status, the processes it recorded, and the invariants every run must keep.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import type { SupervisorStatus } from '../../src/shared/status.js';
import type { Transition } from '../../src/shared/transition.js';
import { start, type Ended, type Started } from '../helpers/agent.js';
import { freePort } from '../helpers/ports.js';
import { recordedProcesses } from '../supervisor/harness.js';
import { SeenProcesses } from '../helpers/seen-processes.js';
import { getJson } from '../helpers/http-get.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'bin/lifeguard.js');
export const FIXTURE_APP = join(ROOT, 'test/fixtures/app.mjs');

/**
 * An app of the fixture, as a config file names it: quick to start and to check (a TCP check every 200ms), marked
 * by its env so that a test can find its processes; `fields` adds or replaces any field.
 */
export function fixtureApp(name: string, env: Record<string, string>, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    command: [process.execPath, FIXTURE_APP],
    env,
    instances: 2,
    checks: [{ tcp_check: { port: 8080 } }],
    startupInterval: '100ms',
    livenessInterval: '200ms',
    probe: 'native',
    gracePeriod: '2s',
    ...fields,
  };
}

export interface CliRun extends Started {
  /** Transitions so far, parsed; a line that does not parse fails the run at once. */
  readonly transitions: Transition[];
  /** Every app and agent pid its state directory ever recorded while we watched. */
  readonly pids: SeenProcesses;
  /** The HTTP endpoint's loopback port. */
  readonly port: number;
  /** Resolves once `predicate` holds for the transitions so far; rejects after `ms`. */
  until(predicate: (transitions: readonly Transition[]) => boolean, ms?: number): Promise<void>;
  status(): Promise<SupervisorStatus>;
  /** SIGTERM, then the result; the CLI must end on its own within its apps' grace periods. */
  stop(): Promise<Ended>;
}

export interface CliOptions {
  /** `ulimit -n` for the supervisor (applied by a fixed `sh -c` wrapper, no user input in it). */
  readonly maxFds?: number;
  readonly killAfterMs?: number;
  /** http.token; status() then cannot read the endpoint. */
  readonly token?: string;
}

/**
 * Starts `lifeguard run` on `apps` with a state directory and an HTTP endpoint in `dir`. Several runs may share
 * `dir` one after the other: that is how a supervisor's successor finds what it left.
 */
export async function runCli(t: Test, dir: string, apps: readonly unknown[], options: CliOptions = {}): Promise<CliRun> {
  const port = await freePort();
  const config = join(dir, 'config.json');
  const http = { listen: `127.0.0.1:${port}`, ...(options.token === undefined ? {} : { token: options.token }) };
  writeFileSync(config, JSON.stringify({ apps, http, stateDir: join(dir, 'state') }));
  const args = ['run', config];
  const started =
    options.maxFds === undefined
      ? start(process.execPath, [CLI, ...args], { killAfterMs: options.killAfterMs ?? 60_000 })
      : start('sh', ['-c', `ulimit -n ${Math.trunc(options.maxFds)}; exec "$0" "$@"`, process.execPath, CLI, ...args], {
          killAfterMs: options.killAfterMs ?? 60_000,
        });
  const transitions: Transition[] = [];
  const pids = new SeenProcesses();
  const waiters = new Set<() => void>();
  let partial = '';
  started.child.stdout!.on('data', (chunk: Buffer | string) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) transitions.push(JSON.parse(line) as Transition);
    for (const { pid, startTime } of recordedProcesses(join(dir, 'state'))) pids.add(pid, startTime);
    for (const waiter of waiters) waiter();
  });
  t.teardown(async () => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
    await started.ended;
  });
  const until = (predicate: (all: readonly Transition[]) => boolean, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (predicate(transitions)) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`condition not met within ${ms}ms after ${transitions.length} transitions`));
      }, ms);
      const check = () => {
        if (!predicate(transitions)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  // The endpoint comes up a moment after the process; until then (bounded), ask again.
  const status = async (): Promise<SupervisorStatus> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await getJson<SupervisorStatus>(port, '/status');
      } catch (error) {
        // Refused: not listening yet. Reset: a supervisor out of descriptors may drop a connection it accepted.
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (!['ECONNREFUSED', 'ECONNRESET'].includes(code) || attempt === 50) throw error;
        await sleep(100);
      }
    }
  };
  const stop = async () => {
    started.child.kill('SIGTERM');
    return started.ended;
  };
  return { ...started, port, transitions, pids, until, status, stop };
}

/** The one line `lifeguard run` writes on stderr when it stops cleanly, timed in UTC; `cause` is a signal's name, `--duration` or `log reader gone`. */
export function stoppedLine(cause: string): RegExp {
  return new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z lifeguard: stopped \\(${cause}\\): every instance is gone\\n$`);
}

/** The line a successor writes on stderr when it killed what a SIGKILLed predecessor on its state directory left. */
const REAPED_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z lifeguard: reaped [1-9]\d* process(es)? a previous lifeguard on \/\S+ left running$/;

/**
 * SIGTERM, then what every run must end with: exit 0, on stderr only the line saying so (no stack trace, no crash), no app process
 * (found by its `marker=value` environment) and no process the state directory recorded still running. A
 * successor's stderr starts with the reaped line: `reaped` says whether it must (true), may ('maybe') or must not.
 */
export async function stopCleanly(t: Test, cli: CliRun, marker: string, run: string, reaped: boolean | 'maybe' = false): Promise<Ended> {
  const ended = await cli.stop();
  t.equal(ended.code, 0, 'the supervisor exits 0 on SIGTERM');
  const said = ended.stderr.split('\n');
  const reapedSaid = said.length > 2 && REAPED_LINE.test(said[0]!);
  if (reaped !== 'maybe') t.equal(reapedSaid, reaped, reaped ? "it says it reaped its predecessor's processes" : 'it reaped nothing');
  t.match(reapedSaid ? said.slice(1).join('\n') : ended.stderr, stoppedLine('SIGTERM'), 'and says that it stopped, nothing else');
  t.same(markedProcesses(marker, run), [], 'no app process left');
  t.same(cli.pids.running(), [], 'no recorded app or agent left');
  return ended;
}

/** Pids of live processes whose environment holds `marker=value` (every app process of a run carries one). */
export function markedProcesses(marker: string, value: string): number[] {
  const needle = `${marker}=${value}\0`;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/environ`, 'latin1').includes(needle) && isRunning(Number(name));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Members and prewarm instances of every app, flattened. */
export function allInstances(status: SupervisorStatus): SupervisorStatus['apps'][number]['instances'] {
  return status.apps.flatMap((app) => [...app.instances, ...app.prewarm]);
}
