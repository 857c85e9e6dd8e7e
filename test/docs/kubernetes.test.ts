// docs/kubernetes.md must not rot. Every ```yaml block on the page is parsed, and every document in it is
// (1) validated against the Kubernetes API schema bundled in kubernetes-models, the Kubernetes 1.33 API:
//     Lifecycle.stopSignal (1.33) is in it, PodSpec.hostnameOverride (1.34) is not. That schema ignores unknown
//     properties, so each document is also
// (2) type-checked against kubernetes-models' TypeScript interfaces, whose excess-property check catches a
//     misspelt field. Every `healthcheck` command line in the manifests must also
// (3) parse with the agent's own argument parser, and follow the page's rules: `--mode=once` with a per-check
//     timeout clearly below the probe's timeoutSeconds in exec probes, `--mode=liveness` in a native sidecar,
//     and the binary's directory mounted from a volume of the pod.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { Model } from '@kubernetes-models/base';
import { ConfigMap, Pod, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import type { AgentOptions } from '../../src/engine/types.js';
import { parseNativeArgs } from '../../src/cli/healthcheck.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = join(ROOT, 'docs', 'kubernetes.md');
const AGENT_PATH = '/etc/lifeguard/healthcheck';
/** What an exec probe needs beyond the agent's own timeout: process start on a busy node. */
const PROBE_HEADROOM_MS = 500;

type Obj = Record<string, any>;
type ModelClass = new (data?: any) => Model<unknown>;

/** apiVersion/kind → the kubernetes-models class and its TypeScript interface (module, name). */
const KINDS: Record<string, { model: ModelClass; module: string; iface: string }> = {
  'v1/Pod': { model: Pod, module: 'kubernetes-models/v1', iface: 'IPod' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1', iface: 'IService' },
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1', iface: 'IConfigMap' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1', iface: 'IDeployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1', iface: 'IStatefulSet' },
  'apps/v1/DaemonSet': { model: DaemonSet, module: 'kubernetes-models/apps/v1', iface: 'IDaemonSet' },
  'batch/v1/Job': { model: Job, module: 'kubernetes-models/batch/v1', iface: 'IJob' },
  'batch/v1/CronJob': { model: CronJob, module: 'kubernetes-models/batch/v1', iface: 'ICronJob' },
};

interface Manifest {
  /** Where it is on the page, for messages: `docs/kubernetes.md:<line of the fence>#<document index>`. */
  readonly where: string;
  readonly doc: Obj;
}

/** Every document of every ```yaml block of a Markdown text; YAML errors and warnings are failures. */
function manifestsOf(markdown: string, file: string): Manifest[] {
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

function kindOf(doc: Obj): (typeof KINDS)[string] {
  const key = `${doc['apiVersion']}/${doc['kind']}`;
  const known = Object.hasOwn(KINDS, key) ? KINDS[key] : undefined;
  if (known === undefined) throw new Error(`unknown kind ${key} (known: ${Object.keys(KINDS).join(', ')})`);
  return known;
}

/** The schema's verdict: undefined when valid, else the validator's message. */
function schemaError(doc: Obj): string | undefined {
  const { model } = kindOf(doc);
  try {
    new model(doc).validate();
    return undefined;
  } catch (thrown) {
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
}

/**
 * Type-checks each document as an object literal of its kind's interface, in one in-memory TypeScript program.
 * Returns the diagnostics of each document (empty when it is well typed).
 */
function typeErrors(docs: readonly Obj[]): string[][] {
  const file = join(ROOT, 'test', 'docs', '__kubernetes_manifests__.ts');
  const imports = new Map<string, Set<string>>();
  const starts: number[] = [];
  let body = '';
  docs.forEach((doc, index) => {
    const { module, iface } = kindOf(doc);
    if (!imports.has(module)) imports.set(module, new Set());
    imports.get(module)!.add(iface);
    body += `export const doc${index}: ${iface} =\n`;
    starts.push(body.length);
    body += `${JSON.stringify(doc, null, 2)};\n`;
  });
  const header = [...imports].map(([module, names]) => `import type { ${[...names].join(', ')} } from '${module}';\n`).join('');
  const source = header + body;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file)!;
  const found: string[][] = docs.map(() => []);
  for (const diagnostic of [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]) {
    const at = diagnostic.start ?? 0;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const index = at < header.length ? -1 : starts.findLastIndex((start) => start - header.length <= at - header.length);
    if (index < 0) throw new Error(`in the generated imports: ${message}`);
    const { line } = sourceFile.getLineAndCharacterOfPosition(at);
    const docLine = line - sourceFile.getLineAndCharacterOfPosition(starts[index]! + header.length).line + 1;
    found[index]!.push(`line ${docLine} of the document as JSON: ${message}`);
  }
  return found;
}

/**
 * Rules the API server enforces that the OpenAPI schema does not carry (1.33): restartPolicy on an init container
 * can only be Always (a sidecar), and a regular container cannot have one. Returns what is wrong.
 */
function apiServerViolations(doc: Obj): string[] {
  const spec = podSpecOf(doc);
  if (spec === undefined) return [];
  const wrong: string[] = [];
  for (const c of (spec['initContainers'] ?? []) as Obj[]) {
    if (c['restartPolicy'] !== undefined && c['restartPolicy'] !== 'Always') {
      wrong.push(`init container ${c['name']}: restartPolicy '${c['restartPolicy']}', only 'Always' is allowed`);
    }
  }
  for (const c of (spec['containers'] ?? []) as Obj[]) {
    if (c['restartPolicy'] !== undefined) wrong.push(`container ${c['name']}: restartPolicy is for init containers only`);
  }
  return wrong;
}

/** The pod spec inside a workload, if it has one. */
function podSpecOf(doc: Obj): Obj | undefined {
  switch (doc['kind']) {
    case 'Pod':
      return doc['spec'];
    case 'CronJob':
      return doc['spec']?.jobTemplate?.spec?.template?.spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return doc['spec']?.template?.spec;
    default:
      return undefined;
  }
}

interface Invocation {
  readonly where: string;
  /** 'sidecar' (restartable init container), 'init' (plain init container), 'container', or a probe. */
  readonly role: 'sidecar' | 'init' | 'container' | 'startupProbe' | 'livenessProbe' | 'readinessProbe';
  readonly argv: readonly string[];
  readonly container: Obj;
  readonly probe?: Obj;
}

const isAgent = (path: unknown): boolean => typeof path === 'string' && posix.basename(path) === 'healthcheck';

/** Every place a pod runs the agent: a container's command (+ args), or an exec probe's command. */
function invocationsOf(manifest: Manifest): Invocation[] {
  const spec = podSpecOf(manifest.doc);
  if (spec === undefined) return [];
  const found: Invocation[] = [];
  const containers = [
    ...((spec['initContainers'] ?? []) as Obj[]).map((c) => ({ c, init: true })),
    ...((spec['containers'] ?? []) as Obj[]).map((c) => ({ c, init: false })),
  ];
  for (const { c, init } of containers) {
    const where = `${manifest.where} container ${c['name']}`;
    const command = [...(c['command'] ?? []), ...(c['args'] ?? [])] as string[];
    if (isAgent(command[0])) {
      const role = !init ? 'container' : c['restartPolicy'] === 'Always' ? 'sidecar' : 'init';
      found.push({ where, role, argv: command, container: c });
    }
    for (const role of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
      const probe = c[role] as Obj | undefined;
      const exec = probe?.['exec']?.command as string[] | undefined;
      if (exec !== undefined && isAgent(exec[0])) found.push({ where: `${where} ${role}`, role, argv: exec, container: c, probe });
    }
  }
  return found;
}

/** What the agent makes of an invocation's arguments; throws the agent's own usage error. */
async function agentOptions(argv: readonly string[]): Promise<AgentOptions> {
  const parsed = await parseNativeArgs(argv.slice(1), {});
  if (parsed.kind !== 'run') throw new Error(`${argv.join(' ')}: prints instead of running`);
  return parsed.options;
}

/** The page's rules for an invocation, beyond parsing; returns what is wrong (empty when nothing). */
function ruleViolations(invocation: Invocation, options: AgentOptions, spec: Obj): string[] {
  const wrong: string[] = [];
  const [path] = invocation.argv;
  if (path !== AGENT_PATH) wrong.push(`runs ${path}, not ${AGENT_PATH}`);
  const mount = ((invocation.container['volumeMounts'] ?? []) as Obj[]).find((m) => m['mountPath'] === posix.dirname(path!));
  if (mount === undefined) wrong.push(`no volume mounted at ${posix.dirname(path!)}`);
  else if (!((spec['volumes'] ?? []) as Obj[]).some((v) => v['name'] === mount['name'])) wrong.push(`mounts undefined volume ${mount['name']}`);
  if (invocation.argv.some((arg) => arg.includes('$('))) wrong.push('uses $(VAR) expansion, which the test cannot check');

  if (invocation.role === 'sidecar' && options.mode !== 'liveness') wrong.push(`a sidecar in --mode=${options.mode}, not liveness`);
  if (invocation.role === 'init' && options.mode === 'liveness') wrong.push('a liveness agent in a plain init container: the app never starts');
  if (invocation.probe !== undefined) {
    if (options.mode !== 'once') wrong.push(`an exec probe in --mode=${options.mode}, not once`);
    const budgetMs = ((invocation.probe['timeoutSeconds'] as number | undefined) ?? 1) * 1000;
    const longestMs = options.initialDelayMs + Math.max(...options.checks.map((check) => check.timeoutMs));
    if (longestMs + PROBE_HEADROOM_MS > budgetMs) {
      wrong.push(`one round can take ${longestMs}ms, not ${PROBE_HEADROOM_MS}ms below timeoutSeconds (${budgetMs}ms)`);
    }
  }
  return wrong;
}

const manifests = manifestsOf(readFileSync(PAGE, 'utf8'), 'docs/kubernetes.md');

t.test('the page has manifests: a native sidecar and all three exec probes', async (t) => {
  t.ok(manifests.length >= 3, `${manifests.length} documents`);
  const roles = new Set(manifests.flatMap(invocationsOf).map((i) => i.role));
  for (const role of ['sidecar', 'startupProbe', 'livenessProbe', 'readinessProbe'] as const) t.ok(roles.has(role), role);
  const volumes = manifests.flatMap((m) => (podSpecOf(m.doc)?.['volumes'] ?? []) as Obj[]);
  t.ok(volumes.some((v) => v['emptyDir'] !== undefined), 'an emptyDir delivery');
  t.ok(volumes.some((v) => v['image'] !== undefined), 'an image-volume delivery');
});

t.test('every document is a known kind and valid against the Kubernetes API schema', async (t) => {
  for (const { where, doc } of manifests) {
    t.doesNotThrow(() => kindOf(doc), `${where}: known kind`);
    t.equal(schemaError(doc), undefined, `${where}: ${doc['kind']} ${doc['metadata']?.name} is valid`);
    t.same(apiServerViolations(doc), [], `${where}: restartPolicy where the API server allows it`);
  }
});

t.test('every document type-checks against kubernetes-models (no misspelt or misplaced field)', async (t) => {
  const errors = typeErrors(manifests.map((m) => m.doc));
  manifests.forEach(({ where, doc }, index) => t.same(errors[index], [], `${where}: ${doc['kind']} ${doc['metadata']?.name}`));
});

t.test('every healthcheck invocation parses with the agent and follows the page', async (t) => {
  const invocations = manifests.flatMap((manifest) => invocationsOf(manifest).map((i) => ({ i, spec: podSpecOf(manifest.doc)! })));
  t.ok(invocations.length >= 5, `${invocations.length} invocations`);
  for (const { i, spec } of invocations) {
    let options: AgentOptions | undefined;
    try {
      options = await agentOptions(i.argv);
    } catch (thrown) {
      t.fail(`${i.where}: ${(thrown as Error).message}`);
      continue;
    }
    t.same(ruleViolations(i, options, spec), [], `${i.where}: ${i.argv.slice(1).join(' ')}`);
  }
});

// The checks above must be able to fail.

const sidecarPod = (sidecar: Obj, app: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'negative' },
  spec: {
    volumes: [{ name: 'lifeguard', emptyDir: {} }],
    initContainers: [
      {
        name: 'healthcheck',
        image: 'example/runtime',
        restartPolicy: 'Always',
        command: [AGENT_PATH, '--mode=liveness', '--port', '8080'],
        volumeMounts: [{ name: 'lifeguard', mountPath: '/etc/lifeguard' }],
        ...sidecar,
      },
    ],
    containers: [{ name: 'app', image: 'example/app', ...app }],
  },
});

