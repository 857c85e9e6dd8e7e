// docs/kubernetes.md must not rot. Every ```yaml block on the page is parsed, and every document in it is
// (1) validated against the Kubernetes API schema bundled in kubernetes-models, the Kubernetes 1.33 API:
//     Lifecycle.stopSignal (1.33) is in it, PodSpec.hostnameOverride (1.34) is not. That schema ignores unknown
//     properties, so each document is also
// (2) type-checked against kubernetes-models' TypeScript interfaces, whose excess-property check catches a
//     misspelt field. Every `healthcheck` command line in the manifests must also
// (3) parse with the agent's own argument parser (with `$(POD_IP)` expanded as the kubelet expands it, to an IPv4
//     and to an IPv6 pod address), and follow the page's rules: `--mode=once` with a per-check timeout clearly
//     below the probe's timeoutSeconds in exec probes, `--mode=lifecycle` (or liveness) in a native sidecar, and the agent's
//     directory mounted from a volume of the pod, or the container running the carrier image itself.
// Every pod must also (4) pass the "restricted" Pod Security level and set every container's resources.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type Manifest, manifestsOf, type Obj } from './page-manifests.js';
import { Model } from '@kubernetes-models/base';
import { ConfigMap, Pod, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import type { AgentOptions } from '../../src/engine/types.js';
import { parseNativeArgs } from '../../src/cli/healthcheck.js';
import { getenvOf } from '../helpers/getenv.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = join(ROOT, 'docs', 'kubernetes.md');
const AGENT_PATH = '/etc/cf-assets/healthcheck/healthcheck';
/** The carrier image (scripts/build-carrier-image.sh), as the page names it once pushed: the agent's directory alone. */
const CARRIER = 'registry.example.com/lifeguard/healthcheck:0.1.0';
/** Pod addresses the downward API may give (status.podIP): the agent must take both families. */
const POD_IPS = ['10.244.1.7', 'fd00:10:244::7'] as const;
/** What an exec probe needs beyond the agent's own timeout: process start on a busy node. */
const PROBE_HEADROOM_MS = 500;

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

/**
 * An invocation's argv with `$(VAR)` expanded as the kubelet does: in a container's command and args, from the
 * container's env, downward-API `status.podIP` included; in an exec probe's command, from literal values only
 * (kubernetes/kubernetes#42273), so a `$(POD_IP)` there would reach the agent as is. Returns what cannot expand.
 */
function expand(invocation: Invocation, podIP: string): { argv: string[]; wrong: string[] } {
  const env = (invocation.container['env'] ?? []) as Obj[];
  const wrong: string[] = [];
  const argv = invocation.argv.map((arg) =>
    arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
      const variable = env.find((e) => e['name'] === name);
      if (variable?.['value'] !== undefined) return String(variable['value']);
      if (invocation.probe === undefined && variable?.['valueFrom']?.fieldRef?.fieldPath === 'status.podIP') return podIP;
      wrong.push(
        invocation.probe === undefined
          ? `${whole}: not a literal or status.podIP variable of the container`
          : `${whole} in an exec probe: the kubelet expands only literal env values there`,
      );
      return whole;
    }),
  );
  return { argv, wrong };
}

/** What the agent makes of an invocation's arguments; throws the agent's own usage error. */
async function agentOptions(argv: readonly string[]): Promise<AgentOptions> {
  const parsed = await parseNativeArgs(argv.slice(1), getenvOf());
  if (parsed.kind !== 'run') throw new Error(`${argv.join(' ')}: ${parsed.kind === 'print' ? 'prints' : 'checks a ready file'} instead of running`);
  return parsed.options;
}

