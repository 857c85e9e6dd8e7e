// The Kubernetes manifests of a Markdown page (docs/kubernetes.md): what the page's schema test checks and what
// its kube-play test runs, read one way.
import { parseAllDocuments } from 'yaml';

export type Obj = Record<string, any>;

export interface Manifest {
  /** Where it is on the page, for messages: `docs/kubernetes.md:<line of the fence>#<document index>`. */
  readonly where: string;
  readonly doc: Obj;
}

/** Every document of every ```yaml block of a Markdown text; YAML errors and warnings are failures. */
export function manifestsOf(markdown: string, file: string): Manifest[] {
  const manifests: Manifest[] = [];
  const fence = /^```yaml[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    parseAllDocuments(match[1]!).forEach((document, index) => {
      const where = `${file}:${line}#${index}`;
      const problems = [...document.errors, ...document.warnings];
      if (problems.length > 0) throw new Error(`${where}: ${problems.map((e) => e.message).join('; ')}`);
      manifests.push({ where, doc: document.toJS() as Obj });
    });
  }
  return manifests;
}
