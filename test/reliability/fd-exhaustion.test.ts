// A supervisor short of file descriptors (`ulimit -n 64`) with more instances than descriptors: it starts at all,
// each start or check that finds none left is a transition with the errno in its reason, and it never crashes.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { fixtureApp, MARKER } from './apps.js';
import { auditLog } from '../helpers/log-audit.js';
import { runCli, stopCleanly } from './cli-supervisor.js';
import { tempDir } from '../helpers/temp-dir.js';

const EMFILE = /EMFILE|too many open files/;

t.test('ulimit -n 64: 40 native and 6 sidecar instances churn; every EMFILE is a transition with its reason', async (t) => {
  const run = randomUUID();
  // `sleep` never listens: each instance checks, times out, and is replaced; its reservations, spawns, checks and
  // records all need descriptors the supervisor does not have.
  const churn = { command: ['sleep', '600'], startTimeout: '500ms', restart: { immediate: 1000, backoffMin: '0s', backoffMax: '0s', maxRestarts: 1000, resetAfter: '1m' } };
  const apps = [
    fixtureApp('native', run, { ...churn, instances: 40 }),
    fixtureApp('sidecar', run, { ...churn, instances: 6, probe: 'sidecar' }),
  ];
  const cli = await runCli(t, tempDir(t), apps, { maxFds: 64 });
  await cli.until((all) => all.some((x) => EMFILE.test(x.reason ?? '')), 30_000);
  const hit = cli.transitions.find((x) => EMFILE.test(x.reason ?? ''));
  t.ok(hit, `a transition says why: ${hit?.instance} ${hit?.from} -> ${hit?.to} (${hit?.reason})`);
  t.ok((await cli.status()).apps.every((app) => app.instances.length === app.desired), 'every app still holds its desired count');

  await stopCleanly(t, cli, MARKER, run);
  t.same(auditLog(cli.transitions, true), [], 'one line per transition, every failure destroyed and rescheduled');
});
