/** How the Docker engine's errors read in lifeguard's lines, for the docker driver, its sidecars and `lifeguard watch`. */

/** The engine's own complaint (`No such image: x`), without dockerode's `(HTTP code 404) …` wrapping. */
export function engineMessage(error: unknown): string {
  const { message, json } = error as { message?: string; json?: { message?: string } | null };
  return json?.message ?? (message ?? String(error)).replace(/^\(HTTP code \d+\) /, '').split('\n')[0] ?? '';
}

/** The one line for an engine that does not answer, and where its socket is set (`setting`, or DOCKER_HOST). */
export function engineUnreachable(socket: string, error: unknown, setting: string): string {
  return `cannot reach the Docker engine at ${socket}: ${engineMessage(error)} (set ${setting}, or DOCKER_HOST)`;
}
