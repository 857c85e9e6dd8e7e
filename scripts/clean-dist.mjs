// Empties dist/ of what `npm run build` writes there (tsc's modules, maps and declarations, the agent bundle)
// before it writes them again, so that a module deleted from src/ does not outlive it in dist/, to be packed and
// imported. What `npm run build:binary` writes beside them is kept: the single executable, its intermediates and
// cf-assets/ take a minute to make and are rebuilt only on demand, and `npm test` (which builds) runs them.
//   node scripts/clean-dist.mjs [DIR]   (default: this repository's dist/)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * build-binary.mjs's outputs at the top of dist/: the executable, the SEA config and blob of `--runtime=node`, a
 * compile in flight (`healthcheck.tmp-<pid>`, its `.base`), cf-assets/. dist/healthcheck.cjs is the bundle's.
 */
const BINARY_OUTPUT = /^(cf-assets|healthcheck|healthcheck\.(sea-config\.json|sea-prep\.blob|tmp-\d+(\.base)?))$/;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(process.argv[2] ?? join(root, 'dist'));
if (existsSync(dir)) {
  for (const entry of readdirSync(dir)) {
    if (!BINARY_OUTPUT.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}
