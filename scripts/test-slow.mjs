// npm run test:slow — the suites .taprc leaves out of `npm test` (its `exclude` list, read here so that the list
// lives in one place): real containers, reliability under faults, fuzzing. Extra arguments go to tap.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const slow = parse(readFileSync(new URL('../.taprc', import.meta.url), 'utf8')).exclude;
if (!Array.isArray(slow) || slow.length === 0) {
  process.stderr.write('test-slow: .taprc has no exclude list, so there are no slow suites to run\n');
  process.exit(2);
}
// --exclude replaces .taprc's list (with a path that matches nothing), --include names the slow suites instead.
const args = ['--exclude=/nonexistent', ...slow.map((glob) => `--include=${glob}`), ...process.argv.slice(2)];
const tap = spawnSync('node_modules/.bin/tap', args, { stdio: 'inherit' });
process.exit(tap.status ?? 1);
