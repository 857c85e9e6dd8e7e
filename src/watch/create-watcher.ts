/**
 * Builds a Watcher from validated settings: the engine client, the selector, and the health source the settings
 * name (the engine's HEALTHCHECK status, native checks, or sidecar agents), so that the CLI and the tests start
 * one the same way.
 */
import { fileURLToPath } from 'node:url';
import { Limit } from '../shared/limit.js';
import { NativeProbe } from '../probes/native.js';
import { SidecarProbe } from '../probes/sidecar.js';
import { defaultAgentStartConcurrency } from '../shared/limit.js';
import { ownerTag } from '../shared/owner.js';
import { type Clock, wallClock } from '../checks/clock.js';
import { DockerEngine } from './engine.js';
import { ProbeHealth } from './probe-health.js';
import { Selector } from './selector.js';
import type { WatchSettings } from './settings.js';
import { WatchSidecars } from './sidecars.js';
import { Watcher, type ReconnectBackoff } from './watcher.js';

const DEFAULT_AGENT_BINARY = fileURLToPath(new URL('../../dist/healthcheck', import.meta.url));
/** Slack on top of interval + check timeout before a silent sidecar agent counts as lost (as `run` uses). */
const HEARTBEAT_GRACE_MS = 1000;

export interface WatcherExtras {
  readonly clock?: Clock;
  readonly reconnect?: ReconnectBackoff;
}

/** A watcher, not yet started; with sidecar health, start() first removes what a killed predecessor left. */
export function createWatcher(settings: WatchSettings, extras: WatcherExtras = {}): Watcher {
  const engine = new DockerEngine(settings.socketPath);
  const selector = new Selector(settings.selection);
  const { health } = settings;
  let probes: ProbeHealth | undefined;
  let sidecars: WatchSidecars | undefined;
  if (health.kind === 'native') {
    probes = new ProbeHealth({ probe: new NativeProbe(), plan: health.plan });
  } else if (health.kind === 'sidecar') {
    // Two watchers with the same selection on one engine would be watching the same containers anyway.
    sidecars = new WatchSidecars(engine.docker, { agentBinary: health.agentBinary ?? DEFAULT_AGENT_BINARY, ...(health.image === undefined ? {} : { image: health.image }) }, ownerTag(`${engine.where} ${selector.describe()}`));
    const runners = sidecars;
    probes = new ProbeHealth({
      // Sidecar containers booting at once, as `run` bounds its agents' starts.
      probe: new SidecarProbe({ agentPath: DEFAULT_AGENT_BINARY, heartbeatGraceMs: HEARTBEAT_GRACE_MS, startGate: new Limit(defaultAgentStartConcurrency()) }),
      plan: health.plan,
      agentFor: (facts) => runners.runnerFor(facts),
    });
  }
  return new Watcher({
    engine,
    selector,
    rules: settings.rules,
    stopTimeoutMs: settings.stopTimeoutMs,
    clock: extras.clock ?? wallClock,
    ...(probes === undefined ? {} : { probes }),
    ...(sidecars === undefined ? {} : { beforeStart: () => sidecars.cleanup() }),
    ...(extras.reconnect === undefined ? {} : { reconnect: extras.reconnect }),
  });
}
