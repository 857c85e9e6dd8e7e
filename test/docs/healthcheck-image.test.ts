// The README's Docker HEALTHCHECK recipe, built and run with Podman as the README says: its Dockerfile lines on
// top of the test image (scripts/build-test-images.sh, which holds what dist/healthcheck links), built with
// `--format docker`, which keeps the HEALTHCHECK (an OCI build drops it), and run with no network but loopback.
// Its Docker twin, where LIFEGUARD_TEST_DOCKER_SOCKET names a Docker Engine: `docker build`, `docker run`, and
// the engine's own verdict, `healthy`.
// Needs root, the engine's CLI, the test image and dist/healthcheck (npm run build:binary); skips with the reason
// otherwise.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINARY = join(ROOT, 'dist', 'healthcheck');
const BASE = process.env['LIFEGUARD_TEST_IMAGE'] ?? 'localhost/lifeguard-test:latest';
const env = { ...process.env, CONTAINERS_CONF: join(ROOT, 'test', 'containers', 'containers.conf') };
const exec = promisify(execFile);
const podman = (...args: string[]) => exec('podman', args, { env, timeout: 120_000 });

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root (the tests use root podman)';
  if (!existsSync(BINARY)) return 'needs dist/healthcheck (npm run build:binary)';
  try {
    await podman('image', 'exists', BASE);
  } catch {
    return `needs podman and ${BASE} (scripts/build-test-images.sh)`;
  }
  return false;
}

/** The recipe's Dockerfile lines, from the README. */
function recipe(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('**Docker `HEALTHCHECK`.**');
  const match = /```dockerfile\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || match === null) throw new Error('README.md has no Docker HEALTHCHECK recipe');
  return match[1]!;
}

/** The build context: the executable and a Dockerfile of the recipe on the test image; the tag and name to use. */
function buildContext(t: Test): { dir: string; tag: string; name: string } {
  const dir = t.testdir();
  copyFileSync(BINARY, join(dir, 'healthcheck'));
  // The test image's app serves /health on $PORT.
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${BASE}\nENV PORT=8080\n${recipe()}`);
  return { dir, tag: `localhost/lifeguard-readme-healthcheck:${process.pid}`, name: `lifeguard-readme-healthcheck-${process.pid}` };
}

t.test('the README HEALTHCHECK recipe, built with podman build --format docker', { skip: await skipReason() }, async (t) => {
  const { dir, tag, name } = buildContext(t);
  t.teardown(async () => {
    await podman('rm', '-f', '-t', '0', name).catch(() => {});
    await podman('rmi', '-f', tag, `${tag}-oci`).catch(() => {});
  });

  await podman('build', '-q', '--format', 'docker', '-t', tag, dir);
  const [inspected] = JSON.parse((await podman('image', 'inspect', tag)).stdout);
  t.match(inspected.Healthcheck?.Test, ['CMD', '/usr/local/bin/healthcheck', '--mode=once'], 'the image keeps its HEALTHCHECK');
  const oci = await podman('build', '-q', '-t', `${tag}-oci`, dir);
  t.match(oci.stderr, /HEALTHCHECK is not supported for OCI image format/, 'without --format docker it is dropped');

  await podman('run', '-d', '--network', 'none', '--name', name, tag);
  let verdict = '';
  for (let attempt = 0; attempt < 50 && verdict !== 'healthy'; attempt++) {
    // Exit 0 when the check passed (Podman prints nothing then).
    verdict = await podman('healthcheck', 'run', name).then(() => 'healthy', () => 'unhealthy');
    if (verdict !== 'healthy') await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.equal(verdict, 'healthy', 'podman healthcheck run: the agent in the image passed');
});

const SOCKET = process.env.LIFEGUARD_TEST_DOCKER_SOCKET;
const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${SOCKET}`, DOCKER_BUILDKIT: '0' };
const docker = (...args: string[]) => exec('docker', args, { env: dockerEnv, timeout: 120_000 });

async function noDocker(): Promise<string | false> {
  if (SOCKET === undefined) return 'set LIFEGUARD_TEST_DOCKER_SOCKET to a Docker Engine socket';
  if (!existsSync(BINARY)) return 'needs dist/healthcheck (npm run build:binary)';
  try {
    const { stdout } = await docker('version', '--format', '{{json .Server.Components}}');
    if (/Podman/.test(stdout)) return `the engine on ${SOCKET} is Podman (the test above is its)`;
    await docker('image', 'inspect', BASE);
  } catch {
    return `needs the docker CLI, a Docker Engine on ${SOCKET} and ${BASE} in it (scripts/build-test-images.sh docker)`;
  }
  return false;
}

t.test('the README HEALTHCHECK recipe, built with docker build, judged healthy by the engine', { skip: await noDocker() }, async (t) => {
  const { dir, tag, name } = buildContext(t);
  t.teardown(async () => {
    await docker('rm', '-f', name).catch(() => {});
    await docker('rmi', '-f', tag).catch(() => {});
  });
  await docker('build', '-q', '-t', tag, dir);
  const [inspected] = JSON.parse((await docker('image', 'inspect', tag)).stdout);
  t.match(inspected.Config?.Healthcheck?.Test, ['CMD', '/usr/local/bin/healthcheck', '--mode=once'], 'the image keeps its HEALTHCHECK');
  await docker('run', '-d', '--network', 'none', '--name', name, tag);
  let status = '';
  // The first HEALTHCHECK runs after its 10s interval.
  for (let attempt = 0; attempt < 150 && status !== 'healthy'; attempt++) {
    status = (await docker('inspect', '--format', '{{.State.Health.Status}}', name)).stdout.trim();
    if (status !== 'healthy') await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.equal(status, 'healthy', 'Docker ran the agent in the image, and it passed');
});