t.test('the bundled schema knows native sidecars: restartPolicy of an init container is validated', async (t) => {
  t.equal(schemaError(sidecarPod({})), undefined, 'restartPolicy: Always is accepted');
  // The schema ignores properties it does not know, so accepting the field proves little. Rejecting a value
  // of the wrong type proves that the field is in it.
  t.match(schemaError(sidecarPod({ restartPolicy: 7 })), /initContainers\/0\/restartPolicy must be string/);
  t.same(typeErrors([sidecarPod({})]), [[]], 'and the TypeScript interface has the field');
  // Only Always is allowed, which the schema (a plain string) does not say: the test checks it itself.
  t.equal(schemaError(sidecarPod({ restartPolicy: 'Allways' })), undefined, 'the schema takes any string');
  t.match(apiServerViolations(sidecarPod({ restartPolicy: 'Allways' })), [/restartPolicy 'Allways', only 'Always'/]);
  t.match(apiServerViolations(sidecarPod({}, { restartPolicy: 'Always' })), [/container app: restartPolicy is for init containers only/]);
});

t.test('a wrong value fails the schema', async (t) => {
  const wrongType = sidecarPod({}, { livenessProbe: { exec: { command: ['true'] }, timeoutSeconds: '3' } });
  t.match(schemaError(wrongType), /livenessProbe\/timeoutSeconds must be integer/);
  const missingName = sidecarPod({}, { name: undefined });
  t.match(schemaError(missingName), /containers\/0 must have required property 'name'|must have required property name/);
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: {} } };
  t.match(schemaError(deployment), /selector/, 'a Deployment without a selector');
});

