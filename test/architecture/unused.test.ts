// No unused export, file or dependency (knip, configured by knip.json): what src/ exports, something imports —
// the entry points, the scripts, or a test (test/ counts as an entry: a test may import what it checks); what
// package.json lists, something uses.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { NODE_OPTIONS: _, ...env } = process.env;

t.test('knip finds nothing unused', async (t) => {
  const run = spawnSync(process.execPath, ['node_modules/knip/bin/knip.js', '--no-progress', '--no-config-hints'], { cwd: ROOT, env, encoding: 'utf8' });
  t.same(run.stdout.split('\n').filter((line) => line.trim() !== ''), [], run.stderr);
  t.equal(run.status, 0);
});
