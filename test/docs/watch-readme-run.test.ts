// README's `lifeguard watch` try-out, run as written on the engine LIFEGUARD_TEST_DOCKER_SOCKET names: the
// Podman block on Podman, the Docker block on Docker. Only what would collide with other tests is made the test's
// own: the container's name, the socket (the service is .ci/run's, so its start line is not run), the image build
// (.ci/run has built it), and a label of the test's own, so that the watch never touches another test's container.
// The sick container must be restarted.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import t from 'tap';
import { ROOT } from '../supervisor/harness.js';

const SOCKET = process.env.LIFEGUARD_TEST_DOCKER_SOCKET;
const engine = SOCKET === undefined ? undefined : await new Docker({ socketPath: SOCKET }).version().catch(() => undefined);
const cli = engine?.Components?.some((c) => c.Name === 'Podman Engine') === true ? 'podman' : 'docker';
const onPath = (program: string) => (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, program)));
const skip = SOCKET === undefined ? 'set LIFEGUARD_TEST_DOCKER_SOCKET to a Docker API socket' : engine === undefined ? `no engine answers on ${SOCKET}` : !onPath(cli) ? `no ${cli} CLI` : false;

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const start = readme.indexOf('## Watching containers lifeguard did not start');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
/** The try-out's block for this engine: the sh block whose lines start with its CLI. */
const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((text) => text.split('\n').some((line) => line.startsWith(`${cli} run `)));

t.test(`README's watch try-out, the ${cli} block, as written`, { skip }, async (t) => {
  t.ok(block, `the README has a ${cli} block`);
  const name = `lgdoc-${randomBytes(3).toString('hex')}`;
  const env = { ...process.env, DOCKER_HOST: `unix://${SOCKET}`, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? join(ROOT, 'test/containers/containers.conf') };
  const own = (line: string) => line.replace(/#.*/, '').trim().replace(/--name web\b/, `--name ${name}`).replace(/ web /, ` ${name} `).replace('/tmp/podman.sock', SOCKET as string);
  const lines = (block as string).split('\n').map(own).filter(Boolean);
  const argv = (line: string) => line.split(/\s+/);
  const runLine = lines.find((line) => line.startsWith(`${cli} run `)) as string;
  const watchLine = lines.find((line) => / watch /.test(line)) as string;
  const sickLine = lines.find((line) => line.startsWith(`${cli} exec `)) as string;
  t.ok(runLine && watchLine && sickLine, 'a run, a watch and an exec line');
  t.teardown(() => {
    try {
      execFileSync(cli, ['rm', '-f', name], { env, stdio: 'ignore' });
    } catch {
      // never made
    }
  });
  const mine = `lifeguard-doc=${name}`;
  const [program, ...args] = argv(runLine.replace(' localhost/', ` --label ${mine} localhost/`));
  execFileSync(program as string, args, { env, stdio: 'ignore' });
  const [node, ...watchArgs] = argv(watchLine);
  t.equal(node, 'node');
  // Only the container this test made (a flag given twice: the last wins).
  const watch = spawn(process.execPath, [...watchArgs, '--label', mine], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    watch.kill('SIGTERM');
  });
  const seen: string[] = [];
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const found = seen.find((line) => pattern.test(line));
      if (found !== undefined) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs}ms; saw:\n${seen.join('\n')}`)), timeoutMs);
      const look = (line: string) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        out.off('line', look);
        resolve(line);
      };
      out.on('line', look);
    });
  const out = createInterface({ input: watch.stdout });
  out.on('line', (line) => seen.push(line));
  await waitFor(new RegExp(`^\\S+ INFO  ${name} starting -> healthy: Container became healthy$`), 30_000);
  const [execProgram, ...execArgs] = argv(sickLine);
  execFileSync(execProgram as string, execArgs, { env, stdio: 'ignore' });
  t.match(await waitFor(new RegExp(`^\\S+ WARN  ${name} healthy -> unhealthy: `), 30_000), /received status code 404/);
  await waitFor(new RegExp(`^\\S+ INFO  ${name} unhealthy -> restarting: Restarting container \\(restart 1 of 200\\)`), 30_000);
  await waitFor(new RegExp(`^\\S+ INFO  ${name} restarting -> starting: Restarted container`), 30_000);
  t.pass('the sick container was restarted, as the README shows');
});
