/**
 * `lifeguard watch`'s GET /status, in the supervisor's documented shape, so that one reader serves both: each
 * app (compose service, or container name) lists its watched containers as instances, `desired` being how many
 * are watched; there is no prewarm pool and no pid (the engine holds the process).
 */
import type { SupervisorStatus } from '../shared/status.js';
import type { WatchState } from '../shared/transition.js';
import type { WatchedStatus } from './watcher.js';

export function servedStatus(watched: readonly WatchedStatus[]): SupervisorStatus<WatchState> {
  const apps = new Map<string, WatchedStatus[]>();
  for (const container of watched) apps.set(container.app, [...(apps.get(container.app) ?? []), container]);
  return {
    apps: [...apps.entries()].map(([name, containers]) => ({
      name,
      desired: containers.length,
      prewarmDesired: 0,
      instances: containers.map((c) => ({
        id: c.name,
        state: c.state ?? 'starting',
        address: c.address,
        pid: null,
        restarts: c.restarts,
        since: new Date(c.sinceMs).toISOString(),
      })),
      prewarm: [],
    })),
  };
}
