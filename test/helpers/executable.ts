// The single executable dist/healthcheck, for the tests that run it as users get it. If it is missing or older
// than the bundle built from the same sources, it is built first (build-executable.mjs), so that `npm test`
// always runs what `npm run build:binary` ships.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EXECUTABLE = join(ROOT, 'dist/healthcheck');
export const CF_ASSETS = join(ROOT, 'dist/cf-assets/healthcheck');

const BUILD = fileURLToPath(new URL('build-executable.mjs', import.meta.url));

/**
 * Builds dist/healthcheck (and dist/cf-assets/healthcheck/) unless they are current; throws what failed. One build
 * at a time, whichever test files ask (flock on dist/.build-executable.lock, which the kernel releases with its holder).
 */
export function ensureExecutable(): string {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const built = spawnSync('flock', [join(ROOT, 'dist/.build-executable.lock'), process.execPath, BUILD], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (built.status !== 0) throw new Error(`building the executable failed (${built.error?.message ?? built.status}): ${built.stderr}`);
  return EXECUTABLE;
}
