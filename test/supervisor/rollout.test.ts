// Applying a config to a running supervisor: the roll's step as a table, then real processes scaled, rolled
// (never below the healthy count allowed, never over the surge), halted by a replacement that never becomes
// healthy and resumed by the next apply, apps added and removed, and configs refused whole.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { planRollout } from '../../src/supervisor/app/rollout.js';
import { renderStatus } from '../../src/cli/status-report.js';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import type { AppSpec } from '../../src/supervisor/spec/types.js';
import type { Transition } from '../../src/shared/transition.js';
import { tempDir } from '../helpers/temp-dir.js';
import { appSpec, show, supervise, to, type Harness } from './harness.js';

t.test('planRollout: each step as counts', async (t) => {
  const old = (available: boolean[]) => available.map((a, i) => ({ instance: `old-${i}`, available: a }));
  const cases: [string, Parameters<typeof planRollout<string>>[0], { destroy: string[]; create: number }][] = [
    ['surge 1: one replacement first, nothing destroyed', { desired: 3, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 0, updatedAvailable: 0, outdated: old([true, true, true]) }, { destroy: [], create: 1 }],
    ['the replacement starting: wait', { desired: 3, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 1, updatedAvailable: 0, outdated: old([true, true, true]) }, { destroy: [], create: 0 }],
    ['the replacement serving: the oldest goes and the next starts', { desired: 3, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 1, updatedAvailable: 1, outdated: old([true, true, true]) }, { destroy: ['old-0'], create: 1 }],
    ['an outdated instance that does not serve goes at once', { desired: 3, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 0, updatedAvailable: 0, outdated: old([true, false, true]) }, { destroy: ['old-1'], create: 2 }],
    ['unavailable 1, surge 0: destroy first, then replace', { desired: 3, policy: { maxSurge: 0, maxUnavailable: 1 }, updated: 0, updatedAvailable: 0, outdated: old([true, true, true]) }, { destroy: ['old-0'], create: 1 }],
    ['surge 2 with a larger count', { desired: 4, policy: { maxSurge: 2, maxUnavailable: 0 }, updated: 0, updatedAvailable: 0, outdated: old([true, true, true]) }, { destroy: [], create: 3 }],
    ['scaled down to 0 while rolling', { desired: 0, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 0, updatedAvailable: 0, outdated: old([true, true]) }, { destroy: ['old-0', 'old-1'], create: 0 }],
    ['done: nothing outdated, all updated', { desired: 2, policy: { maxSurge: 1, maxUnavailable: 0 }, updated: 2, updatedAvailable: 2, outdated: [] }, { destroy: [], create: 0 }],
  ];
  for (const [name, counts, expected] of cases) t.same(planRollout(counts), expected, name);
});

/** Healthy members and members holding a place (not being destroyed), after every transition. */
function census(supervisor: Supervisor): { healthy: number[]; held: number[] } {
  const seen = { healthy: [] as number[], held: [] as number[] };
  supervisor.on('transition', () => {
    const instances = supervisor.status().apps.find((a) => a.name === 'web')?.instances ?? [];
    seen.healthy.push(instances.filter((i) => i.state === 'healthy').length);
    seen.held.push(instances.filter((i) => i.state !== 'destroying' && i.state !== 'destroyed').length);
  });
  return seen;
}

const v = (version: string, overrides: Partial<AppSpec> = {}) => appSpec('native', { instances: 3, env: { VERSION: version }, ...overrides });

async function allHealthy(h: Harness, ids: string[]): Promise<void> {
  for (const id of ids) await h.until(to('healthy', id));
}

t.test('a changed spec rolls: surge 1, never below 3 healthy, every old instance replaced', async (t) => {
  const h = await supervise(t, [v('1')]);
  await allHealthy(h, ['web-1', 'web-2', 'web-3']);
  const seen = census(h.supervisor);
  t.same(await h.supervisor.apply({ apps: [v('2')], stateDir: h.stateDir }), [{ app: 'web', change: 'rolling' }]);
  await allHealthy(h, ['web-4', 'web-5', 'web-6']);
  await h.until((x) => x.to === 'destroyed' && x.instance === 'web-3');
  t.ok(Math.min(...seen.healthy) >= 3, `healthy never below 3: ${seen.healthy.join(' ')}`);
  t.ok(Math.max(...seen.held) <= 4, `never more than 3 + 1 instances: ${seen.held.join(' ')}`);
  const rolled = h.transitions.filter((x) => x.to === 'destroying' && x.cause === 'rolled').map((x) => x.instance);
  t.same(rolled, ['web-1', 'web-2', 'web-3'], 'the oldest first');
  t.same(h.transitions.filter((x) => x.to === 'scheduled' && x.cause === 'roll').length, 3);
  // Each old instance goes only once its replacement serves.
  for (const [old, fresh] of [['web-1', 'web-4'], ['web-2', 'web-5'], ['web-3', 'web-6']]) {
    const at = (match: (x: Transition) => boolean) => h.transitions.findIndex(match);
    t.ok(at(to('healthy', fresh)) < at((x) => x.to === 'destroying' && x.instance === old), `${fresh} healthy before ${old} destroyed`);
  }
  t.equal(h.supervisor.status().apps[0]?.rollout, undefined, 'no roll left once done');
});

