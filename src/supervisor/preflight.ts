/**
 * What can be known to fail before anything starts (`lifeguard validate`): a command that is not there or cannot
 * be run, an engine that does not answer, an image it does not have. A config can be valid and still point at
 * nothing; these are the permanent failures a run would only find by giving up its instances.
 */
import { checkEngine } from './drivers/docker.js';
import { locateAppProgram } from './drivers/program.js';
import type { SupervisorOptions } from './options.js';

/** One line per problem, each naming its field; empty when everything is in place. */
export async function preflight(options: SupervisorOptions): Promise<string[]> {
  const problems: string[] = [];
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
  if (images.size > 0) problems.push(...(await checkEngine(options.docker?.socketPath, images)));
  return problems;
}
