// The whole tree type-checks, tests and scripts with it (tsconfig.json): `npm run build` compiles src/ alone, and
// tap runs the tests through tsx, which strips their types unread — a test's type error once passed CI so.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { NODE_OPTIONS: _, ...env } = process.env;

t.test('tsc finds no type error in src, test or scripts', async (t) => {
  const run = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: ROOT, env, encoding: 'utf8' });
  t.same(run.stdout.split('\n').filter((line) => line.trim() !== ''), [], run.stderr);
  t.equal(run.status, 0);
});
