// The Node agent's connections: libuv's TCP handle by default, node:net when asking for the handle would print
// a deprecation warning (--pending-deprecation). Both ways check the same, and the agent itself never warns.
// The test runner's own preloads (tap's spawn hook) call process.binding in every child, so the warnings are
// traced (--trace-deprecation) and none may come from the agent's bundle.
import t from 'tap';
import { AGENT_BUNDLE, run } from '../helpers/agent.js';
import { closedPort, httpServer } from './fixtures.js';

const TRACE = '--trace-deprecation';
const ways: Record<string, { readonly args: readonly string[]; readonly env: Record<string, string> }> = {
  'the TCP handle': { args: [TRACE], env: {} },
  'node:net under --pending-deprecation': { args: [TRACE, '--pending-deprecation'], env: {} },
  'node:net under NODE_PENDING_DEPRECATION=1': { args: [TRACE], env: { NODE_PENDING_DEPRECATION: '1' } },
};

for (const [way, { args, env }] of Object.entries(ways)) {
  t.test(`${way}: a healthy app passes, a refused port fails with its reason, no warning of ours`, async (t) => {
    const port = await httpServer(t, (_req, res) => res.writeHead(200).end('ok'));
    const healthy = await run(process.execPath, [...args, AGENT_BUNDLE, '--check', `http://127.0.0.1:${port}/health`], { env });
    t.equal(healthy.code, 0, healthy.stderr);
    t.notMatch(healthy.stderr, /healthcheck\.cjs/);
    const refused = await closedPort();
    const down = await run(process.execPath, [...args, AGENT_BUNDLE, '--mode=once', '--host', '127.0.0.1', '--port', String(refused)], { env });
    t.not(down.code, 0);
    t.match(down.stdout + down.stderr, /connect: connection refused/);
    t.notMatch(down.stderr, /healthcheck\.cjs/);
  });
}
