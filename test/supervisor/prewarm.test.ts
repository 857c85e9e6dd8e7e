// The prewarm pool (OpenWhisk's): kept full, pinged, claimed, backfilled at once, and a claim moved to another
// instance when the claimed one fails its first check.
import { mkdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { appSpec, ensureAgent, STRATEGIES, supervise, to } from './harness.js';
import { tempDir } from '../helpers/temp-dir.js';

const ping = { prewarmPingIntervalMs: 100, prewarmPingFailures: 3 };

for (const probe of STRATEGIES) t.test(`${probe} probing`, async (t) => {
  if (probe === 'sidecar') t.before(ensureAgent);

  t.test('keeps the pool full; a claim hands out a ready instance and backfills at once', async (t) => {
    const h = await supervise(t, [appSpec(probe, { instances: 0, prewarm: 2 })], ping);
    t.equal(await h.supervisor.claim('web'), undefined, 'nothing ready yet: no claim');
    await h.until(to('healthy', 'web-1'));
    await h.until(to('healthy', 'web-2'));
    t.match(h.supervisor.status().apps[0], { desired: 0, instances: [], prewarm: [{ id: 'web-1', state: 'healthy' }, { id: 'web-2', state: 'healthy' }] });
    const claim = await h.supervisor.claim('web');
    t.match(claim, { id: 'web-1', address: /^127\.0\.0\.1:\d+$/ });
    t.match(h.transitions.find(to('claimed')), { instance: 'web-1', from: 'healthy', msg: 'Claimed from the prewarm pool' });
    t.match(h.transitions.find(to('scheduled', 'web-3')), { msg: 'Backfilling: scheduled 2 of 2 prewarmed instances' });
    await h.until(to('healthy', 'web-3'));
    const status = h.supervisor.status().apps[0];
    t.match(status?.instances, [{ id: 'web-1', state: 'claimed' }]);
    t.match(status?.prewarm, [{ id: 'web-2', state: 'healthy' }, { id: 'web-3', state: 'healthy' }]);
    await t.rejects(h.supervisor.claim('nope'), LifeguardFailure, 'an unknown app is an error, not an empty pool');
    t.equal(await h.supervisor.release('web', 'web-2'), false, 'an unclaimed instance cannot be released');
    t.equal(await h.supervisor.release('web', 'web-1'), true, 'the claimed one can, once destroyed');
    t.match(h.transitions.find(to('destroying', 'web-1')), { from: 'claimed', cause: 'asked', reason: 'released by its claimer' });
    t.match(h.transitions.find(to('destroyed', 'web-1')), { cause: 'asked' });
    t.notOk(h.transitions.some((x) => x.replaces === 'web-1'), 'a released instance is not replaced');
    t.equal(await h.supervisor.release('web', 'web-1'), false, 'released once');
  });

  t.test('a prewarmed instance that fails 3 pings in a row is destroyed and replaced', async (t) => {
    const once = `${tempDir(t)}/once`;
    const pings: boolean[] = [];
    const h = await supervise(t, [appSpec(probe, { instances: 0, prewarm: 1, env: { CLOSE_AFTER_MS: '1500', ONCE: once } })], ping, (supervisor) =>
      supervisor.on('check', (c) => c.instance === 'web-1' && c.phase === 'prewarm' && pings.push(c.passed)),
    );
    const unhealthy = await h.until(to('unhealthy', 'web-1'));
    t.match(unhealthy.reason, /failed to make TCP connection to 127\.0\.0\.1:\d+: .*refused/);
    t.same(pings.slice(-4), [true, false, false, false], 'destroyed at the third failed ping in a row, not before');
    await h.until(to('healthy', 'web-2'));
  });

  t.test('a claimed instance that fails its first check: the claim lands on another instance', async (t) => {
    const sick = tempDir(t);
    const h = await supervise(t, [appSpec(probe, { instances: 0, prewarm: 2, env: { SICK_DIR: sick } })], ping);
    await h.until(to('healthy', 'web-1'));
    await h.until(to('healthy', 'web-2'));
    // The pings are TCP and still pass; the app's HTTP liveness check, run at once after the claim, does not.
    mkdirSync(sick, { recursive: true });
    writeFileSync(`${sick}/web-1`, '');
    const claim = await h.supervisor.claim('web');
    t.match(claim, { id: 'web-2' });
    t.match(h.transitions.find(to('unhealthy', 'web-1')), { from: 'claimed', reason: /received status code 500/ });
    t.match(h.transitions.find(to('claimed', 'web-2')), { from: 'healthy' });
    await h.until(to('destroyed', 'web-1'));
    t.notOk(h.transitions.some((x) => x.msg.includes('replace web-1')), 'a claimed instance is not rescheduled: the pool was backfilled at the claim');
    // Both backfills start at the claims; either may become healthy first.
    await h.until(to('healthy', 'web-3'));
    await h.until(to('healthy', 'web-4'));
    t.match(h.supervisor.status().apps[0]?.prewarm, [{ id: 'web-3', state: 'healthy' }, { id: 'web-4', state: 'healthy' }]);
  });
});
