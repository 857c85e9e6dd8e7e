/**
 * `lifeguard watch` from start to stop: bind the HTTP endpoint if asked for, start the watcher, log its
 * transitions, say on stderr when the engine goes away and comes back, and on the stop asked for, stop watching
 * (the containers are left as they are).
 */
import { startHttpEndpoint, type HttpEndpoint } from '../supervisor/http-server.js';
import type { TransitionLog } from '../supervisor/transition-log.js';
import type { StopAsked } from '../cli/stop-asked.js';
import { createWatcher } from './create-watcher.js';
import { endpointStatus } from './endpoint-status.js';
import { WatchMetrics } from './metrics.js';
import type { WatchSettings } from './settings.js';
import type { EngineState } from './watcher.js';

export async function runWatch(settings: WatchSettings, log: TransitionLog, stop: StopAsked): Promise<void> {
  // Run until told to stop, even while nothing is pending (no container matches yet).
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const watcher = createWatcher(settings);
  watcher.on('transition', log.write);
  let lost = false;
  watcher.on('engine', (state: EngineState) => {
    if (!state.connected) {
      lost = true;
      process.stderr.write(`lifeguard watch: lost the engine (${state.reason}); reconnecting in ${state.retryInMs}ms\n`);
    } else if (lost) {
      lost = false;
      process.stderr.write('lifeguard watch: reconnected to the engine; listing the containers again\n');
    }
  });
  const metrics = new WatchMetrics(watcher);
  let endpoint: HttpEndpoint | undefined;
  try {
    // Bound first: a port in use should stop us before anything is watched.
    if (settings.http !== undefined) endpoint = await startHttpEndpoint({ status: () => endpointStatus(watcher.status()) }, metrics, settings.http);
    await watcher.start();
    await stop.asked;
  } finally {
    clearInterval(keepAlive);
    await watcher.stop();
    await endpoint?.close();
    metrics.close();
  }
  stop.rethrow();
}
