// Builds dist/healthcheck and dist/cf-assets/healthcheck/ (scripts/build-binary.mjs) unless both are at least as new
// as the bundle built from the same sources, bundling first if there is none. Run by test/helpers/executable.ts under
// flock(1): test files run side by side (.taprc: jobs 2), each finds the build stale after `npm test` bundles anew,
// and a second build would replace dist/cf-assets/healthcheck/ under a test that has it bind-mounted (CI rehearsal
// 49: its chroot found no healthcheck). Under the lock, whoever waited finds the build current.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const BUNDLE = 'dist/healthcheck.cjs';
const run = (script, ...args) => {
  const ran = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 240_000 });
  if (ran.status !== 0) {
    process.stderr.write(`${script} failed (${ran.error?.message ?? ran.status}): ${ran.stderr}`);
    process.exit(1);
  }
};
if (!existsSync(BUNDLE)) run('scripts/bundle.mjs');
const current = (file) => existsSync(file) && statSync(file).mtimeMs >= statSync(BUNDLE).mtimeMs;
if (!current('dist/healthcheck') || !current('dist/cf-assets/healthcheck/healthcheck')) run('scripts/build-binary.mjs', '--quiet');
