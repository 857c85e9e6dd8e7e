// The process driver's ports: from above the kernel's ephemeral range, proved free by a real listener, distinct,
// and the kernel's pick where the range leaves nothing above it.
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { PortPool, portsAboveEphemeral } from '../../src/supervisor/drivers/free-ports.js';

const HOST = '127.0.0.1';

async function hold(t: Test, port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, HOST);
  await once(server, 'listening');
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return server;
}

t.test('the pool is what lies above ip_local_port_range; none where the range reaches 65535 or cannot be read', async (t) => {
  const dir = t.testdir();
  const range = (text: string) => {
    const file = join(dir, `range-${text.length}`);
    writeFileSync(file, text);
    return portsAboveEphemeral(file);
  };
  t.same(range('32768\t60999\n'), { first: 61000, count: 4536 });
  t.same(range('1024 65535\n'), undefined, 'everything is ephemeral');
  t.same(range('junk\n'), undefined);
  t.same(portsAboveEphemeral(join(dir, 'absent')), undefined);
});

t.test('ports come from the pool in turn, distinct, skipping one that is taken', async (t) => {
  // A port the kernel hands out is free now; the pool starts there, and its first port is held by someone else.
  const probe = await hold(t, 0);
  const first = (probe.address() as { port: number }).port;
  const pool = new PortPool(HOST, { first, count: 40 }, 0);
  const ports = await pool.take(3);
  t.equal(new Set(ports).size, 3, `distinct: ${ports.join(', ')}`);
  t.notOk(ports.includes(first), 'the held port is skipped');
  t.ok(ports.every((port) => port > first && port < first + 40), 'all from the pool');
  const next = await pool.take(1);
  t.ok((next[0] as number) > Math.max(...ports), 'the cursor goes on: a port just handed out (not yet bound by its app) is not handed out again');
});

t.test('a pool all taken gives the kernel\'s pick', async (t) => {
  const held = await hold(t, 0);
  const port = (held.address() as { port: number }).port;
  const [picked] = await new PortPool(HOST, { first: port, count: 1 }, 0).take(1);
  t.not(picked, port);
  t.ok((picked as number) > 0);
});

const pool = portsAboveEphemeral();
t.test('on this host, the driver\'s default pool is above the ephemeral range', { skip: pool === undefined && 'this host\'s ephemeral range leaves no port above it' }, async (t) => {
  const ports = await new PortPool(HOST).take(2);
  t.ok(ports.every((port) => port >= pool!.first && port <= 65535), ports.join(', '));
});
