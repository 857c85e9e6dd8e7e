#!/usr/bin/env node
// The agent, bundled by `npm run build` (scripts/bundle.mjs), which `npm ci` and `npm pack` run (prepare).
try {
  require.resolve('../dist/healthcheck.cjs');
} catch {
  process.stderr.write(`unexpected error: the agent is not built (no ${require('node:path').join(__dirname, '..', 'dist', 'healthcheck.cjs')}): run npm run build\n`);
  process.exit(127);
}
require('../dist/healthcheck.cjs');
