/**
 * What can be known to fail before anything starts, the one check `lifeguard validate`, `apply` and `run` share:
 * a state directory that cannot be used, a command that is not there or cannot be run, limits this host cannot
 * enforce, a driver that needs root, an engine that does not answer or an image it does not have. A config can
 * be valid and still point at nothing; these are the permanent failures a run would only find by giving up its
 * instances.
 */
import { LifeguardFailure, usageError } from '../checks/errors.js';
import type { Containment } from './host/containment.js';
import { checkEngine } from './drivers/docker.js';
import { locateAppProgram } from './drivers/program.js';
import type { SupervisorOptions } from './config/options.js';
import { StateLock } from './host/state-lock.js';

/**
 * One line per problem, each naming its field; empty when everything is in place. `containment` is what the
 * process and netns drivers would use (limits are checked against it); undefined for an embedder's own driver.
 */
export async function preflight(options: SupervisorOptions, containment: Containment | undefined): Promise<string[]> {
  const problems: string[] = [];
  const stateDir = StateLock.problem(options.stateDir);
  if (stateDir !== undefined) problems.push(stateDir);
  const images = new Map<string, string>();
  options.apps.forEach((app, i) => {
    if (app.driver === 'docker') {
      if (app.image !== undefined && !images.has(app.image)) images.set(app.image, `apps[${i}].image`);
      const sidecar = options.docker?.sidecarImage;
      if (app.probe === 'sidecar' && sidecar !== undefined && !images.has(sidecar)) images.set(sidecar, 'docker.sidecarImage');
      return;
    }
    const program = app.command?.[0];
    if (program !== undefined && 'problem' in locateAppProgram(program, app)) {
      const where = program.includes('/') ? `is not an executable file (from ${app.cwd ?? process.cwd()})` : 'is not found in PATH';
      problems.push(`apps[${i}].command: '${program}' ${where}`);
    }
  });
  if (containment !== undefined) problems.push(...driverProblems(options, containment));
  if (images.size > 0) problems.push(...(await checkEngine(options.docker?.socketPath, images)));
  return problems;
}

/** What keeps the built-in drivers from running `options.apps` on this host: limits it cannot enforce, netns without root. */
export function driverProblems(options: SupervisorOptions, containment: Containment): string[] {
  const problems: string[] = [];
  options.apps.forEach((app, i) => {
    const unlimitable = app.limits === undefined || app.driver === 'docker' ? undefined : containment.cannotLimit(app.limits);
    if (unlimitable !== undefined) problems.push(`apps[${i}].limits: ${unlimitable}`);
    if (app.driver === 'netns' && process.getuid?.() !== 0) problems.push(`apps[${i}].driver: 'netns' needs root (it creates network namespaces and veth pairs); run as root or use 'process'`);
  });
  return problems;
}

/** Problems as one usage error: the first, and how many more; `where` (the config file) leads the line. */
export function refuseProblems(problems: readonly string[], where?: string): void {
  if (problems.length === 0) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new LifeguardFailure(usageError(`${where === undefined ? '' : `${where}: `}${problems[0]}${more}`));
}
