// The import order of ARCHITECTURE.md "Layers", held by dependency-cruiser (.dependency-cruiser.cjs): each room of
// src/ imports only the rooms below it, watch none of supervisor/'s, only cli the agent; every import resolves; no
// import cycle anywhere (type-only and dynamic imports included).
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import t from 'tap';

process.chdir(new URL('../../', import.meta.url).pathname);
const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
const { output } = await cruise(['src'], { ...options, outputType: 'json' }, undefined, { tsConfig: extractTSConfig('tsconfig.json') });
const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;

t.test('the cruise sees the import graph', async (t) => {
  // A resolver that found nothing would find no violation either.
  const edges = new Set(result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source} -> ${d.resolved}`)));
  t.ok(edges.has('src/cli/lifeguard-main.ts -> src/watch/create-watcher.ts'), 'a plain import');
  t.ok(edges.has('src/watch/create-watcher.ts -> src/watch/settings.ts'), 'a type-only import');
  t.ok(edges.has('src/probes/sidecar.ts -> src/shared/limit.ts'), 'an import across rooms');
});

t.test('each room imports only the rooms below it; no cycle; every import resolves', async (t) => {
  const wrong = result.summary.violations.map((v) => {
    const cycle = v.cycle === undefined ? '' : ` (${v.cycle.map((c) => c.name).join(' -> ')})`;
    return `${v.rule.name}: ${v.from} -> ${v.to}${cycle}`;
  });
  t.same(wrong, []);
});
