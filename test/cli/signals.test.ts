// Every signal of the agent's table (README "Signals") cancels the check in flight and ends the agent at once
// with 128+signal: SIGTERM and SIGINT as Cloud Foundry's agent does, and SIGUSR1 too, which under Node would
// otherwise open an inspector on 127.0.0.1:9229 and leave the agent running.
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import t, { type Test } from 'tap';
import { signalNumbers, TERMINATING_SIGNALS } from '../../src/cli/signals.js';
import { tcpServer } from '../checks/fixtures.js';
import { AGENT_COMMAND, startAgent, type Ended } from '../helpers/agent.js';

// The Bun executable's runtime keeps SIGPWR for itself (it never reaches JavaScript).
const signals = TERMINATING_SIGNALS.filter((signal) => AGENT_COMMAND.length > 1 || signal !== 'SIGPWR');

t.test("the table of signal numbers is this machine's", async (t) => {
  t.same(signalNumbers(), { ...constants.signals });
});

/** Starts an agent with a check in flight, sends it `signal`, and tells how it ended and how soon. */
async function signalled(t: Test, signal: NodeJS.Signals): Promise<{ ended: Ended; endedMs: number; closedMs: number }> {
  let accepted: (socket: Socket) => void = () => {};
  const connected = new Promise<Socket>((resolve) => (accepted = resolve));
  // Accepts and never answers: the agent's HTTP check is in flight until its 20s deadline.
  const port = await tcpServer(t, (socket) => accepted(socket));
  const agent = startAgent(['--host', '127.0.0.1', '--port', String(port), '--uri', '/', '--timeout', '20s', '--mode', 'liveness']);
  t.teardown(() => agent.child.kill('SIGKILL'));
  // An agent that ended before connecting fails the test rather than hanging it.
  const socket = await Promise.race([
    connected,
    agent.ended.then((ended) => Promise.reject(new Error(`agent ended first: ${JSON.stringify(ended)}`))),
  ]);
  // Closed with a FIN (node:net's destroy) or a reset (Bun's terminate): either way closed, so not once(),
  // which would reject on the reset's 'error'.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const sentAt = performance.now();
  agent.child.kill(signal);
  const ended = await agent.ended;
  const endedMs = performance.now() - sentAt;
  await closed;
  return { ended, endedMs, closedMs: performance.now() - sentAt };
}

// Side by side: each agent waits on its own server, so they need not take turns.
t.test('every signal of the table: exit 128+n, the in-flight check cancelled at once, nothing said', async (t) => {
  const results = await Promise.all(signals.map((signal) => signalled(t, signal)));
  signals.forEach((signal, i) => {
    const { ended, endedMs, closedMs } = results[i]!;
    t.same([ended.code, ended.signal], [128 + constants.signals[signal], null], `${signal}: exit ${128 + constants.signals[signal]}`);
    t.ok(endedMs < 5000, `${signal}: at once, not after the check deadline`);
    t.ok(closedMs < 5000, `${signal}: the connection in flight was closed`);
    t.same([ended.stdout, ended.stderr], ['', ''], `${signal}: nothing said`);
  });
});