/** The ready file an invocation writes (`--ready-file` of a lifecycle agent) or checks (`--mode=is-ready`). */
async function readyFileOf(argv: readonly string[]): Promise<{ file: string; checks: boolean } | undefined> {
  const parsed = await parseNativeArgs(argv.slice(1), getenvOf());
  if (parsed.kind === 'is-ready') return { file: parsed.readyFile, checks: true };
  return parsed.kind === 'run' && parsed.readyFile !== undefined ? { file: parsed.readyFile, checks: false } : undefined;
}

/**
 * A ready file must live on an emptyDir the container mounts (its root is read-only, and the file must outlive no
 * pod); a probe checking one must be in the container whose own agent writes it (the probe runs there).
 */
async function readyFileViolations(invocation: Invocation, spec: Obj): Promise<string[]> {
  const ready = await readyFileOf(invocation.argv);
  if (ready === undefined) return [];
  const wrong: string[] = [];
  const mount = ((invocation.container['volumeMounts'] ?? []) as Obj[]).find((m) => m['mountPath'] === posix.dirname(ready.file));
  const volume = ((spec['volumes'] ?? []) as Obj[]).find((v) => v['name'] === mount?.['name']);
  if (volume?.['emptyDir'] === undefined || mount?.['readOnly'] === true) wrong.push(`${ready.file} is not on a writable emptyDir mounted at ${posix.dirname(ready.file)}`);
  if (ready.checks) {
    const own = [...(invocation.container['command'] ?? []), ...(invocation.container['args'] ?? [])] as string[];
    const { probe: _, ...container } = invocation;
    const written = isAgent(own[0]) ? await readyFileOf(expand({ ...container, argv: own }, POD_IPS[0]).argv) : undefined;
    if (invocation.probe === undefined) wrong.push('--mode=is-ready outside a probe');
    if (written?.checks !== false || written.file !== ready.file) wrong.push(`${ready.file} is not written by this container's own agent`);
  }
  return wrong;
}

/** The page's rules for an invocation, beyond parsing; returns what is wrong (empty when nothing). */
function ruleViolations(invocation: Invocation, options: AgentOptions, spec: Obj): string[] {
  const wrong: string[] = [];
  const [path] = invocation.argv;
  if (path !== AGENT_PATH) wrong.push(`runs ${path}, not ${AGENT_PATH}`);
  // The carrier image holds the agent's directory itself; any other image needs it mounted from a volume.
  const mount = ((invocation.container['volumeMounts'] ?? []) as Obj[]).find((m) => m['mountPath'] === posix.dirname(path!));
  if (invocation.container['image'] === CARRIER && invocation.probe === undefined) {
    if (mount !== undefined) wrong.push(`the carrier image's own ${posix.dirname(path!)} is hidden by a volume`);
  } else if (mount === undefined) wrong.push(`no volume mounted at ${posix.dirname(path!)}`);
  else if (!((spec['volumes'] ?? []) as Obj[]).some((v) => v['name'] === mount['name'])) wrong.push(`mounts undefined volume ${mount['name']}`);

  // A sidecar must run for the pod's life: lifecycle (readiness, then liveness) or liveness.
  if (invocation.role === 'sidecar' && options.mode !== 'lifecycle' && options.mode !== 'liveness') {
    wrong.push(`a sidecar in --mode=${options.mode}, not lifecycle or liveness`);
  }
  if (invocation.role === 'init' && (options.mode === 'liveness' || options.mode === 'lifecycle')) {
    wrong.push(`a ${options.mode} agent in a plain init container: the app never starts`);
  }
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

/** Volume sources the "restricted" level allows (pod-security-admission's restrictedVolumes check, 1.33). */
const RESTRICTED_VOLUMES: ReadonlySet<string> = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret',
]);

/**
 * The "restricted" Pod Security level (which includes "baseline"), as Pod Security Admission enforces it; returns
 * what is wrong. A container's own securityContext wins over the pod's, as the kubelet applies them.
 */
