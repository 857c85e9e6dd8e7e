// docs/kubernetes.md's manifests, played by `podman kube play` (Podman 4.3, the nearest Pod implementation on this
// machine), each as the page writes it except for these substitutes, for what Podman does not implement or what
// only a cluster has:
//   - images: the carrier image built by scripts/build-carrier-image.sh under a tag of this test's own, the
//     installer built from the page's Dockerfile on the test image (busybox too, no registry), and the test image
//     (scripts/build-test-images.sh) as every app, given PORT=8080;
//   - status.podIP (the downward API): POD_IP is the literal 127.0.0.1 (the app listens on every address), and
//     `$(POD_IP)` in the sidecar's args is expanded by the test, as the kubelet does (Podman 4.3 passes it as is);
//   - native sidecar (an init container with restartPolicy: Always): played as a regular container beside the app;
//   - image volumes: a read-only hostPath of dist/cf-assets/healthcheck, the directory the carrier holds;
//   - the kubelet's probe loop: Podman runs no readiness probe and, without systemd, no timer for the others, so the
//     test runs each exec probe's command in its container (`podman exec`), as the kubelet does;
//   - containerPort: left out, since Podman 4.3 publishes it on the host's port (two pods would collide, and the
//     test talks to no host address); the app's httpGet probes, which name that port, go with it (the kubelet's);
//   - a pod with a regular init container: its restartPolicy is OnFailure, and the init container is of Podman's
//     "always" type, because Podman 4.3 removes a "once" init container in a race with its exit (failing the play)
//     and gives an "always" one the pod's restart policy: under Always it ran the installer's `cp` again and again
//     (170 restarts in 40 s, seen), rewriting the agent while probes ran it (exit 135, SIGBUS; "text file busy");
//   - a Deployment plays one replica, under a name unique to this test process.
// Untested here: native-sidecar ordering and restarts, the downward API, image volumes, kubelet probe handling and
// events, admission (Pod Security). Needs root, podman, the test image and dist/cf-assets (npm run build:binary).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { manifestsOf, type Obj } from './page-manifests.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = readFileSync(join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
const ASSETS = join(ROOT, 'dist', 'cf-assets', 'healthcheck');
const BASE = process.env['LIFEGUARD_TEST_IMAGE'] ?? 'localhost/lifeguard-test:latest';
const PAGE_CARRIER = 'registry.example.com/lifeguard/healthcheck:0.1.0';
const PAGE_INSTALLER = 'registry.example.com/lifeguard/healthcheck-installer:0.1.0';
const TAG = `lg-play-${process.pid}`;
const CARRIER = `localhost/lifeguard-healthcheck-play:${process.pid}`;
const INSTALLER = `localhost/lifeguard-healthcheck-installer-play:${process.pid}`;
const env = { ...process.env, CONTAINERS_CONF: join(ROOT, 'test', 'containers', 'containers.conf') };
const execFileP = promisify(execFile);
const podman = (...args: string[]) => execFileP('podman', args, { env, timeout: 120_000 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Exec { code: number; stdout: string }
/** A command in a running container, as an exec probe runs it: its exit code and what it printed. */
async function execIn(container: string, command: readonly string[]): Promise<Exec> {
  try {
    const { stdout } = await podman('exec', container, ...command);
    return { code: 0, stdout };
  } catch (thrown) {
    const { code, stdout } = thrown as { code: number; stdout: string };
    return { code, stdout };
  }
}

/** Polls until `done` holds, at most `tries` times a second apart (real containers keep real time). */
async function poll<T>(tries: number, get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await get();
  for (let i = 1; i < tries && !done(value); i++) {
    await sleep(1000);
    value = await get();
  }
  return value;
}

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root (the tests use root podman)';
  if (!existsSync(join(ASSETS, 'healthcheck'))) return 'needs dist/cf-assets/healthcheck (npm run build:binary)';
  try {
    await podman('image', 'exists', BASE);
  } catch {
    return `needs podman and ${BASE} (scripts/build-test-images.sh)`;
  }
  return false;
}

/** The page's manifest of this kind and name. */
function manifest(kind: string, name: string): Obj {
  const found = manifestsOf(PAGE, 'docs/kubernetes.md').find(({ doc }) => doc['kind'] === kind && doc['metadata']?.name === name);
  if (found === undefined) throw new Error(`docs/kubernetes.md has no ${kind} ${name}`);
  return structuredClone(found.doc);
}

/** The substitutes of the header, applied to a manifest; returns the pod's name as Podman will call it. */
function substitute(doc: Obj): string {
  doc['metadata'].name = `${doc['metadata'].name}-${TAG}`;
  const spec: Obj = doc['kind'] === 'Pod' ? doc['spec'] : doc['spec'].template.spec;
  if (doc['kind'] !== 'Pod') doc['spec'].replicas = 1;
  // See the header: an "always" init container (not "once", whose removal races with its exit), under OnFailure (not
  // Always, which Podman 4.3 applies to the init container too, running the installer again and again).
  if (spec['initContainers']?.some((c: Obj) => c['restartPolicy'] !== 'Always')) {
    doc['metadata'].annotations = { ...doc['metadata'].annotations, 'io.podman.annotations.init.container.type': 'always' };
    spec['restartPolicy'] = 'OnFailure';
  }
  const sidecars = ((spec['initContainers'] ?? []) as Obj[]).filter((c) => c['restartPolicy'] === 'Always');
  spec['initContainers'] = ((spec['initContainers'] ?? []) as Obj[]).filter((c) => !sidecars.includes(c));
  if (spec['initContainers'].length === 0) delete spec['initContainers'];
  for (const sidecar of sidecars) delete sidecar['restartPolicy'];
  spec['containers'] = [...sidecars, ...spec['containers']];
  for (const volume of (spec['volumes'] ?? []) as Obj[]) {
    if (volume['image']?.reference !== PAGE_CARRIER) continue;
    delete volume['image'];
    volume['hostPath'] = { path: ASSETS, type: 'Directory' };
  }
  for (const c of [...(spec['initContainers'] ?? []), ...spec['containers']] as Obj[]) {
    c['image'] = c['image'] === PAGE_CARRIER ? CARRIER : c['image'] === PAGE_INSTALLER ? INSTALLER : BASE;
    for (const mount of (c['volumeMounts'] ?? []) as Obj[]) if (mount['subPath'] === 'etc/cf-assets/healthcheck') delete mount['subPath'];
    for (const variable of (c['env'] ?? []) as Obj[]) {
      if (variable['valueFrom']?.fieldRef?.fieldPath === 'status.podIP') {
        delete variable['valueFrom'];
        variable['value'] = '127.0.0.1';
      }
    }
    // What the kubelet does to a container's command and args, and Podman 4.3 does not.
    const values = new Map(((c['env'] ?? []) as Obj[]).map((v) => [v['name'], v['value']]));
    for (const key of ['command', 'args']) {
      if (c[key] !== undefined) c[key] = (c[key] as string[]).map((arg) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => values.get(name) ?? whole));
    }
    if (c['image'] === BASE && c['command'] === undefined) c['env'] = [...(c['env'] ?? []), { name: 'PORT', value: '8080' }];
    delete c['ports'];
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) if (c[probe]?.httpGet !== undefined) delete c[probe];
  }
  return doc['kind'] === 'Pod' ? doc['metadata'].name : `${doc['metadata'].name}-pod-0`;
}

