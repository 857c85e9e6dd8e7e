// What `npm pack` ships, from this package.json's `files`: dist/'s modules and bin/, never the host-specific single
// executable (dist/healthcheck, dist/cf-assets/, and its build's intermediates) that `npm run build:binary` writes beside them. Packed with
// --dry-run in a scratch copy (placeholders for the built files), so that the worktree's own dist/ is untouched.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

t.test('npm pack ships dist/ and bin/, the license and the changelog, never the single executable', async (t) => {
  const dir = t.testdir();
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin', 'examples']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  // What `npm run demo` leaves in its state directory (README's order: the demo, then npm pack).
  mkdirSync(join(dir, 'examples/.lifeguard/demo/output/web'), { recursive: true });
  writeFileSync(join(dir, 'examples/.lifeguard/demo/output/web/web-1.log'), 'a log\n');
  writeFileSync(join(dir, 'examples/.lifeguard/demo/lock'), '{}\n');
  // What `npm run build` writes, then what `npm run build:binary` writes beside it, intermediates included.
  const built = ['dist/healthcheck.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/lifeguard-main.js', 'dist/healthcheck',
    'dist/healthcheck.sea-config.json', 'dist/healthcheck.sea-prep.blob', 'dist/cf-assets/healthcheck/healthcheck',
    'dist/cf-assets/healthcheck/libc.so.6', 'dist/cf-assets/healthcheck/chunk.js'];
  for (const file of built) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), 'placeholder\n');
  }
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], { cwd: dir, timeout: 60_000 });
  const files: string[] = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path);
  for (const shipped of ['dist/healthcheck.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/lifeguard-main.js', 'bin/healthcheck.cjs', 'bin/lifeguard.js', 'LICENSE', 'CHANGELOG.md', 'README.md']) {
    t.ok(files.includes(shipped), `ships ${shipped}`);
  }
  t.same(files.filter((file) => /^dist\/(healthcheck$|healthcheck\.sea-|cf-assets\/)/.test(file)), [], 'not the single executable, nor what made it');
  t.same(files.filter((file) => file.startsWith('examples/.lifeguard/')), [], "not the demo's state directory, output logs included");
});

t.test("the changelog's first section is the version package.json gives", async (t) => {
  const first = /^## \[([^\]]+)\]/m.exec(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'))?.[1];
  t.equal(first, pkg.version);
});

t.test('dist/ is built whenever the package is packed or installed from a clone (prepare)', async (t) => {
  t.match(pkg.scripts.prepare, /^npm run build$/);
  t.match(pkg.scripts.build, /tsc .*&& node scripts\/bundle\.mjs/);
  t.same(Object.keys(pkg.bin).sort(), ['healthcheck', 'lifeguard']);
});

t.test('LICENSE is the Apache License 2.0 that package.json declares', async (t) => {
  t.equal(pkg.license, 'Apache-2.0');
  const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  t.match(text, /^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
  t.match(text, /END OF TERMS AND CONDITIONS/);
});