function restrictedViolations(doc: Obj): string[] {
  const spec = podSpecOf(doc);
  if (spec === undefined) return [];
  const wrong: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[field] === true) wrong.push(`${field}: true`);
  for (const volume of (spec['volumes'] ?? []) as Obj[]) {
    const kind = Object.keys(volume).find((key) => key !== 'name');
    if (kind === undefined || !RESTRICTED_VOLUMES.has(kind)) wrong.push(`volume ${volume['name']}: ${kind} is not allowed`);
  }
  const pod = (spec['securityContext'] ?? {}) as Obj;
  if (pod['runAsUser'] === 0) wrong.push('the pod runs as uid 0');
  const containers = ['initContainers', 'containers', 'ephemeralContainers'].flatMap((key) => (spec[key] ?? []) as Obj[]);
  for (const c of containers) {
    const own = (c['securityContext'] ?? {}) as Obj;
    const name = `container ${c['name']}`;
    if (own['privileged'] === true) wrong.push(`${name}: privileged`);
    if (own['allowPrivilegeEscalation'] !== false) wrong.push(`${name}: allowPrivilegeEscalation is not false`);
    const capabilities = (own['capabilities'] ?? {}) as Obj;
    if (!((capabilities['drop'] ?? []) as string[]).includes('ALL')) wrong.push(`${name}: capabilities do not drop ALL`);
    const added = ((capabilities['add'] ?? []) as string[]).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) wrong.push(`${name}: adds capabilities ${added.join(', ')}`);
    if ((own['runAsNonRoot'] ?? pod['runAsNonRoot']) !== true) wrong.push(`${name}: runAsNonRoot is not true`);
    if (own['runAsUser'] === 0) wrong.push(`${name}: runs as uid 0`);
    const seccomp = ((own['seccompProfile'] ?? pod['seccompProfile']) as Obj | undefined)?.['type'];
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') wrong.push(`${name}: seccompProfile is ${seccomp ?? 'unset'}, not RuntimeDefault`);
    for (const port of (c['ports'] ?? []) as Obj[]) if (port['hostPort']) wrong.push(`${name}: hostPort ${port['hostPort']}`);
  }
  return wrong;
}

