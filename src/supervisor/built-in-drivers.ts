/**
 * The built-in drivers an app may name (process, netns, docker), made once per supervisor and only for the names
 * its apps use, so that a config without docker apps never needs an engine and one without netns apps never
 * needs root. A driver that cannot work here is refused up front, naming the app's field.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Containment } from './host/containment.js';
import type { SupervisorOptions } from './config/options.js';
import { driverProblems, refuseProblems } from './preflight.js';
import type { DriverName } from './spec/types.js';
import { DockerDriver } from './drivers/docker.js';
import type { Driver } from './drivers/driver.js';
import { NetnsDriver } from './drivers/netns.js';
import { ProcessDriver } from './drivers/process.js';

const DEFAULT_AGENT_BINARY = fileURLToPath(new URL('../../dist/healthcheck', import.meta.url));

/**
 * Adds to `drivers` the built-in ones that `options.apps` name and it lacks, and returns those it added (a config
 * applied to a running supervisor may name one its first config did not). Throws, having added none, when an
 * app cannot run here.
 */
export function addBuiltInDrivers(drivers: Map<DriverName, Driver>, options: SupervisorOptions, agentPath: string, containment: Containment): Driver[] {
  refuseProblems(driverProblems(options, containment));
  const added = new Map<DriverName, Driver>();
  for (const app of options.apps) {
    if (!drivers.has(app.driver) && !added.has(app.driver)) added.set(app.driver, create(app.driver, options, agentPath, containment));
  }
  for (const [name, driver] of added) drivers.set(name, driver);
  return [...added.values()];
}

function create(name: DriverName, options: SupervisorOptions, agentPath: string, containment: Containment): Driver {
  switch (name) {
    case 'process':
      return new ProcessDriver({ containment, outputDir: outputDir(options) });
    case 'netns':
      return new NetnsDriver({ agentPath, stateDir: options.stateDir, child: { containment, outputDir: outputDir(options) } });
    case 'docker':
      return new DockerDriver({
        ...options.docker,
        agentBinary: options.docker?.agentBinary ?? DEFAULT_AGENT_BINARY,
        stateDir: options.stateDir,
      });
  }
}

/** Where `output: file` keeps each app's instance logs: the state directory's `output/<app>/`. */
function outputDir(options: SupervisorOptions): string {
  return join(options.stateDir, 'output');
}
