/**
 * The supervisor's entry point (bin/lifeguard.js): parse, validate the config, run until SIGTERM/SIGINT (or
 * --duration), stop every instance, exit 0; or watch an engine's containers (`lifeguard watch`) until then. stdout carries the transition log and nothing else; whatever goes
 * wrong ends as one line on stderr and a documented exit code, never a stack trace.
 */
import './early-signals.js';
import { resolve } from 'node:path';
import { formatDuration } from '../checks/duration.js';
import { asLifeguardError, lifeguardError, LifeguardFailure, usageError } from '../checks/errors.js';
import { awaitAnswer, postRequest } from './apply-mailbox.js';
import type { HttpServerSource } from '../supervisor/serve/http-server.js';
import { StateLock } from '../supervisor/host/state-lock.js';
import { Containment } from '../supervisor/host/containment.js';
import { preflight, refuseProblems } from '../supervisor/preflight.js';
import { fetchStatus, renderStatus, selectApps, statusProblems, summarize } from './status-report.js';

/** `lifeguard status` as a check: some app has fewer healthy instances than desired, or a halted roll. */
const STATUS_PROBLEM_EXIT = 1;
const STATUS_TIMEOUT_MS = 5000;
import { loadConfig, type LifeguardConfig } from '../supervisor/config/config.js';
import { SupervisorMetrics } from '../supervisor/serve/metrics.js';
import { StatusPage } from '../supervisor/serve/status-page.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { MAX_UNREAD_BYTES, TransitionLog, type LogFormat } from '../supervisor/serve/transition-log.js';
import { createWatcher } from '../watch/create-watcher.js';
import { EngineLog } from '../watch/engine-log.js';
import { servedStatus } from '../watch/served-status.js';
import { WatchMetrics } from '../watch/metrics.js';
import { parseWatchSettings, readWatchFile, type WatchSettings } from '../watch/settings.js';
import type { Told } from './invocation.js';
import { writeWithin } from './last-words.js';
import { parseLifeguardArgs, type LifeguardInvocation } from './lifeguard.js';
import { describeChanges, Reloader } from './reload.js';
import { runUntilStopped, type StopCause } from './long-running.js';

async function main(argv: readonly string[]): Promise<void> {
  const invocation = parseLifeguardArgs(argv, process.env);
  if (invocation.kind === 'print') return finish(invocation.told, 0);
  if (invocation.kind === 'status') {
    const status = await fetchStatus({ endpoint: invocation.endpoint, ...(invocation.token === undefined ? {} : { token: invocation.token }), timeoutMs: STATUS_TIMEOUT_MS });
    const apps = selectApps(status, invocation.app);
    const problems = statusProblems(apps);
    const text = invocation.json
      ? `${JSON.stringify({ ok: problems.length === 0, apps: apps.map((app) => ({ ...summarize(app), instances: app.instances, prewarm: app.prewarm, ...(app.rollout === undefined ? {} : { rollout: app.rollout }) })), ...(status.containment === undefined ? {} : { containment: status.containment }), ...(status.config === undefined ? {} : { config: status.config }) })}\n`
      : renderStatus(apps, status);
    return finish({ stdout: text }, problems.length === 0 ? 0 : STATUS_PROBLEM_EXIT);
  }
  if (invocation.kind === 'watch') {
    const section = invocation.configPath === undefined ? undefined : await readWatchFile(invocation.configPath);
    await watch(parseWatchSettings(section, invocation.flags), invocation.logFormat, invocation.durationMs);
    return finish({}, 0);
  }
  // apply's fromEnv values are the supervisor's to read: the operator's shell need not hold the secrets.
  const secrets = invocation.kind === 'apply' ? { env: 'deferred' as const } : {};
  const config = await loadConfig(invocation.configPath, { ...secrets, ...(invocation.stateDir === undefined ? {} : { stateDir: invocation.stateDir }) });
  if (invocation.kind === 'validate') {
    await checkConfig(invocation.configPath, config);
    const names = config.supervisor.apps.map((app) => app.name).join(', ');
    const count = config.supervisor.apps.length;
    return finish({ stdout: `${invocation.configPath}: valid (${count} app${count === 1 ? '' : 's'}: ${names})\n` }, 0);
  }
  if (invocation.kind === 'apply') return finish(await apply(invocation.configPath, config, invocation.timeoutMs), 0);
  const cause = await run(invocation, config);
  finish({ stderr: timed(`lifeguard: stopped (${cause}): every instance is gone`) }, 0);
}

/**
 * A line for stderr beside the transition log (stdout, which log audits read, keeps one line per transition): reloads,
 * applies, a predecessor's processes reaped, the stop. Timed as the log's lines are, in UTC, for reading side by side.
 */
function timed(line: string): string {
  return `${new Date().toISOString()} ${line}\n`;
}

function logDropped(lines: number): void {
  process.stderr.write(timed(`lifeguard: ${lines} transition line${lines === 1 ? '' : 's'} dropped: stdout was not read while ${MAX_UNREAD_BYTES / 1024 / 1024} MiB of the log waited`));
}

