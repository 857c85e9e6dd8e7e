/**
 * The lifecycle agent's ready file (`--ready-file`), and its check (`--mode=is-ready`), which a shell-less,
 * read-only image can run as an exec probe: the agent is its own `test -e`.
 *
 * The file holds the pid of the agent that wrote it, so that a file left behind by an agent that died without
 * removing it (SIGKILL, an OOM kill) is not taken for readiness. In a container the agent is pid 1 at every
 * restart, so a pid alone cannot tell two runs apart: an agent starting also removes the file its predecessor
 * may have left in a volume that outlives it (a Kubernetes emptyDir does). Loaded only by agents that use a
 * ready file: node:fs costs start-up time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lifeguardError, type LifeguardError } from '../checks/errors.js';
import { invalidValue } from '../checks/parse.js';
import { pidHeld } from '../shared/signal.js';

/** At start: the directory must be writable (else a usage error now, not a failure at readiness); a stale file goes. */
export function claimReadyFile(file: string): void {
  try {
    fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
  } catch {
    invalidValue('--ready-file', file, 'a path in a directory the agent can write');
  }
  fs.rmSync(file, { force: true });
}

/** Readiness passed: the file exists from now to the agent's end, whichever way it ends (a signal included). */
export function markReady(file: string): void {
  // Written whole under another name, then renamed: a probe never reads a half-written pid.
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, `${process.pid}\n`);
  fs.renameSync(partial, file);
  process.once('exit', () => fs.rmSync(file, { force: true }));
}

/** `--mode=is-ready`: undefined when the file names a running agent, else why not. */
export function readyFileProblem(file: string): LifeguardError | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code;
    return notReady(file, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`);
  }
  const pid = /^[1-9][0-9]{0,9}\n$/.test(text) ? Number(text) : undefined;
  if (pid === undefined) return notReady(file, 'holds no agent pid');
  return pidHeld(pid) ? undefined : notReady(file, `names pid ${pid}, which is not running`);
}

function notReady(file: string, reason: string): LifeguardError {
  return lifeguardError('not-ready', { file, reason });
}
