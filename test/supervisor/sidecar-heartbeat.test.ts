// A sidecar agent that stops answering is itself a failure: no heartbeat in time, the agent is killed and the
// instance replaced. "No news" is never taken for good news.
import t from 'tap';
import { isRunning } from '../../src/supervisor/host/state-dir.js';
import { agentPid, appSpec, ensureAgent, supervise, to } from './harness.js';

t.before(ensureAgent);

t.test('an agent stopped with SIGSTOP misses its heartbeat: it is killed and the instance replaced', async (t) => {
  const h = await supervise(t, [appSpec('sidecar')], { heartbeatGraceMs: 300 });
  await h.until(to('healthy', 'web-1'));
  // The liveness agent is running once its first round is in: from then on the plain deadline applies.
  await new Promise<void>((resolve) => h.supervisor.on('check', (c) => c.phase === 'liveness' && resolve()));
  const agent = agentPid(h.stateDir, 'web-1');
  if (agent === undefined) throw new Error('no agent recorded for web-1');
  process.kill(agent, 'SIGSTOP');
  const stoppedAt = performance.now();
  const unhealthy = await h.until(to('unhealthy', 'web-1'));
  // Deadline: interval 200ms + check timeout 1000ms (the harness's) + grace 300ms.
  t.match(unhealthy, { level: 'warn', reason: `health check agent (pid ${agent}) sent no heartbeat for 1.5s: stopped or stuck, killed` });
  t.ok(performance.now() - stoppedAt < 5000, 'noticed within a few deadlines');
  // SIGKILL is sent as the instance fails; the kernel takes a moment to end the process (bounded wait).
  for (let waited = 0; waited < 2000 && isRunning(agent); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(isRunning(agent), 'the stopped agent was killed');
  await h.until(to('healthy', 'web-2'));
});
