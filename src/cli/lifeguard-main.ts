/**
 * The supervisor's entry point (bin/lifeguard.js): parse, validate the config, run until SIGTERM/SIGINT (or
 * --duration), stop every instance, exit 0. stdout carries the transition log and nothing else; whatever goes
 * wrong ends as one line on stderr and a documented exit code, never a stack trace.
 */
import { asLifeguardError } from '../checks/errors.js';
import { loadConfig, type LifeguardConfig } from '../supervisor/config.js';
import { startHttpEndpoint, type HttpEndpoint } from '../supervisor/http-server.js';
import { SupervisorMetrics } from '../supervisor/metrics.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { TransitionLog, type LogFormat } from '../supervisor/transition-log.js';
import { runWatch } from '../watch/run-watch.js';
import { parseWatchSettings, readWatchFile } from '../watch/settings.js';
import type { Told } from './invocation.js';
import { parseLifeguardArgs } from './lifeguard.js';
import { untilStopAsked } from './stop-asked.js';

async function main(argv: readonly string[]): Promise<void> {
  const invocation = parseLifeguardArgs(argv);
  if (invocation.kind === 'print') return finish(invocation.told, 0);
  if (invocation.kind === 'watch') {
    const section = invocation.configPath === undefined ? undefined : await readWatchFile(invocation.configPath);
    const settings = parseWatchSettings(section, invocation.flags);
    await runWatch(settings, new TransitionLog(process.stdout, invocation.logFormat), untilStopAsked(invocation.durationMs));
    return finish({}, 0);
  }
  const config = await loadConfig(invocation.configPath);
  if (invocation.kind === 'validate') {
    const names = config.supervisor.apps.map((app) => app.name).join(', ');
    return finish({ stdout: `${invocation.configPath}: valid (${config.supervisor.apps.length} apps: ${names})\n` }, 0);
  }
  await run(config, invocation.logFormat, invocation.durationMs);
  finish({}, 0);
}

async function run(config: LifeguardConfig, logFormat: LogFormat, durationMs: number | undefined): Promise<void> {
  const stop = untilStopAsked(durationMs);
  // Run until told to stop even when nothing else is pending (every instance given up, nothing to wait on).
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const supervisor = new Supervisor(config.supervisor);
  supervisor.on('transition', new TransitionLog(process.stdout, logFormat).write);
  const metrics = new SupervisorMetrics(supervisor);
  // The endpoint binds first: a port in use should stop us before any instance exists.
  let endpoint: HttpEndpoint | undefined;
  try {
    if (config.http !== undefined) endpoint = await startHttpEndpoint(supervisor, metrics, config.http);
    await supervisor.start();
    await stop.asked;
  } finally {
    clearInterval(keepAlive);
    await supervisor.stop();
    await endpoint?.close();
    metrics.close();
  }
  stop.rethrow();
}

/** Writes what there is to say, then exits once it is flushed, whatever sockets or timers are left. */
function finish(told: Told, exitCode: number): void {
  if (told.stdout) process.stdout.write(told.stdout);
  if (told.stderr) process.stderr.write(told.stderr);
  process.stdout.write('', () => process.stderr.write('', () => process.exit(exitCode)));
}

main(process.argv.slice(2)).catch((thrown: unknown) => {
  const error = asLifeguardError(thrown);
  finish({ stderr: `${error.message}\n` }, error.exitCode);
});
