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
// A suite that restarts the engine service itself runs after the others, alone: tap runs files side by side, and
// an engine going away mid-test fails whichever other suite was talking to it.
const ALONE = ['test/watch/engine-restart.test.ts'];
const extra = process.argv.slice(2);
// --exclude replaces .taprc's list (with a path that matches nothing), --include names the slow suites instead.
const include = slow.map((glob) => `--include=${glob}`);
// Suites named on the command line are run as asked.
if (extra.some((arg) => !arg.startsWith('-'))) process.exit(tap(['--exclude=/nonexistent', ...include, ...extra]));
const together = tap([...ALONE.map((file) => `--exclude=${file}`), ...include, ...extra]);
const alone = tap(['--exclude=/nonexistent', ...extra, ...ALONE]);
process.exit(together !== 0 ? together : alone);

function tap(args) {
  return spawnSync('node_modules/.bin/tap', args, { stdio: 'inherit' }).status ?? 1;
}
