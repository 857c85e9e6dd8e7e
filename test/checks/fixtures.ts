// Loopback servers for the check tests, each closed by the test that starts it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A raw TCP server on loopback; every socket it accepted is destroyed at teardown. */
export async function tcpServer(t: Teardown, onSocket: (socket: Socket) => void, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Flowing, so that the server notices a client's close even when the test never reads what it sent.
    socket.resume();
    onSocket(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** An HTTP server on loopback; connections are destroyed at teardown, so endless responses end too. */
export async function httpServer(
  t: Teardown,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<number> {
  return serveOnLoopback(t, createHttpServer(onRequest), host);
}

/** Listens on an ephemeral port of `host`; at teardown destroys its connections and closes it. */
export async function serveOnLoopback(t: Teardown, server: HttpServer, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

// A port nothing listens on, outside the range from which other tests' listeners and connections take theirs.
export { closedPort } from '../helpers/ports.js';

/**
 * A loopback port whose SYNs go unanswered, for a real connect timeout without leaving loopback.
 * A child process listens with a backlog of 1 and then blocks its event loop, so it never accepts; once its
 * accept queue is full, Linux drops further SYNs and the client waits in connect until its own deadline.
 */
export async function blackholePort(t: Teardown): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         require('fs').writeSync(1, s.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  const fillers: Socket[] = [];
  t.teardown(() => {
    for (const socket of fillers) socket.destroy();
  });
  // Fill the accept queue: connect until one connection does not complete within 300ms (at most 8 tries).
  for (let i = 0; i < 8; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    let timer: NodeJS.Timeout | undefined;
    const connected = await Promise.race([
      once(socket, 'connect').then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 300, false))),
    ]);
    clearTimeout(timer);
    if (!connected) return port;
  }
  throw new Error('could not fill the accept queue of the blackhole server');
}
