// Loopback ports for the supervisor's http.listen in tests.
import { createServer } from 'node:net';

/**
 * A loopback port free a moment ago, for http.listen. Drawn below the kernel's ephemeral range (32768+), from which
 * every app port of every test running in parallel is handed out by bind(0): one of those could otherwise take it
 * between this check and the supervisor's own bind.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await bindable(port)) return port;
    if (attempt === 50) throw new Error('no free loopback port in 20000-29999 after 50 tries');
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
