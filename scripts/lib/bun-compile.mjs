// Run by Bun, not Node (scripts/build-binary.mjs spawns it with the bun of @oven/bun-linux-x64):
//   bun scripts/lib/bun-compile.mjs ENTRY OUTFILE BASE
// BASE is the runtime to embed the agent in (scripts/lib/bun-base.mjs: this bun, with the environment variables
// that would steer it renamed).
// Compiles the agent from its TypeScript sources into one executable with Bun's bundler:
// - bytecode: JavaScriptCore's bytecode is embedded, so nothing is parsed at start;
// - splitting: each dynamic import() (a dialect's parser, the CheckDefinition reader and zod) is its own chunk,
//   loaded only by the invocations that need it;
// - no autoload of .env, bunfig.toml, tsconfig.json or package.json from the working directory at start: the
//   agent runs in the app's directory, and an app's `.env` holding PORT=... must not change what is checked;
// - a JIT tier-up threshold 1000 times JavaScriptCore's: an agent's code runs a few times per check, and compiling
//   it costs more than interpreting it (measured: ~0.5 ms less CPU per `once` start with the native flags, ~2.5 ms
//   with CF's, and 0.89 -> 0.69 ms of CPU per check in liveness, 4.9 -> 4.0 MiB Private_Dirty);
// - src/checks/connection-handle.ts (libuv's TCP handle, node:net as its fallback) replaced by connection-bun.ts
//   (Bun.connect);
// - commander's node:child_process (for executable subcommands, which the agent has none of) loaded only on a
//   spawn, which never comes, as scripts/bundle.mjs does for the Node bundle.
import { resolve } from 'node:path';

const [entry, outfile, base] = process.argv.slice(2);
if (!entry || !outfile || !base || typeof Bun === 'undefined') {
  console.error('usage: bun scripts/lib/bun-compile.mjs ENTRY OUTFILE BASE');
  process.exit(2);
}

const bunConnection = {
  name: 'bun-connection',
  setup(build) {
    build.onResolve({ filter: /[\\/]connection-handle\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, 'connection-bun.ts'),
    }));
  },
};

const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`${args.path}: commander no longer loads node:child_process as expected`);
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};

const result = await Bun.build({
  entrypoints: [entry],
  compile: {
    outfile,
    executablePath: base,
    jitPolicy: 1000,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  target: 'bun',
  format: 'esm',
  bytecode: true,
  splitting: true,
  minify: true,
  plugins: [bunConnection, lazyChildProcess],
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
