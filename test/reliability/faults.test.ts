// Apps that fail in every way an app can fail, all under one supervisor CLI: each failure is one clear transition
// with its reason, each is replaced (or given up on) as the policy says, and the supervisor itself never falls over.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import t from 'tap';
import type { Transition } from '../../src/shared/transition.js';
import { fixtureApp, MARKER } from './apps.js';
import { auditLog } from '../helpers/log-audit.js';
import { runCli, stopCleanly } from './cli-supervisor.js';
import { tempDir } from '../helpers/temp-dir.js';

// A command that is not there is refused before anything starts (test/reliability/new-operator.test.ts); one
// that goes missing later is given up at once (test/supervisor/lifecycle.test.ts).
t.test('exits during start-up, readiness and liveness; SIGTERM ignored; a port taken', async (t) => {
  const run = randomUUID();
  // The port an app insists on, held here: the app's bind fails as it would behind any port conflict.
  const holder = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => holder.once('listening', resolve));
  t.teardown(() => holder.close());
  const taken = (holder.address() as { port: number }).port;
  const bindTaken = `require('node:net').createServer().listen(${taken}, '127.0.0.1'); setInterval(() => {}, 1e9)`;

  const apps = [
    fixtureApp('exit-at-start', run, { command: [process.execPath, '-e', 'process.exit(3)'] }),
    fixtureApp('exit-in-readiness', run, { env: { READY_AFTER_MS: '10000', CRASH_AFTER_MS: '500', CRASH_CODE: '4' } }),
    fixtureApp('exit-in-liveness', run, { env: { CRASH_AFTER_MS: '1500', CRASH_CODE: '5' } }),
    fixtureApp('ignores-sigterm', run, { env: { IGNORE_SIGTERM: '1', UNHEALTHY_AFTER_MS: '300' } }),
    fixtureApp('port-taken', run, { command: [process.execPath, '-e', bindTaken] }),
  ];
  const cli = await runCli(t, tempDir(t), apps);
  const seen = (app: string, match: (t: Transition) => boolean) => (all: readonly Transition[]) => all.some((x) => x.app === app && match(x));
  const expectations: [string, string, (t: Transition) => boolean][] = [
    ['exit-at-start', 'crashed: exited with code 3', (x) => x.to === 'crashed' && x.reason === 'exited with code 3'],
    ['exit-in-readiness', 'crashed while starting: code 4', (x) => x.from === 'starting' && x.to === 'crashed' && x.reason === 'exited with code 4'],
    ['exit-in-liveness', 'crashed while healthy: code 5', (x) => x.from === 'healthy' && x.to === 'crashed' && x.reason === 'exited with code 5'],
    ['ignores-sigterm', 'unhealthy', (x) => x.to === 'unhealthy'],
    ['ignores-sigterm', 'killed after the grace period', (x) => x.to === 'destroyed' && x.reason === 'still running 300ms after SIGTERM: killed'],
    // Node's report of the uncaught EADDRINUSE ends the reason, from the app's stderr, its error line first.
    ['port-taken', 'crashed: its bind failed (exit 1)', (x) => x.to === 'crashed' && x.reason?.startsWith('exited with code 1; stderr: Error: listen EADDRINUSE') === true],
  ];
  for (const [app, what, match] of expectations) {
    await cli.until(seen(app, match));
    t.pass(`${app}: ${what}`);
  }
  // Each failure is replaced: the policy's restarts show up as reschedules of every failing app.
  for (const app of ['exit-at-start', 'exit-in-readiness', 'exit-in-liveness', 'port-taken']) {
    await cli.until(seen(app, (x) => x.cause === 'restart'));
  }

  await stopCleanly(t, cli, MARKER, run);
  t.same(auditLog(cli.transitions, true), [], 'one line per transition, every failure destroyed and rescheduled');
});
