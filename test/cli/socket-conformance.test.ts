// The socket layer's conformance table (test/helpers/socket-cases.ts), against the agent under test: under
// `npm test` the checks' code in this process (node:net; a case that needs a process of its own spawns the bundle),
// under `npm run test:executable` the Bun executable, every run a process. Each case runs RUNS times at once,
// and every run must give the case's verdict, exit code and words: one run of a racy path passes by luck (issue 26:
// the executable missed a reset on accept half of the time, and the suite ran that case once).
import t from 'tap';
import { AGENT_COMMAND, AGENT_BUNDLE } from '../helpers/agent.js';
import { expectedKeys, runCase, runCaseInProcess, SOCKET_CASES, SocketLab } from '../helpers/socket-cases.js';
import { tlsSkip } from '../helpers/tls.js';

const RUNS = 20;
/** The bundle is under test: its checks' code runs here, and only what needs a process of its own is spawned. */
const inProcess = AGENT_COMMAND[1] === AGENT_BUNDLE;

for (const c of SOCKET_CASES) {
  const tls = c.protocol === 'https' || c.protocol === 'grpcs' || c.server.kind === 'tls';
  t.test(`${c.protocol}: ${c.name}`, { skip: tls ? tlsSkip : false }, async (t) => {
    const lab = new SocketLab(t);
    const port = await lab.serve(c);
    const tally = inProcess && c.emfile !== true ? await runCaseInProcess(c, port, RUNS) : await runCase(lab, c, port, AGENT_COMMAND, RUNS);
    const allowed = expectedKeys(c, port);
    const wrong = [...tally].filter(([key]) => !allowed.includes(key));
    t.same(wrong, [], `all ${RUNS} runs end as ${allowed.join(' or ')}`);
  });
}
