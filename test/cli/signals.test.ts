// SIGTERM and SIGINT cancel the check in flight and end the agent at once with 128+signal.
import type { Socket } from 'node:net';
import t from 'tap';
import { tcpServer } from '../checks/fixtures.js';
import { startAgent } from '../helpers/agent.js';

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  t.test(`${signal}: exit ${code}, the in-flight check cancelled at once`, async (t) => {
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
    t.same([ended.code, ended.signal], [code, null]);
    t.ok(performance.now() - sentAt < 5000, 'at once, not after the check deadline');
    await closed;
    t.ok(performance.now() - sentAt < 5000, 'the connection in flight was closed');
    t.same([ended.stdout, ended.stderr], ['', ''], 'nothing said');
  });
}
