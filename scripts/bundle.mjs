// Bundles the agent into one CommonJS file: the fastest thing for node to start (no module graph to
// resolve), and the input of the single executable (scripts/build-binary.mjs).
import { build } from 'esbuild';

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
});
