// Builds the single executable dist/healthcheck, and dist/cf-assets/healthcheck/ (the directory to bind-mount at
// /etc/cf-assets/healthcheck, where Cloud Foundry's Diego mounts its healthcheck, for images without glibc).
//
// --runtime=bun (the default): Bun's `bun build --compile` from the TypeScript sources, with bytecode, one chunk
//   per dynamic import, no autoload of .env/bunfig.toml (scripts/lib/bun-compile.mjs). Bun comes from the npm
//   package @oven/bun-linux-x64 (a devDependency: `npm ci` brings it, nothing is downloaded here). The result is
//   never stripped: `strip` would drop the .bun section that holds the agent, leaving a plain bun.
// --runtime=node: a Node.js Single Executable Application (SEA) of dist/healthcheck.cjs:
//     dist/healthcheck.cjs (esbuild bundle, from scripts/bundle.mjs)
//     -> dist/sea-prep.blob  (node --experimental-sea-config dist/sea-config.json)
//     -> copy of this node binary, stripped of its symbols where `strip` exists
//     -> postject injects the blob as the NODE_SEA_BLOB note, flipping the SEA fuse
// Either way: chmod 755, a smoke run, then the cf-assets directory (scripts/lib/cf-assets.mjs).
// Everything is local: no download, so it works offline (unlike `pkg`, which fetches base binaries).
//
// Options (for experiments and the benchmark; the defaults are what ships):
//   --runtime bun|node  what the executable is built on   (default bun)
//   --main FILE        entry: sources for bun (default src/cli/healthcheck-main.ts), bundle for node
//                      (default dist/healthcheck.cjs)
//   --out FILE         executable to write        (default dist/healthcheck)
//   --no-cf-assets     do not write dist/cf-assets/healthcheck/
//   --no-strip         node: keep the symbols of the node binary
//   --no-code-cache    node: do not embed V8's code cache for the main script
//   --no-smoke         skip the check that the result runs `--version` (for experiments with other mains)
//   --quiet            print only errors
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBunBase } from './lib/bun-base.mjs';
import { CF_ASSETS_MOUNT, writeCfAssets } from './lib/cf-assets.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// The fuse string Node looks for to know whether a blob was injected (documented in Node's SEA guide).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const args = process.argv.slice(2).flatMap((a) => (/^--(runtime|main|out)=/.test(a) ? a.split(/=(.*)/s, 2) : [a]));
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
};
const valued = ['--runtime', '--main', '--out'];
const known = new Set([...valued, '--no-cf-assets', '--no-strip', '--no-code-cache', '--no-smoke', '--quiet']);
for (const [i, a] of args.entries()) {
  if (a.startsWith('--') && !known.has(a)) fail(`unknown option ${a}`);
  if (!a.startsWith('--') && !valued.includes(args[i - 1])) fail(`unexpected argument ${a}`);
}
const runtime = option('--runtime', 'bun');
if (!['bun', 'node'].includes(runtime)) fail(`--runtime must be bun or node, not ${runtime}`);
const main = resolve(option('--main', join(root, runtime === 'bun' ? 'src/cli/healthcheck-main.ts' : 'dist/healthcheck.cjs')));
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

if (process.platform !== 'linux' || process.arch !== 'x64') log(`note: built and tested on Linux x64 only, not ${process.platform} ${process.arch}`);
if (!existsSync(main)) fail(`${main} is missing${runtime === 'node' ? ': run `npm run build` (or node scripts/bundle.mjs) first' : ''}`);
if (runtime === 'node') {
  // SEA exists since 18.16/19.7; useCodeCache (and useSnapshot) since 20.6. Node >= 20 is the project's floor.
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 6)) fail(`Node ${process.versions.node} is too old: SEA with code cache needs >= 20.6`);
}

const work = dirname(out);
mkdirSync(work, { recursive: true });
const base = out.replace(/\.[^./]*$/, '');
const configPath = `${base}.sea-config.json`;
const blobPath = `${base}.sea-prep.blob`;
const tmpOut = `${out}.tmp-${process.pid}`;

/** Bun's compile, run by the bun of the npm package (its path comes from the package, not from PATH). */
function buildBun() {
  let bun;
  try {
    bun = join(dirname(require.resolve('@oven/bun-linux-x64/package.json')), 'bin/bun');
  } catch {
    fail('@oven/bun-linux-x64 is not installed (npm ci installs it; it exists for Linux x64 only): use --runtime=node elsewhere');
  }
  const base = `${tmpOut}.base`;
  cleanup.push(base);
  step('bun base', () => {
    try {
      writeBunBase(bun, base);
    } catch (e) {
      fail(e.message);
    }
  });
  step('bun build --compile', () => {
    const r = spawnSync(bun, [join(root, 'scripts/lib/bun-compile.mjs'), main, tmpOut, base], {
      cwd: root,
      encoding: 'utf8',
      // The compiler is a bun too: nothing from the caller's environment or working directory may steer it.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', BUN_OPTIONS: '' },
      timeout: 240_000,
    });
    if (r.error) fail(`cannot run ${bun}: ${r.error.message}`);
    if (r.status !== 0) fail(`bun build --compile failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
    if (!existsSync(tmpOut)) fail(`bun build --compile wrote no ${tmpOut}`);
  });
  rmSync(base, { force: true });
  return spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

async function buildSea() {
  step('sea blob', () => {
    // useSnapshot is not used: it needs the main script to be written for v8.startupSnapshot
    // (setDeserializeMainFunction, no sockets or timers during the build), and it ignores useCodeCache.
    // Node 20's sea-config has no execArgv (added in the Node 22/24 lines): none is set.
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
}

cleanup.push(tmpOut);
let runtimeVersion = process.version;
log(`building ${out} from ${main} with ${runtime}`);
try {
  if (runtime === 'bun') runtimeVersion = `bun ${buildBun()}`;
  else await buildSea();
  chmodSync(tmpOut, 0o755);
  if (!flag('--no-smoke')) step('smoke run', () => {
    // The binary must start and be ours, not a plain node or bun: --version prints the agent's version
    // (a plain node would print v20..., a plain bun 1.x). Nothing beside it is needed, so run it from the root.
    const r = spawnSync(tmpOut, ['--version'], { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeout: 30_000 });
    if (r.error) fail(`the built binary does not start: ${r.error.message}`);
    if (r.status !== 0 || r.stdout.trim() !== version) {
      fail(`the built binary failed its smoke run (--version: exit ${r.status}, ${JSON.stringify((r.stdout + r.stderr).trim().slice(0, 120))})`);
    }
  });
  renameSync(tmpOut, out);
} finally {
  rmSync(tmpOut, { force: true });
}

const mib = (n) => (n / 1024 / 1024).toFixed(1);
const from = runtime === 'bun' ? `${runtimeVersion}, from the sources` : `node ${mib(statSync(process.execPath).size)} MiB, bundle ${(statSync(main).size / 1024).toFixed(0)} KiB${useCodeCache ? ' + code cache' : ''}`;
log(`${out}: ${mib(statSync(out).size)} MiB (${from}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

if (!flag('--no-cf-assets')) {
  const dir = join(dirname(out), 'cf-assets/healthcheck');
  try {
    const files = step('cf-assets', () => writeCfAssets(out, dir));
    log(`${dir}/: ${files.join(', ')} (bind-mount it at ${CF_ASSETS_MOUNT})`);
  } catch (e) {
    fail(`cannot write ${dir}: ${e.message}`);
  }
}