/** Every container states what it needs: CPU and memory requests, and a memory limit. */
function resourceViolations(doc: Obj): string[] {
  const spec = podSpecOf(doc);
  if (spec === undefined) return [];
  const wrong: string[] = [];
  for (const c of ['initContainers', 'containers'].flatMap((key) => (spec[key] ?? []) as Obj[])) {
    const resources = (c['resources'] ?? {}) as Obj;
    for (const [kind, name] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']] as const) {
      if (resources[kind]?.[name] === undefined) wrong.push(`container ${c['name']}: no resources.${kind}.${name}`);
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
  t.ok(volumes.some((v) => v['image']?.reference === CARRIER), 'the carrier image as an image volume');
  const sidecars = manifests.flatMap(invocationsOf).filter((i) => i.role === 'sidecar');
  t.ok(sidecars.some((i) => i.container['image'] === CARRIER), 'a sidecar running the carrier image itself');
  t.ok(sidecars.some((i) => i.argv.includes('$(POD_IP)')), "a sidecar given the pod's address, for IPv6-only pods");
  const readyProbes = manifests.flatMap(invocationsOf).filter((i) => i.role === 'readinessProbe' && i.argv.includes('--mode=is-ready'));
  t.ok(readyProbes.some((i) => i.container['image'] === CARRIER), "a sidecar's readiness probe checking its own ready file");
});

t.test('every pod passes the "restricted" Pod Security level and sets its resources', async (t) => {
  const pods = manifests.filter(({ doc }) => podSpecOf(doc) !== undefined);
  t.ok(pods.length >= 3, `${pods.length} pods`);
  for (const { where, doc } of pods) {
    t.same(restrictedViolations(doc), [], `${where}: ${doc['kind']} ${doc['metadata']?.name} is restricted`);
    t.same(resourceViolations(doc), [], `${where}: every container sets its resources`);
  }
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
    for (const podIP of POD_IPS) {
      const { argv, wrong } = expand(i, podIP);
      t.same(wrong, [], `${i.where}: every $(VAR) expands`);
      let options: AgentOptions | undefined;
      try {
        const ready = await readyFileViolations({ ...i, argv }, spec);
        t.same(ready, [], `${i.where}: the ready file`);
        if ((await readyFileOf(argv))?.checks === true) continue;
        options = await agentOptions(argv);
      } catch (thrown) {
        t.fail(`${i.where}: ${(thrown as Error).message}`);
        continue;
      }
      t.same(ruleViolations(i, options, spec), [], `${i.where}: ${argv.slice(1).join(' ')}`);
    }
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
        volumeMounts: [{ name: 'lifeguard', mountPath: '/etc/cf-assets/healthcheck' }],
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
      volumeMounts: [{ name: 'lifeguard', mountPath: '/etc/cf-assets/healthcheck' }],
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
  t.match(await violations(probe(['/usr/local/bin/healthcheck', '--mode=once'], 3)), [/not \/etc\/cf-assets\/healthcheck\/healthcheck/, /no volume mounted at \/usr\/local\/bin/]);

  const readyPod = (file: string, checked: string): Manifest => ({
    where: 'negative',
    doc: sidecarPod({
      image: CARRIER,
      command: [AGENT_PATH, '--mode=lifecycle', '--ready-file', file],
      volumeMounts: [{ name: 'state', mountPath: '/run/healthcheck' }],
      readinessProbe: { exec: { command: [AGENT_PATH, '--mode=is-ready', '--ready-file', checked] } },
    }),
  });
  const readyViolations = async (manifest: Manifest, volume: Obj) => {
    const spec = { ...podSpecOf(manifest.doc)!, volumes: [{ name: 'state', ...volume }] };
    return (await Promise.all(invocationsOf(manifest).map((i) => readyFileViolations(i, spec)))).flat();
  };
  const file = '/run/healthcheck/ready';
  t.same(await readyViolations(readyPod(file, file), { emptyDir: {} }), [], 'the good case');
  t.match(await readyViolations(readyPod(file, file), { configMap: { name: 'x' } }), [/not on a writable emptyDir/, /not on a writable emptyDir/]);
  t.match(await readyViolations(readyPod(file, '/run/healthcheck/other'), { emptyDir: {} }), [/other is not written by this container's own agent/]);
  t.match(await readyViolations(readyPod('/tmp/ready', '/tmp/ready'), { emptyDir: {} }), [/not on a writable emptyDir mounted at \/tmp/, /not on a writable emptyDir mounted at \/tmp/]);

  const sidecar = invocationsOf({ where: 'negative', doc: sidecarPod({ command: [AGENT_PATH, '--mode=once'] }) });
  t.equal(sidecar[0]?.role, 'sidecar');
  t.match(ruleViolations(sidecar[0]!, await agentOptions(sidecar[0]!.argv), podSpecOf(sidecarPod({}))!), [/a sidecar in --mode=once, not lifecycle or liveness/]);
  const plainInit = invocationsOf({ where: 'negative', doc: sidecarPod({ restartPolicy: undefined }) });
  t.equal(plainInit[0]?.role, 'init', 'without restartPolicy: Always it is a plain init container');
  t.match(ruleViolations(plainInit[0]!, await agentOptions(plainInit[0]!.argv), podSpecOf(sidecarPod({}))!), [/the app never starts/]);
});

/** A pod that passes the restricted level and sets its resources, to break one field at a time. */
function restrictedPod(): Obj {
  const container = (name: string) => ({
    name,
    image: CARRIER,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'restricted' },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'v', emptyDir: {} }],
      initContainers: [container('init')],
      containers: [container('app')],
    },
  };
}

