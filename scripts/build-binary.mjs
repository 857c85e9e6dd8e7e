// Builds the single executable dist/healthcheck with Node's Single Executable Applications (SEA):
//   dist/healthcheck.cjs (esbuild bundle, from scripts/bundle.mjs)
//     -> dist/sea-prep.blob  (node --experimental-sea-config dist/sea-config.json)
//     -> copy of this node binary, stripped of its symbols where `strip` exists
//     -> postject injects the blob as the NODE_SEA_BLOB note, flipping the SEA fuse
//     -> dist/healthcheck, chmod 755
// Everything is local: no download, so it works offline (unlike `pkg`, which fetches base binaries).
//
// Options (for experiments and the benchmark; the defaults are what ships):
//   --main FILE        bundle to embed            (default dist/healthcheck.cjs)
//   --out FILE         executable to write        (default dist/healthcheck)
//   --no-strip         keep the symbols of the node binary
//   --no-code-cache    do not embed V8's code cache for the main script
//   --no-smoke         skip the check that the result runs `--version` (for experiments with other mains)
//   --quiet            print only errors
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// The fuse string Node looks for to know whether a blob was injected (documented in Node's SEA guide).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
};
const known = new Set(['--main', '--out', '--no-strip', '--no-code-cache', '--no-smoke', '--quiet']);
for (const [i, a] of args.entries()) {
  if (a.startsWith('--') && !known.has(a)) fail(`unknown option ${a}`);
  if (!a.startsWith('--') && !['--main', '--out'].includes(args[i - 1])) fail(`unexpected argument ${a}`);
}
const main = resolve(option('--main', join(root, 'dist/healthcheck.cjs')));
const out = resolve(option('--out', join(root, 'dist/healthcheck')));
const strip = !flag('--no-strip');
const useCodeCache = !flag('--no-code-cache');
const quiet = flag('--quiet');
const log = (line) => { if (!quiet) console.log(line); };

const cleanup = [];
function fail(message) {
  for (const file of cleanup) rmSync(file, { force: true });
  console.error(`build-binary: ${message}`);
  process.exit(1);
}

const t0 = performance.now();
const step = (name, fn) => {
  const t = performance.now();
  const result = fn();
  log(`  ${name.padEnd(22)} ${Math.round(performance.now() - t)} ms`);
  return result;
};

// SEA exists since 18.16/19.7; useCodeCache (and useSnapshot) since 20.6. Node >= 20 is the project's floor.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 6)) fail(`Node ${process.versions.node} is too old: SEA with code cache needs >= 20.6`);
if (process.platform !== 'linux') log(`note: built and tested on Linux only; ${process.platform} may need code signing steps`);
if (!existsSync(main)) fail(`${main} is missing: run \`npm run build\` (or node scripts/bundle.mjs) first`);

const work = dirname(out);
mkdirSync(work, { recursive: true });
const base = out.replace(/\.[^./]*$/, '');
const configPath = `${base}.sea-config.json`;
const blobPath = `${base}.sea-prep.blob`;
const tmpOut = `${out}.tmp-${process.pid}`;

cleanup.push(tmpOut);
log(`building ${out} from ${main} with node ${process.version}`);
try {
  step('sea blob', () => {
    // useSnapshot is not used: it needs the main script to be written for v8.startupSnapshot
    // (setDeserializeMainFunction, no sockets or timers during the build), and it ignores useCodeCache.
    // Node 20's sea-config has no execArgv (added in Node 24/22 lines), hence src/cli/runtime-tuning.ts.
    const config = { main, output: blobPath, disableExperimentalSEAWarning: true, useCodeCache, useSnapshot: false };
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    const r = spawnSync(process.execPath, ['--experimental-sea-config', configPath], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.error) fail(`cannot run ${process.execPath}: ${r.error.message}`);
    if (r.status !== 0) fail(`node --experimental-sea-config failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
    if (!existsSync(blobPath)) fail(`node --experimental-sea-config wrote no ${blobPath}`);
  });

  step('copy node', () => copyFileSync(process.execPath, tmpOut));

  if (strip) {
    step('strip', () => {
      // Node's guide strips the copy before injection: the symbols and debug info of a distribution's
      // node are dead weight in an agent (here ~99 MB -> ~86 MB). Where there is no `strip`
      // (binutils), the copy keeps them and still works.
      const r = spawnSync('strip', ['--strip-all', tmpOut], { encoding: 'utf8' });
      if (r.error && r.error.code === 'ENOENT') log('  (no `strip` on PATH: install binutils for a ~13 MB smaller binary; continuing unstripped)');
      else if (r.error || r.status !== 0) log(`  (strip failed, continuing unstripped: ${(r.error?.message ?? r.stderr).trim().split('\n')[0]})`);
    });
  }

  await (async () => {
    const t = performance.now();
    let inject;
    try {
      ({ inject } = require('postject'));
    } catch (e) {
      fail(`postject is not installed (npm ci installs it): ${e.message.split('\n')[0]}`);
    }
    // postject's LIEF (WebAssembly) warns through console.warn about each of the ~256 ELF notes of a
    // distribution's node ("Can't find string offset for section name '.note.100'"); harmless, the
    // smoke run below proves the result. Kept quiet, shown if the injection fails.
    const warnings = [];
    const warn = console.warn;
    console.warn = (...a) => warnings.push(a.join(' '));
    try {
      await inject(tmpOut, 'NODE_SEA_BLOB', readFileSync(blobPath), { sentinelFuse: SEA_FUSE });
    } catch (e) {
      console.warn = warn;
      for (const w of warnings.slice(-5)) console.error(w);
      fail(`postject could not inject the blob: ${String(e?.message ?? e).split('\n')[0]}`);
    } finally {
      console.warn = warn;
    }
    log(`  ${'postject inject'.padEnd(22)} ${Math.round(performance.now() - t)} ms`);
  })();

  chmodSync(tmpOut, 0o755);
  if (!flag('--no-smoke')) step('smoke run', () => {
    // The binary must start and be ours, not a plain node: --version prints the agent's version
    // (a plain node would print v20...). Nothing beside it is needed, so run it from the filesystem root.
    const r = spawnSync(tmpOut, ['--version'], { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeout: 30_000 });
    if (r.error) fail(`the built binary does not start: ${r.error.message}`);
    if (r.status !== 0 || r.stdout.trim() === process.version) {
      fail(`the built binary failed its smoke run (--version: exit ${r.status}, ${JSON.stringify((r.stdout + r.stderr).trim().slice(0, 120))})`);
    }
  });
  renameSync(tmpOut, out);
} finally {
  rmSync(tmpOut, { force: true });
}

const mib = (n) => (n / 1024 / 1024).toFixed(1);
log(`${out}: ${mib(statSync(out).size)} MiB (node ${mib(statSync(process.execPath).size)} MiB, bundle ${(statSync(main).size / 1024).toFixed(0)} KiB${useCodeCache ? ' + code cache' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