/** Plays a substituted manifest, and takes it down (with its pod) when the test ends. */
async function play(t: Test, doc: Obj): Promise<string> {
  const pod = substitute(doc);
  const file = join(t.testdir(), 'manifest.yaml');
  writeFileSync(file, stringify(doc));
  t.teardown(async () => {
    await podman('kube', 'down', file).catch(() => {});
    await podman('pod', 'rm', '-f', '-t', '0', pod).catch(() => {});
  });
  await podman('kube', 'play', file);
  return pod;
}

function probeOf(doc: Obj, container: string, probe: string): string[] {
  const spec: Obj = doc['kind'] === 'Pod' ? doc['spec'] : doc['spec'].template.spec;
  const found = [...(spec['initContainers'] ?? []), ...spec['containers']].find((c: Obj) => c['name'] === container);
  return found[probe].exec.command as string[];
}

const skip = await skipReason();

t.test('docs/kubernetes.md played by podman kube play', { skip }, async (t) => {
  const built = await execFileP(join(ROOT, 'scripts', 'build-carrier-image.sh'), [], { env: { ...env, LIFEGUARD_CARRIER_IMAGE: CARRIER }, timeout: 120_000 });
  t.match(built.stdout, `built ${CARRIER}`);
  t.teardown(() => podman('rmi', '-f', CARRIER, INSTALLER).then(() => undefined, () => undefined));

  t.test('section 1: the native sidecar is seen ready, then catches the failing app', async (t) => {
    const doc = manifest('Deployment', 'web');
    const pod = await play(t, doc);
    const [sidecar, app] = [`${pod}-healthcheck`, `${pod}-app`];
    const logs = () => podman('logs', sidecar).then(({ stdout }) => stdout);
    const ready = await poll(60, logs, (text) => text.includes('readiness passed after'));
    t.match(ready, /^readiness passed after \d+\.\d\ds: liveness checks every 10s from now on$/m, '--log-ready: the ready line in the log');
    const isReady = probeOf(doc, 'healthcheck', 'readinessProbe');
    t.same(await execIn(sidecar, isReady), { code: 0, stdout: '' }, "the sidecar's readiness probe passes in the shell-less, read-only carrier");
    t.same((await execIn(app, ['id', '-u'])).stdout.trim(), '65532', 'the app runs as the page\'s uid');
    await execIn(app, ['rm', '/www/health']);
    // --interval 10s, --failure-threshold 3: three failed rounds, 20-30s after the app turned unhealthy.
    const failed = await poll(60, logs, (text) => text.includes('liveness failed'));
    t.match(failed, /^liveness failed after [\d.]+s \(\d+ attempts\): 1 of 1 check failing\n.*received status code 404/m, 'the report of the liveness failure');
    // The pod's restartPolicy Always restarts the exited sidecar (the kubelet's part, here Podman's): the new agent
    // starts over in readiness and is not ready while the app is down. (A file left by a SIGKILLed agent, which the
    // new one removes at start, is test/cli/ready-file.test.ts's.)
    const restarted = await poll(30, () => execIn(sidecar, isReady), (r) => r.code === 1);
    t.same(restarted, { code: 1, stdout: 'not ready: /run/healthcheck/ready does not exist\n' }, 'the restarted sidecar is not ready while the app is down');
  });

  t.test('section 2: exec probes with the agent mounted where the image volume would be', async (t) => {
    const doc = manifest('Deployment', 'api');
    const pod = await play(t, doc);
    const api = `${pod}-api`;
    const startup = await poll(30, () => execIn(api, probeOf(doc, 'api', 'startupProbe')), (r) => r.code === 0);
    t.same(startup, { code: 0, stdout: '' }, 'the startup probe passes once the app is up');
    t.same(await execIn(api, probeOf(doc, 'api', 'livenessProbe')), { code: 0, stdout: '' }, 'liveness');
    const readiness = await execIn(api, probeOf(doc, 'api', 'readinessProbe'));
    t.equal(readiness.code, 0, 'readiness, on the pod IP (no --host)');
    t.match(JSON.parse(readiness.stdout), { passed: true, checks: [{ target: /^http:\/\/10\.\d+\.\d+\.\d+:8080\/health$/ }] });
    await execIn(api, ['rm', '/www/health']);
    const liveness = await execIn(api, probeOf(doc, 'api', 'livenessProbe'));
    t.equal(liveness.code, 6, 'the liveness probe fails with the status code');
    t.match(liveness.stdout, "failed to make HTTP request to '/health' on 127.0.0.1:8080: received status code 404");
  });

  t.test('section 2, variant: the agent copied into an emptyDir by the installer image', async (t) => {
    const dockerfile = /```dockerfile\n([\s\S]*?)```/.exec(PAGE)?.[1]?.replace(/^ +/gm, '');
    t.match(dockerfile, /^FROM busybox:[\d.]+\nCOPY --from=registry\.example\.com\/lifeguard\/healthcheck:0\.1\.0 /, "the page's installer Dockerfile, from the pushed carrier");
    const context = t.testdir({ Containerfile: dockerfile!.replace(/^FROM .*$/m, `FROM ${BASE}`).replace(PAGE_CARRIER, CARRIER) });
    await podman('build', '-q', '-t', INSTALLER, context);
    const doc = manifest('Pod', 'api-copy');
    const pod = await play(t, doc);
    const api = `${pod}-api`;
    const liveness = await poll(30, () => execIn(api, probeOf(doc, 'api', 'livenessProbe')), (r) => r.code === 0);
    t.same(liveness, { code: 0, stdout: '' }, 'the copied agent runs from the emptyDir and passes');
    t.same(await execIn(api, ['rm', '/www/health']), { code: 0, stdout: '' }, 'the app turns unhealthy');
    const failed = await execIn(api, probeOf(doc, 'api', 'livenessProbe'));
    t.equal(failed.code, 6, 'and the probe fails');
    t.match(failed.stdout, "failed to make HTTP request to '/health' on 127.0.0.1:8080: received status code 404");
  });
});
