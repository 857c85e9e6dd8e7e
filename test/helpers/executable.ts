// The single executable dist/healthcheck, for the tests that run it as users get it. If it is missing or older
// than the bundle built from the same sources, it is built first (scripts/build-binary.mjs), so that `npm test`
// always runs what `npm run build:binary` ships.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/healthcheck.cjs');
export const EXECUTABLE = join(ROOT, 'dist/healthcheck');
export const CF_ASSETS = join(ROOT, 'dist/cf-assets/healthcheck');

/** Builds dist/healthcheck (and dist/cf-assets/healthcheck/) unless they are current; throws what failed. */
export function ensureExecutable(): string {
  if (!existsSync(BUNDLE)) {
    const bundled = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: ROOT, encoding: 'utf8' });
    if (bundled.status !== 0) throw new Error(`scripts/bundle.mjs failed: ${bundled.stderr}`);
  }
  const current = (file: string): boolean => existsSync(file) && statSync(file).mtimeMs >= statSync(BUNDLE).mtimeMs;
  if (current(EXECUTABLE) && current(join(CF_ASSETS, 'healthcheck'))) return EXECUTABLE;
  const built = spawnSync(process.execPath, ['scripts/build-binary.mjs', '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  if (built.status !== 0) throw new Error(`scripts/build-binary.mjs failed (${built.status}): ${built.stderr}`);
  return EXECUTABLE;
}
