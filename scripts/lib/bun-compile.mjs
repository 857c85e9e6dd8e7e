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
// - no JIT (useJIT=0, baked into BASE by scripts/lib/bun-jsc-options.mjs), so no tier-up threshold to set here;
// - src/checks/connection-handle.ts (libuv's TCP handle, node:net as its fallback) replaced by connection-bun.ts
//   (Bun.connect), and src/cli/last-words.ts (process.stdout and process.stderr) by last-words-bun.ts (Bun's file
//   sinks).
import { resolve } from 'node:path';

const [entry, outfile, base] = process.argv.slice(2);
if (!entry || !outfile || !base || typeof Bun === 'undefined') {
  console.error('usage: bun scripts/lib/bun-compile.mjs ENTRY OUTFILE BASE');
  process.exit(2);
}

const bunImplementations = {
  name: 'bun-implementations',
  setup(build) {
    build.onResolve({ filter: /[\\/]connection-handle\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, 'connection-bun.ts'),
    }));
    build.onResolve({ filter: /[\\/]last-words\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, 'last-words-bun.ts'),
    }));
  },
};

const result = await Bun.build({
  entrypoints: [entry],
  compile: {
    outfile,
    executablePath: base,
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
  plugins: [bunImplementations],
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