t.test('each restricted-level rule and the resources rule can fail', async (t) => {
  t.same(restrictedViolations(restrictedPod()), [], 'the good case');
  t.same(resourceViolations(restrictedPod()), []);
  const broken = (change: (spec: Obj) => void): string[] => {
    const pod = restrictedPod();
    change(pod['spec']);
    return restrictedViolations(pod);
  };
  t.match(broken((s) => delete s['securityContext'].runAsNonRoot), [/init: runAsNonRoot is not true/, /app: runAsNonRoot is not true/]);
  t.match(broken((s) => (s['containers'][0].securityContext.runAsNonRoot = false)), [/app: runAsNonRoot is not true/], 'a container overrides the pod');
  t.match(broken((s) => (s['securityContext'].runAsUser = 0)), [/the pod runs as uid 0/]);
  t.match(broken((s) => delete s['initContainers'][0].securityContext.allowPrivilegeEscalation), [/init: allowPrivilegeEscalation is not false/]);
  t.match(broken((s) => (s['containers'][0].securityContext.capabilities = { drop: ['NET_RAW'] })), [/app: capabilities do not drop ALL/]);
  t.match(broken((s) => (s['containers'][0].securityContext.capabilities.add = ['SYS_ADMIN'])), [/app: adds capabilities SYS_ADMIN/]);
  t.same(broken((s) => (s['containers'][0].securityContext.capabilities.add = ['NET_BIND_SERVICE'])), [], 'NET_BIND_SERVICE is allowed');
  t.match(broken((s) => delete s['securityContext'].seccompProfile), [/init: seccompProfile is unset/, /app: seccompProfile is unset/]);
  t.match(broken((s) => (s['containers'][0].securityContext.seccompProfile = { type: 'Unconfined' })), [/app: seccompProfile is Unconfined/]);
  t.match(broken((s) => (s['volumes'] = [{ name: 'host', hostPath: { path: '/' } }])), [/volume host: hostPath is not allowed/]);
  t.match(broken((s) => (s['hostNetwork'] = true)), [/hostNetwork: true/]);
  t.match(broken((s) => (s['containers'][0].securityContext.privileged = true)), [/app: privileged/]);
  t.match(broken((s) => (s['containers'][0].ports = [{ containerPort: 80, hostPort: 80 }])), [/app: hostPort 80/]);
  const noLimit = restrictedPod();
  delete noLimit['spec'].containers[0].resources.limits;
  t.match(resourceViolations(noLimit), [/app: no resources.limits.memory/]);
});

t.test("$(VAR) expands as the kubelet expands it: status.podIP in a container's args, never in an exec probe", async (t) => {
  const env = [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'PORT', value: '8080' },
  ];
  const doc = sidecarPod(
    { image: CARRIER, volumeMounts: undefined, env, command: [AGENT_PATH, '--mode=liveness', '--host', '$(POD_IP)', '--port', '$(PORT)'] },
    { env, volumeMounts: [{ name: 'lifeguard', mountPath: '/etc/cf-assets/healthcheck' }],
      livenessProbe: { exec: { command: [AGENT_PATH, '--mode=once', '--host', '$(POD_IP)'] }, timeoutSeconds: 3 } },
  );
  const [sidecar, probe] = invocationsOf({ where: 'negative', doc });
  t.same(expand(sidecar!, 'fd00::7'), { argv: [AGENT_PATH, '--mode=liveness', '--host', 'fd00::7', '--port', '8080'], wrong: [] });
  t.same(ruleViolations(sidecar!, await agentOptions(expand(sidecar!, 'fd00::7').argv), podSpecOf(doc)!), [], 'the carrier needs no mount');
  t.match(expand(probe!, 'fd00::7').wrong, [/\$\(POD_IP\) in an exec probe/]);
  t.match(expand({ ...sidecar!, argv: [AGENT_PATH, '--host', '$(NODE_IP)'] }, 'fd00::7').wrong, [/\$\(NODE_IP\): not a literal or status.podIP/]);
});
