#!/usr/bin/env node
// The supervisor CLI, compiled by `npm run build`.
import '../dist/cli/lifeguard-main.js';
