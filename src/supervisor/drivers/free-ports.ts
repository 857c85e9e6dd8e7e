/**
 * Loopback ports for the process driver's instances. A port is tested free by listening on it, then closed and
 * handed to the app, which binds it a moment later. In that moment any connect() on the host may take it as its
 * source port if it lies in the kernel's ephemeral range (ip_local_port_range), and the app dies of EADDRINUSE:
 * the supervisor's own checks make such connections all day. So ports come from above that range, as Diego's
 * port pool does (61001 and up), one cursor per process from a random start, so that successive launches and two
 * supervisors on one host rarely test the same port. A host whose ephemeral range leaves nothing above it gets the
 * kernel's pick (port 0).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
const HIGHEST_PORT = 65535;

/** Ports above the ephemeral range, or undefined where there are none (or the range cannot be read). */
export function portsAboveEphemeral(rangeFile = RANGE_FILE): { readonly first: number; readonly count: number } | undefined {
  let text: string;
  try {
    text = readFileSync(rangeFile, 'utf8');
  } catch {
    return undefined;
  }
  const high = Number(text.trim().split(/\s+/)[1]);
  if (!Number.isInteger(high) || high >= HIGHEST_PORT) return undefined;
  return { first: high + 1, count: HIGHEST_PORT - high };
}

/** Hands out ports from a pool, each one listened on to prove it free. */
export class PortPool {
  private cursor: number;

  constructor(private readonly host: string, private readonly pool = portsAboveEphemeral(), start = Math.random()) {
    this.cursor = pool === undefined ? 0 : Math.floor(start * pool.count);
  }

  /** `count` distinct free ports: every test listener stays open until all are bound, so none is handed out twice. */
  async take(count: number): Promise<number[]> {
    const servers: Server[] = [];
    try {
      for (let i = 0; i < count; i++) servers.push(await this.listenOnNext());
      return servers.map((server) => (server.address() as { port: number }).port);
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }

  /** The next free port of the pool (each tried at most once), else the kernel's pick. */
  private async listenOnNext(): Promise<Server> {
    for (let tried = 0; this.pool !== undefined && tried < this.pool.count; tried++) {
      const port = this.pool.first + (this.cursor++ % this.pool.count);
      const server = await listen(port, this.host);
      if (server !== undefined) return server;
    }
    // Port 0 is never taken: listen's other errors throw, as a launch's unexpected errors do.
    return (await listen(0, this.host)) as Server;
  }
}

/** A listener on `port`, or undefined when the port is taken. */
async function listen(port: number, host: string): Promise<Server | undefined> {
  const server = createServer();
  server.listen(port, host);
  try {
    await once(server, 'listening');
    return server;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
    throw error;
  }
}