async function run(invocation: Extract<LifeguardInvocation, { kind: 'run' }>, config: LifeguardConfig): Promise<StopCause> {
  const supervisor = new Supervisor(config.supervisor);
  supervisor.on('transition', new TransitionLog(process.stdout, invocation.logFormat, logDropped).write);
  supervisor.on('reaped', (pids) => process.stderr.write(timed(`lifeguard: reaped ${pids.length} process${pids.length === 1 ? '' : 'es'} a previous lifeguard on ${config.supervisor.stateDir} left running`)));
  const page = config.http === undefined ? undefined : new StatusPage(supervisor);
  const context = invocation.stateDir === undefined ? {} : { stateDir: invocation.stateDir };
  const reloader = new Reloader(supervisor, { configPath: invocation.configPath, config, context }, (line) => process.stderr.write(timed(line)));
  // /status names the file a SIGHUP reloads, which an apply changes: the supervisor itself knows no file.
  const source: HttpServerSource = {
    status: () => ({ ...supervisor.status(), config: reloader.currentFile }),
    claim: (app) => supervisor.claim(app),
    release: (app, id) => supervisor.release(app, id),
    endpoints: (app) => supervisor.endpoints(app),
    on: supervisor.on.bind(supervisor),
    off: supervisor.off.bind(supervisor),
  };
  const served = { source, metrics: new SupervisorMetrics(supervisor), http: config.http, ...(page === undefined ? {} : { page }) };
  const service = {
    // The lock first: a second supervisor on this directory is told so, not that the port is taken.
    prepare: async () => {
      supervisor.takeStateDir();
      refuseProblems(await supervisor.preflight(), invocation.configPath);
    },
    start: () => supervisor.start(),
    stop: () => supervisor.stop(),
  };
  return runUntilStopped(service, served, invocation.durationMs, () => reloader.reload());
}

/**
 * `lifeguard apply`: the config is checked here first (an invalid one is never sent), then handed to the supervisor
 * that holds its state directory, which checks it again against what runs and answers.
 */
async function apply(configPath: string, config: LifeguardConfig, timeoutMs: number): Promise<Told> {
  await checkConfig(configPath, config);
  const { stateDir } = config.supervisor;
  const pid = StateLock.owner(stateDir);
  if (pid === undefined) throw new LifeguardFailure(lifeguardError('not-running', { detail: `no lifeguard is running on state directory '${stateDir}' (start one with: lifeguard run ${configPath})` }));
  let id: string;
  try {
    id = postRequest(stateDir, resolve(configPath));
  } catch (error) {
    throw new LifeguardFailure(usageError(`cannot leave a request in '${stateDir}': ${(error as NodeJS.ErrnoException).code ?? String(error)} (run apply as the user lifeguard runs as)`));
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch (error) {
    throw new LifeguardFailure(lifeguardError('not-running', { detail: `cannot signal the lifeguard on '${stateDir}' (pid ${pid}): ${(error as NodeJS.ErrnoException).code ?? String(error)}` }));
  }
  const given = await awaitAnswer(stateDir, id, timeoutMs);
  if (given === undefined) throw new LifeguardFailure(lifeguardError('not-running', { detail: `the lifeguard on '${stateDir}' (pid ${pid}) did not answer within ${formatDuration(timeoutMs)}` }));
  if (!given.ok) throw new LifeguardFailure(usageError(given.error));
  return { stdout: `${configPath}: applied: ${describeChanges(given.changes)}\n` };
}

/** The preflight `run` does, for a config no supervisor runs yet: its problems as one usage error. */
async function checkConfig(configPath: string, config: LifeguardConfig): Promise<void> {
  // Judged on the cgroup subtree a run on this state directory uses, which is left as it is: removing it when empty
  // would pull it from under a `run` starting beside this `validate`, or from under the running supervisor an `apply`
  // speaks to (its next instance then fails on a directory gone). A run's own stop removes it.
  refuseProblems(await preflight(config.supervisor, new Containment(config.supervisor.stateDir)), configPath);
}

/** `lifeguard watch`: the containers are left as they are when it stops. */
async function watch(settings: WatchSettings, logFormat: LogFormat, durationMs: number | undefined): Promise<void> {
  const watcher = createWatcher(settings);
  watcher.on('transition', new TransitionLog(process.stdout, logFormat, logDropped).write);
  // stdout is the transition log's; the engine going away and coming back is said on stderr, timed as the log is.
  watcher.on('engine', new EngineLog(process.stderr).write);
  const source = { status: () => servedStatus(watcher.status()) };
  await runUntilStopped(watcher, { source, metrics: new WatchMetrics(watcher), http: settings.http }, durationMs);
}

/**
 * How long the transition log's last lines (and any last words) may take to drain at exit: a log reader that stopped
 * reading must not keep a stopped supervisor, or watch, alive for ever.
 */
const FLUSH_DEADLINE_MS = 2000;

/** Writes what there is to say, then exits once it is flushed or its deadline has passed, whatever sockets or timers are left. */
function finish(told: Told, exitCode: number): void {
  void writeWithin(told, FLUSH_DEADLINE_MS).then(() => process.exit(exitCode));
}

main(process.argv.slice(2)).catch((thrown: unknown) => {
  const error = asLifeguardError(thrown);
  finish({ stderr: `${error.message}\n` }, error.exitCode);
});