t.test('a replacement that never becomes healthy halts the roll; the next apply resumes it', async (t) => {
  const h = await supervise(t, [v('1')]);
  await allHealthy(h, ['web-1', 'web-2', 'web-3']);
  const broken = v('2', { env: { VERSION: '2', CRASH_AFTER_MS: '0' } });
  t.same(await h.supervisor.apply({ apps: [broken], stateDir: h.stateDir }), [{ app: 'web', change: 'rolling' }]);
  const halted = await h.until((x) => x.to === 'given-up' && x.instance === 'web-4');
  t.match(halted, { cause: 'roll-halted', level: 'error', msg: /^Rolling update halted: replacement web-4 never became healthy \(crashed\); 3 instances keep the previous spec/ });
  // Halted, it stays halted: no second replacement, the three old instances untouched.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const app = h.supervisor.status().apps[0];
  t.match(app?.rollout, { state: 'halted', updated: 1, outdated: 3, reason: 'replacement web-4 never became healthy (crashed)' });
  t.same(app?.instances.filter((i) => i.state === 'healthy').map((i) => i.id), ['web-1', 'web-2', 'web-3']);
  t.notOk(h.transitions.some((x) => x.instance === 'web-5'), 'no further replacement');
  t.match(renderStatus(h.supervisor.status().apps), /^web +3\/3 +ok, ROLL HALTED \(1 updated, 3 outdated\): replacement web-4 never became healthy \(crashed\)/m, 'lifeguard status shows it');

  const fixed = v('3');
  t.same(await h.supervisor.apply({ apps: [fixed], stateDir: h.stateDir }), [{ app: 'web', change: 'rolling' }]);
  await allHealthy(h, ['web-5', 'web-6', 'web-7']);
  await h.until((x) => x.to === 'destroyed' && x.instance === 'web-3');
  t.same(h.supervisor.status().apps[0]?.instances.map((i) => i.id), ['web-5', 'web-6', 'web-7'], 'the given-up replacement is forgotten');
});

