/**
 * Where the Docker Engine API is, read as Docker's own CLI reads it: a setting (`docker.socketPath`, `lifeguard
 * watch --socket`) is a socket path or Docker's `unix:///path`; DOCKER_HOST is a URL (`unix:///path`; a bare path
 * is refused, as Docker's CLI refuses it); neither: /var/run/docker.sock. lifeguard speaks to the engine over its
 * unix socket only: `tcp://`, `ssh://` and the like are refused in one line, naming where the value came from.
 * A path longer than a sockaddr_un holds is refused too: Node's connect cuts it short without a word, and the cut path
 * names another file (a directory answers ECONNREFUSED), so the error would name a path that was never tried.
 */
import { LifeguardFailure, usageError } from '../checks/errors.js';

const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock';
const UNIX_URL = /^unix:\/\/(.+)$/;
const ANY_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
// sun_path is 108 bytes on Linux, its last the terminating NUL.
const MAX_SOCKET_PATH_BYTES = 107;
const ONLY_UNIX = 'lifeguard reaches the engine over its unix socket only: a path such as /var/run/docker.sock, or unix:///var/run/docker.sock';

/** A socket setting as the path it names, or why it names none. */
export function socketSetting(value: string): { readonly path: string } | { readonly problem: string } {
  const unix = UNIX_URL.exec(value);
  if (ANY_URL.test(value) && unix === null || value === 'unix://') return { problem: `${ONLY_UNIX}, not '${value}'` };
  const path = unix === null ? value : unix[1] as string;
  const problem = pathTooLong(path);
  return problem === undefined ? { path } : { problem };
}

function pathTooLong(path: string): string | undefined {
  const bytes = Buffer.byteLength(path);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return undefined;
  return `'${path}' is ${bytes} bytes long: a unix socket path holds at most ${MAX_SOCKET_PATH_BYTES}: use a shorter path, such as a symlink to it`;
}

/** The socket to use: the setting's (already a path), else DOCKER_HOST's, else the default. Throws a usage error for a DOCKER_HOST that names none. */
export function engineSocket(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (setting !== undefined) return setting;
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return DEFAULT_ENGINE_SOCKET;
  const unix = UNIX_URL.exec(host);
  if (unix !== null) {
    const problem = pathTooLong(unix[1] as string);
    if (problem !== undefined) throw new LifeguardFailure(usageError(`DOCKER_HOST: ${problem}`));
    return unix[1] as string;
  }
  if (ANY_URL.test(host)) throw new LifeguardFailure(usageError(`DOCKER_HOST '${host}': ${ONLY_UNIX}`));
  throw new LifeguardFailure(usageError(`DOCKER_HOST '${host}': expected a URL, as Docker's CLI reads it: unix://${host}`));
}
