/**
 * The life of a long-running command (`lifeguard run`, `lifeguard watch`): bind the HTTP server if asked for
 * (a port in use stops us before anything starts), start, run until asked to stop, then stop in order.
 *
 * Stop is asked by SIGTERM, SIGINT or any other signal whose default would kill us without cleanup (SIGQUIT,
 * SIGUSR1, and SIGHUP unless the service reloads on it, as `lifeguard run` does: see ./signals.ts), the end of
 * --duration, the log's reader gone, or a bug anywhere (so that
 * what was started is still stopped in order; the bug is then thrown, exit 127). Listened for before anything
 * starts, so that a signal during start-up still stops what was started.
 */
import { startHttpServer, type HttpServerSource, type HttpServer, type MetricsExposition } from '../supervisor/serve/http-server.js';
import type { HttpServerConfig } from '../shared/http-config.js';
import type { PageRoutes } from '../supervisor/serve/status-page.js';
import { takeSignal, TERMINATING_SIGNALS } from './signals.js';

export interface LongRunning {
  /** What must hold before the server is bound or anything starts (the state directory's lock); throws if it does not. */
  prepare?(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Served {
  readonly source: HttpServerSource;
  readonly metrics: MetricsExposition & { close(): void };
  /** Absent: no server. */
  readonly http: HttpServerConfig | undefined;
  /** The status page served at `/`; absent: none. */
  readonly page?: PageRoutes;
}

/**
 * `reload`: what SIGHUP does instead of stopping, as a daemon's operators expect; it runs once the service has
 * started, one reload at a time (a closed terminal's SIGHUP is then a harmless reload, and the log's reader gone
 * stops us as below).
 */
/** Why a long-running command stopped, for its last line: the signal's name, `--duration`, or `log reader gone`. */
export type StopCause = string;

export async function runUntilStopped(service: LongRunning, served: Served, durationMs: number | undefined, reload?: () => Promise<void>): Promise<StopCause> {
  let crash: unknown;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let reloads = running;
  let cause: StopCause | undefined;
  const asked = new Promise<void>((resolveAsked) => {
    const resolve = (why: StopCause) => {
      cause ??= why;
      resolveAsked();
    };
    // A second signal changes nothing: the stop under way is already bounded, and leaving before it ends
    // would orphan what was started.
    for (const signal of TERMINATING_SIGNALS) {
      if (signal === 'SIGHUP' && reload !== undefined) takeSignal(signal, () => void (reloads = reloads.then(reload)));
      else takeSignal(signal, () => resolve(signal));
    }
    // The log is the account of what is done; with its reader gone (EPIPE, or EIO from a closed terminal), stop
    // rather than run blind. stderr, where reloads report, is the same terminal more often than not.
    process.stdout.on('error', () => resolve('log reader gone'));
    process.stderr.on('error', () => resolve('log reader gone'));
    const crashed = (thrown: unknown) => {
      crash ??= thrown;
      resolve('crashed');
    };
    process.on('uncaughtException', crashed);
    process.on('unhandledRejection', crashed);
    if (durationMs !== undefined) setTimeout(() => resolve('--duration'), durationMs);
  });
  // Run until told to stop even when nothing else is pending (every instance given up, nothing watched yet).
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let server: HttpServer | undefined;
  try {
    await service.prepare?.();
    if (served.http !== undefined) server = await startHttpServer(served.source, served.metrics, served.http, served.page);
    await service.start();
    started();
    await asked;
  } finally {
    clearInterval(keepAlive);
    await service.stop();
    served.page?.close();
    await server?.close();
    served.metrics.close();
  }
  if (crash !== undefined) throw crash;
  return cause ?? 'asked';
}
