#!/usr/bin/env node
// The supervisor CLI, compiled by `npm run build`.
// Loaded with require(), which loads an ES module graph one file at a time (Node >= 20.19), not with import:
// the asynchronous loader opens every file of zod's locales at once, and under a low `ulimit -n` (64) the
// supervisor would die of EMFILE, with a stack trace, before it could say anything.
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url)('../dist/cli/lifeguard-main.js');
} catch (error) {
  if (error?.code !== 'ERR_REQUIRE_ESM') throw error;
  await import('../dist/cli/lifeguard-main.js'); // an older Node.js 20
}
