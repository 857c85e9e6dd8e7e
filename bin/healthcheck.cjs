#!/usr/bin/env node
// First, before anything is loaded: a SIGUSR1 ends the agent (exit 138) instead of opening Node's inspector
// on 127.0.0.1:9229 (src/cli/early-signals.ts says why; the agent then gives it its own reaction).
process.on('SIGUSR1', () => process.exit(138));
// The agent, bundled by `npm run build` (scripts/bundle.mjs), which `npm ci` and `npm pack` run (prepare).
try {
  require.resolve('../dist/healthcheck.cjs');
} catch {
  process.stderr.write(`healthcheck is not built (no ${require('node:path').join(__dirname, '..', 'dist', 'healthcheck.cjs')}): run npm run build\n`);
  process.exit(2);
}
require('../dist/healthcheck.cjs');
