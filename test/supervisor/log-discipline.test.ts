// The log holds transitions only: one line each, and nothing at all while instances stay healthy.
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { TransitionLog } from '../../src/supervisor/serve/transition-log.js';
import type { Transition } from '../../src/shared/transition.js';
import { appSpec, ensureAgent, STRATEGIES, supervise, to } from './harness.js';

for (const probe of STRATEGIES) {
  t.test(`${probe}: healthy instances checked every 100ms log nothing after becoming healthy`, async (t) => {
    if (probe === 'sidecar') ensureAgent();
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    let checks = 0;
    const h = await supervise(t, [appSpec(probe, { instances: 3, livenessIntervalMs: 100 })], {}, (supervisor) => {
      supervisor.on('transition', new TransitionLog(stream).write);
      supervisor.on('check', () => checks++);
    });
    for (const id of ['web-1', 'web-2', 'web-3']) await h.until(to('healthy', id));
    const afterHealthy = h.transitions.length;
    const linesAfterHealthy = text.split('\n').length;
    await sleep(2500);
    t.equal(h.transitions.length, afterHealthy, 'no transition while healthy');
    t.equal(text.split('\n').length, linesAfterHealthy, 'no log line while healthy');
    t.ok(checks >= 3 * 15, `the checks did run (${checks} 'check' events)`);

    await h.supervisor.stop();
    await new Promise((resolve) => stream.end(resolve));
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Transition);
    t.equal(lines.length, h.transitions.length, 'every transition is exactly one line');
    t.same(lines, h.transitions.map((x) => JSON.parse(JSON.stringify(x))));
    // The fixed order of the transition log; the optional fields only where a transition has them.
    const order = ['time', 'level', 'app', 'instance', 'from', 'to', 'msg', 'reason', 'cause', 'replaces', 'restart', 'restartLimit'];
    t.same(lines.map((line) => Object.keys(line)), lines.map((line) => order.filter((key, i) => i < 7 || (line as unknown as Record<string, unknown>)[key] !== undefined)));
  });
}
