// What makes `lifeguard status` exit 1 (statusProblems): fewer healthy than desired, and a halted roll even when
// the app looks whole on its old version.
import t from 'tap';
import { statusProblems } from '../../src/cli/status-report.js';
import type { AppStatus, InstanceStatus } from '../../src/shared/status.js';

const healthy = (id: string): InstanceStatus => ({ id, state: 'healthy', address: '127.0.0.1:1', pid: 1, restarts: 0, since: '2026-12-06T00:00:00.000Z', checks: [], routable: true });
const app = (fields: Partial<AppStatus>): AppStatus => ({ name: 'web', desired: 2, prewarmDesired: 0, instances: [healthy('web-1'), healthy('web-2')], prewarm: [], ...fields });

t.test('whole and not rolling: no problem', async (t) => {
  t.same(statusProblems([app({})]), []);
  t.same(statusProblems([app({ rollout: { state: 'rolling', updated: 1, outdated: 1 } })]), [], 'a roll under way is not a problem');
});

t.test('a halted roll is a problem though every instance is healthy', async (t) => {
  t.same(statusProblems([app({ rollout: { state: 'halted', updated: 0, outdated: 2, reason: 'web-3 never became healthy' } })]), ['web: roll halted']);
});

t.test('below desired', async (t) => {
  t.same(statusProblems([app({ instances: [healthy('web-1')] })]), ['web: 1/2 healthy']);
});
