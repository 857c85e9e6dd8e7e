#!/usr/bin/env node
// The agent, bundled by `npm run build` (scripts/bundle.mjs).
require('../dist/healthcheck.cjs');
