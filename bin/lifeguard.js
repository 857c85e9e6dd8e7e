#!/usr/bin/env node
// The supervisor CLI, compiled by `npm run build`, which `npm ci` and `npm pack` run (prepare).
// Loaded with require(), which loads an ES module graph one file at a time (Node >= 20.19), not with import:
// the asynchronous loader opens every file of zod's locales at once, and under a low `ulimit -n` (64) the
// supervisor would die of EMFILE, with a stack trace, before it could say anything.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

// First, before the program is loaded: a SIGUSR1 ends lifeguard (exit 138) instead of opening Node's inspector
// on 127.0.0.1:9229 (src/cli/early-signals.ts says why; `run` and `watch` then stop in order on it).
process.on('SIGUSR1', () => process.exit(138));
const main = new URL('../dist/cli/lifeguard-main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`lifeguard is not built (no ${main.pathname}): run npm run build\n`);
  process.exit(2);
}
try {
  createRequire(import.meta.url)(main.pathname);
} catch (error) {
  if (error?.code !== 'ERR_REQUIRE_ESM') throw error;
  await import(main.href); // an older Node.js 20
}
