// Bundles the agent into one CommonJS file: the fastest thing for node to start (no module graph to
// resolve), and the input of the single executable (scripts/build-binary.mjs).
import { build } from 'esbuild';

/**
 * commander requires node:child_process when it loads, for executable subcommands, which the agent has none
 * of; loading it (with dgram and the process bindings it pulls in) costs every start ~0.5 ms. Within commander
 * it becomes a stand-in that loads the real module on the first spawn, which never comes.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "exports.spawn = (...args) => require('node:child_process').spawn(...args);",
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: ['src/cli/healthcheck-main.ts'],
  outfile: 'dist/healthcheck.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [lazyChildProcess],
});
