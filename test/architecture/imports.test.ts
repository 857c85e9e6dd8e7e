// The import order of ARCHITECTURE.md "Layers", held by dependency-cruiser (.dependency-cruiser.cjs): each room of
// src/ imports only the rooms below it, watch none of supervisor/'s, only cli the agent; every import resolves; no
// import cycle anywhere (type-only and dynamic imports included).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
  readonly cycle?: readonly ({ readonly name: string } | string)[];
}
interface Cruise {
  readonly modules: readonly { readonly source: string; readonly dependencies: readonly { readonly resolved: string }[] }[];
  readonly summary: { readonly violations: readonly Violation[] };
}

const run = spawnSync(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], {
  cwd: ROOT,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const cruise = JSON.parse(run.stdout) as Cruise;

t.test('the cruise sees the import graph', async (t) => {
  // A resolver that found nothing would find no violation either.
  const edges = new Set(cruise.modules.flatMap((m) => m.dependencies.map((d) => `${m.source} -> ${d.resolved}`)));
  t.ok(edges.has('src/cli/lifeguard-main.ts -> src/watch/create-watcher.ts'), 'a plain import');
  t.ok(edges.has('src/watch/create-watcher.ts -> src/watch/settings.ts'), 'a type-only import');
  t.ok(edges.has('src/probes/sidecar.ts -> src/shared/limit.ts'), 'an import across rooms');
});

t.test('each room imports only the rooms below it; no cycle; every import resolves', async (t) => {
  const wrong = cruise.summary.violations.map((v) => {
    const cycle = v.cycle === undefined ? '' : ` (${v.cycle.map((c) => (typeof c === 'string' ? c : c.name)).join(' -> ')})`;
    return `${v.rule.name}: ${v.from} -> ${v.to}${cycle}`;
  });
  t.same(wrong, []);
});
