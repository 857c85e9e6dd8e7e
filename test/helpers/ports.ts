// Loopback ports for tests, drawn below the kernel's ephemeral range (32768+): every app port of every test
// running in parallel is handed out by bind(0) from that range, and every connection takes its source port there,
// so a port found free in it can be taken before the test uses it. The supervisor's process driver hands out
// ports above the range (src/supervisor/drivers/free-ports.ts). Below it, two disjoint ranges: one for listeners
// a test starts later, one for ports that must stay closed.
import { createServer } from 'node:net';

const LISTEN_RANGE = { first: 20_000, count: 10_000 };
const CLOSED_RANGE = { first: 10_000, count: 10_000 };

/** A loopback port free a moment ago, for http.listen. */
export function freePort(): Promise<number> {
  return unusedPort(LISTEN_RANGE, '127.0.0.1');
}

/** A port nothing listens on, for a refused connection: no test listens in its range. */
export function closedPort(host = '127.0.0.1'): Promise<number> {
  return unusedPort(CLOSED_RANGE, host);
}

async function unusedPort(range: { readonly first: number; readonly count: number }, host: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = range.first + Math.floor(Math.random() * range.count);
    if (await bindable(port, host)) return port;
    if (attempt === 50) throw new Error(`no free port on ${host} in ${range.first}-${range.first + range.count - 1} after 50 tries`);
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, host, () => server.close(() => resolve(true)));
  });
}
