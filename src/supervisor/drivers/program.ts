/**
 * Where execvp(3) would find an app's program, and why it would not. The process driver learns this from the
 * spawn itself (ENOENT, EACCES); the netns driver cannot, since what it spawns is `ip netns exec`, which execs the
 * program only later, in a child that then just exits non-zero. So it asks first, and a program that is not there
 * is a permanent failure under both drivers, with the same words. `lifeguard validate` asks the same question.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { AppSpec } from '../spec/types.js';

/** Why a program cannot be run, in execvp's terms: nowhere (ENOENT), or found only where it cannot run (EACCES). */
export type ProgramProblem = 'ENOENT' | 'EACCES';

export type Located = { readonly path: string } | { readonly problem: ProgramProblem };

/** An app's program as its start looks for it: from the app's cwd, in the PATH it is started with (its own env's, if given). */
export function locateAppProgram(program: string, app: Pick<AppSpec, 'cwd' | 'env'>): Located {
  return locateProgram(program, app.cwd ?? process.cwd(), app.env.PATH ?? process.env.PATH ?? '');
}

/** `program` as execvp takes it: a path (from `cwd`) as is, a bare name searched in `searchPath`. */
function locateProgram(program: string, cwd: string, searchPath: string): Located {
  if (program.includes('/')) return runnable(isAbsolute(program) ? program : resolve(cwd, program));
  let denied = false;
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const found = runnable(join(resolve(cwd, dir), program));
    if ('path' in found) return found;
    denied ||= found.problem === 'EACCES';
  }
  return { problem: denied ? 'EACCES' : 'ENOENT' };
}

/** The one line a failed start says (`command not found: foo`), whichever driver found out. */
export function programFailure(program: string, problem: ProgramProblem): string {
  return problem === 'ENOENT' ? `command not found: ${program}` : `permission denied: ${program}`;
}

function runnable(path: string): Located {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    return { problem: 'ENOENT' };
  }
  if (!isFile) return { problem: 'EACCES' };
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    return { problem: 'EACCES' };
  }
}