t.test('counts alone scale, an unchanged app is not touched, apps come and go, a revert rolls back', async (t) => {
  const other = appSpec('native', { name: 'api', instances: 1 });
  const h = await supervise(t, [v('1'), other]);
  await allHealthy(h, ['web-1', 'web-2', 'web-3', 'api-1']);
  const before = h.transitions.length;
  t.same(await h.supervisor.apply({ apps: [v('1'), other], stateDir: h.stateDir }), [{ app: 'web', change: 'unchanged' }, { app: 'api', change: 'unchanged' }]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(h.transitions.length, before, 'applying the same config changes nothing');

  t.same(await h.supervisor.apply({ apps: [v('1', { instances: 5 }), other], stateDir: h.stateDir }), [{ app: 'web', change: 'scaled' }, { app: 'api', change: 'unchanged' }]);
  await allHealthy(h, ['web-4', 'web-5']);
  t.same(await h.supervisor.apply({ apps: [v('1', { instances: 2 })], stateDir: h.stateDir }), [{ app: 'api', change: 'removed' }, { app: 'web', change: 'scaled' }]);
  await h.until((x) => x.to === 'destroyed' && x.instance === 'api-1');
  const scaledDown = h.transitions.filter((x) => x.to === 'destroying' && x.cause === 'scaled-down').map((x) => x.instance);
  t.same(scaledDown, ['web-5', 'web-4', 'web-3'], 'the newest go first');
  t.match(h.transitions.find((x) => x.instance === 'api-1' && x.to === 'destroying'), { cause: 'removed', reason: 'its app was removed from the config' });
  t.same(h.supervisor.status().apps.map((a) => a.name), ['web']);

  // Back to an app removed earlier, and a spec change on web: api starts afresh, web rolls.
  t.same(await h.supervisor.apply({ apps: [v('2', { instances: 2 }), other], stateDir: h.stateDir }), [{ app: 'web', change: 'rolling' }, { app: 'api', change: 'added' }]);
  await allHealthy(h, ['web-6', 'web-7', 'api-1']);
  // Reverting while nothing old is left is a roll like any other.
  t.same(await h.supervisor.apply({ apps: [v('1', { instances: 2 }), other], stateDir: h.stateDir }), [{ app: 'web', change: 'rolling' }, { app: 'api', change: 'unchanged' }]);
  await allHealthy(h, ['web-8', 'web-9']);
});

t.test('a config that cannot be applied is refused whole, and nothing changes', async (t) => {
  const h = await supervise(t, [v('1', { instances: 1 })]);
  await h.until(to('healthy', 'web-1'));
  const before = h.transitions.length;
  await t.rejects(h.supervisor.apply({ apps: [v('2')], stateDir: `${h.stateDir}-elsewhere` }), { message: /^stateDir cannot change while lifeguard runs/ });
  const missing = v('2', { command: ['lifeguard-test-no-such-command'] });
  await t.rejects(h.supervisor.apply({ apps: [v('1', { instances: 4 }), { ...missing, name: 'api' }], stateDir: h.stateDir }), { message: /apps\[1\]\.command: 'lifeguard-test-no-such-command' is not found in PATH/ });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(h.transitions.slice(before).map(show), [], 'no transition: the count change beside the bad app was not applied either');
  t.same(h.supervisor.status().apps.map((a) => [a.name, a.desired]), [['web', 1]]);
});

t.test('with routing checks, a roll waits for each replacement to be routable, not only healthy', async (t) => {
  const dir = tempDir(t);
  const ready = { kind: 'http', port: 8080, path: '/ready', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  const routed = (version: string) => v(version, { instances: 2, env: { VERSION: version, UNREADY_DIR: dir }, routing: { checks: [ready], intervalMs: 100, failureThreshold: 1, successThreshold: 1, drainMs: 0 } });
  const h = await supervise(t, [routed('1')]);
  // Both routable first: an old instance that is not (yet) goes at once, as one that does not serve.
  for (const id of ['web-1', 'web-2']) await h.until((x) => x.to === 'routable' && x.instance === id);
  // The first replacement will be healthy (its /health passes) but not routable (its /ready answers 503).
  writeFileSync(join(dir, 'web-3'), '');
  await h.supervisor.apply({ apps: [routed('2')], stateDir: h.stateDir });
  await h.until(to('healthy', 'web-3'));
  await new Promise((resolve) => setTimeout(resolve, 800));
  t.notOk(h.transitions.some((x) => x.to === 'destroying'), 'no old instance destroyed while its replacement is unroutable', { seen: h.transitions.map(show) });
  t.match(h.supervisor.status().apps[0]?.rollout, { state: 'rolling', updated: 1, outdated: 2 });
  rmSync(join(dir, 'web-3'));
  await h.until((x) => x.to === 'routable' && x.instance === 'web-4');
  await h.until(to('destroyed', 'web-2'));
  const at = (match: (x: Transition) => boolean) => h.transitions.findIndex(match);
  t.ok(at((x) => x.to === 'routable' && x.instance === 'web-3') < at((x) => x.to === 'destroying' && x.instance === 'web-1'), 'web-1 went once web-3 was routable');
});

t.test('a rollout policy changed alone touches nothing, and the next roll follows it', async (t) => {
  const h = await supervise(t, [v('1', { instances: 2 })]);
  await allHealthy(h, ['web-1', 'web-2']);
  const before = h.transitions.length;
  const wider = { maxSurge: 2, maxUnavailable: 0 };
  t.same(await h.supervisor.apply({ apps: [v('1', { instances: 2, rollout: wider })], stateDir: h.stateDir }), [{ app: 'web', change: 'unchanged' }]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(h.transitions.length, before, 'no transition');
  await h.supervisor.apply({ apps: [v('2', { instances: 2, rollout: wider })], stateDir: h.stateDir });
  await h.until(to('destroyed', 'web-2'));
  const moves = h.transitions.slice(before).filter((x) => x.cause === 'roll' || x.cause === 'rolled').map((x) => `${x.instance} ${x.to}`);
  t.same(moves.slice(0, 2), ['web-3 scheduled', 'web-4 scheduled'], 'surge 2: both replacements at once');
});
