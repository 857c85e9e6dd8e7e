// `npm run build` starts from a dist/ without the previous build's modules, so that one deleted from src/ is neither
// packed nor imported; the single executable and cf-assets/ that `npm run build:binary` wrote stay. The clean step
// runs for real, on a scratch dist/ laid out as the two builds leave it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('the build cleans dist/ before tsc and the bundle write it', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  t.match(pkg.scripts.build, /^node scripts\/clean-dist\.mjs && tsc /);
});

t.test("a module deleted from src/ is gone from dist/; build:binary's outputs stay", async (t) => {
  const dist = join(t.testdir(), 'dist');
  const stale = ['index.js', 'index.d.ts', 'index.js.map', 'healthcheck.cjs', 'supervisor/removed-module.js', 'supervisor/removed-module.d.ts', 'supervisor/removed-module.js.map', 'old-dir/only.js'];
  const binary = ['healthcheck', 'healthcheck.sea-config.json', 'healthcheck.sea-prep.blob', 'cf-assets/healthcheck/healthcheck', 'cf-assets/healthcheck/libc.so.6', 'cf-assets/healthcheck/chunk.js'];
  for (const file of [...stale, ...binary]) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    writeFileSync(join(dist, file), 'built\n');
  }
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/clean-dist.mjs'), dist], { timeout: 30_000 });
  t.same(stale.filter((file) => existsSync(join(dist, file))), [], "the previous build's modules are gone");
  t.notOk(existsSync(join(dist, 'supervisor')) || existsSync(join(dist, 'old-dir')), 'and their directories');
  t.same(binary.filter((file) => !existsSync(join(dist, file))), [], 'the executable, its intermediates and cf-assets/ are kept');
});

t.test('a dist/ that does not exist yet is no error', async (t) => {
  const dist = join(t.testdir(), 'dist');
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/clean-dist.mjs'), dist], { timeout: 30_000 });
  t.notOk(existsSync(dist));
});