t.test('a misspelt field passes the schema but fails the type check', async (t) => {
  const misspelt = sidecarPod({ restartPolicy: undefined, restartPolcy: 'Always' });
  t.equal(schemaError(misspelt), undefined, 'the schema lets it through');
  const [errors] = typeErrors([misspelt]);
  t.match(errors, [/restartPolcy/], 'the type check names it');
});

t.test('an unknown kind or apiVersion fails', async (t) => {
  t.throws(() => kindOf({ apiVersion: 'apps/v1beta1', kind: 'Deployment' }), /unknown kind apps\/v1beta1\/Deployment/);
  t.throws(() => kindOf({ apiVersion: 'v1', kind: 'Sidecar' }), /unknown kind v1\/Sidecar/);
  t.throws(() => manifestsOf('```yaml\nkind: [unclosed\n```\n', 'negative.md'), /negative\.md:1#0/);
});

t.test('a healthcheck invocation the agent refuses, or one that breaks the rules, fails', async (t) => {
  await t.rejects(agentOptions([AGENT_PATH, '--mode=once', '--timeout', '2']), /invalid --timeout '2'/, 'a bare number');
  await t.rejects(agentOptions([AGENT_PATH, '--mode=once', '--prot', '8080']), /unknown option '--prot'/, 'a typo');

  const probe = (command: string[], timeoutSeconds?: number): Manifest => ({
    where: 'negative',
    doc: sidecarPod({}, {
      volumeMounts: [{ name: 'lifeguard', mountPath: '/etc/lifeguard' }],
      livenessProbe: { exec: { command }, ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }) },
    }),
  });
  const violations = async (manifest: Manifest) => {
    const found = invocationsOf(manifest).filter((i) => i.probe !== undefined);
    t.equal(found.length, 1);
    return ruleViolations(found[0]!, await agentOptions(found[0]!.argv), podSpecOf(manifest.doc)!);
  };
  t.same(await violations(probe([AGENT_PATH, '--mode=once', '--timeout', '2s'], 3)), [], 'the good case');
  t.match(await violations(probe([AGENT_PATH, '--mode=once'])), [/not 500ms below timeoutSeconds \(1000ms\)/], 'default --timeout 1s in the default 1s');
  t.match(await violations(probe([AGENT_PATH, '--mode=once', '--timeout', '3s'], 3)), [/one round can take 3000ms/]);
  t.match(await violations(probe([AGENT_PATH, '--mode=readiness', '--timeout', '1s'], 3)), [/--mode=readiness, not once/]);
  t.match(await violations(probe(['/usr/local/bin/healthcheck', '--mode=once'], 3)), [/not \/etc\/lifeguard\/healthcheck/, /no volume mounted at \/usr\/local\/bin/]);

  const sidecar = invocationsOf({ where: 'negative', doc: sidecarPod({ command: [AGENT_PATH, '--mode=once'] }) });
  t.equal(sidecar[0]?.role, 'sidecar');
  t.match(ruleViolations(sidecar[0]!, await agentOptions(sidecar[0]!.argv), podSpecOf(sidecarPod({}))!), [/a sidecar in --mode=once/]);
  const plainInit = invocationsOf({ where: 'negative', doc: sidecarPod({ restartPolicy: undefined }) });
  t.equal(plainInit[0]?.role, 'init', 'without restartPolicy: Always it is a plain init container');
  t.match(ruleViolations(plainInit[0]!, await agentOptions(plainInit[0]!.argv), podSpecOf(sidecarPod({}))!), [/the app never starts/]);
});
