// The layers of ARCHITECTURE.md, held: no import cycle anywhere in src/ (type-only and dynamic imports included),
// and each layer imports only the layers below it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative module a file names: `import … from`, `export … from`, `import type`, `import('…')`. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return found.map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

const files = sources(SRC);
const graph = new Map(files.map((file) => [file, imports(file)]));
const name = (file: string) => relative(SRC, file);

t.test('every relative import resolves to a file in src/', async (t) => {
  const missing = [...graph].flatMap(([file, deps]) => deps.filter((dep) => !graph.has(dep)).map((dep) => `${name(file)} -> ${name(dep)}`));
  t.same(missing, []);
});

t.test('no import cycle in src/', async (t) => {
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'visiting');
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'visiting') cycles.push([...path.slice(path.indexOf(dep)), dep].map(name).join(' -> '));
      else if (!state.has(dep) && graph.has(dep)) visit(dep);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  t.same(cycles, []);
});

/** What each layer may import besides itself (ARCHITECTURE.md, "Layers"). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  checks: [],
  engine: ['checks'],
  protocol: ['checks', 'engine'],
  agent: ['checks', 'engine', 'protocol'],
  shared: ['checks', 'engine', 'protocol', 'supervisor'],
  probes: ['checks', 'engine', 'protocol', 'shared', 'supervisor'],
  supervisor: ['checks', 'engine', 'protocol', 'shared', 'probes'],
  // `lifeguard watch` builds on the supervisor's pieces (restart policy, probes, the docker sidecar runner).
  watch: ['checks', 'engine', 'protocol', 'shared', 'probes', 'supervisor'],
  cli: ['checks', 'engine', 'protocol', 'agent', 'shared', 'probes', 'supervisor', 'watch'],
};

function layer(file: string): string {
  const parts = name(file).split('/');
  return parts.length === 1 ? 'root' : (parts[0] as string);
}

t.test('each layer imports only the layers below it', async (t) => {
  const wrong = [...graph].flatMap(([file, deps]) => {
    const from = layer(file);
    if (from === 'root') return [];
    return deps.filter((dep) => layer(dep) !== from && !(ALLOWED[from] ?? []).includes(layer(dep))).map((dep) => `${name(file)} (${from}) -> ${name(dep)} (${layer(dep)})`);
  });
  t.same(wrong, []);
});
