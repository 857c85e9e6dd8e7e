// A log reader that stopped reading but keeps its end of the pipe open must not keep lifeguard alive: its last
// words have a deadline (FLUSH_DEADLINE_MS in src/cli/lifeguard-main.ts), after which it exits with its code
// anyway. The pipe is a real FIFO, filled to capacity before lifeguard starts and never read, so that every line
// lifeguard writes stays queued in it.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { getJson } from '../helpers/http-get.js';
import { fifo } from '../helpers/fifo.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp-dir.js';
import { isRunning } from '../../src/supervisor/host/state-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin/lifeguard.js');
/** The flush deadline, a stop of apps that go at SIGTERM, and a loaded machine's start of node. */
const EXIT_WITHIN_MS = 15_000;

function exited(child: ChildProcess, t: Test): Promise<{ code: number | null; ms: number }> {
  const began = performance.now();
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS + 5000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - began });
    });
  });
}

t.test('lifeguard run, stdout a full pipe: SIGTERM stops the apps and it exits 0 within its deadline', async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const app = { name: 'web', command: [process.execPath, join(ROOT, 'examples/app.mjs')], env: { DEMO_READY_MS: '100' }, instances: 2, probe: 'native', startupInterval: '200ms', gracePeriod: '5s', checks: [{ http_check: { port: 8080, path: '/health' } }] };
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ apps: [app], http: { listen: `127.0.0.1:${port}` }, stateDir: join(dir, 'state') }));
  const pipe = fifo(t, dir, 'log.fifo', { full: true });
  const run = spawn(process.execPath, [CLI, 'run', config], { stdio: ['ignore', pipe.fd, 'inherit'] });
  const ended = exited(run, t);

  type Status = { apps: { instances: { state: string; pid: number | null }[] }[] };
  let pids: number[] = [];
  for (let i = 0; i < 200 && pids.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const status = await getJson<Status>(port, '/status').catch(() => undefined);
    const healthy = status?.apps[0]?.instances.filter((x) => x.state === 'healthy' && x.pid !== null) ?? [];
    pids = healthy.map((x) => x.pid as number);
  }
  t.equal(pids.length, 2, 'both instances became healthy, the log unread');
  run.kill('SIGTERM');
  const { code, ms } = await ended;
  t.equal(code, 0, 'the exit code of a clean stop');
  t.ok(ms < EXIT_WITHIN_MS, `exited ${Math.round(ms)}ms after SIGTERM`);
  t.same(pids.filter(isRunning), [], 'its apps are gone');
  t.equal(pipe.unread(), '', 'not a line got through: the reader never read');
});

t.test('lifeguard watch, stderr a full pipe: its one-line error still ends in exit 2', async (t) => {
  const dir = t.testdir();
  const pipe = fifo(t, dir, 'log.fifo', { full: true });
  const watch = spawn(process.execPath, [CLI, 'watch', '--socket', join(tempDir(t), 'no.sock')], { stdio: ['ignore', 'ignore', pipe.fd] });
  const { code, ms } = await exited(watch, t);
  t.equal(code, 2, 'an unreachable engine is a usage error, as in run');
  t.ok(ms < EXIT_WITHIN_MS, `exited after ${Math.round(ms)}ms`);
});

t.test('lifeguard --version, stdout a full pipe: exit 0', async (t) => {
  const pipe = fifo(t, t.testdir(), 'log.fifo', { full: true });
  const { code, ms } = await exited(spawn(process.execPath, [CLI, '--version'], { stdio: ['ignore', pipe.fd, 'ignore'] }), t);
  t.equal(code, 0);
  t.ok(ms < EXIT_WITHIN_MS, `exited after ${Math.round(ms)}ms`);
});
