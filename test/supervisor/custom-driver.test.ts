// An embedder's own driver: SupervisorOptions.driver runs every app's instances, whatever driver the spec names.
import { once } from 'node:events';
import { createServer } from 'node:http';
import t from 'tap';
import type { Driver, LaunchRequest } from '../../src/index.js';
import { appSpec, supervise, to } from './harness.js';

t.test('a custom driver launches, is checked where it says, and destroys at stop', async (t) => {
  const server = createServer((_req, res) => res.writeHead(200).end()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const launched: string[] = [];
  const destroyed: string[] = [];
  const driver: Driver = {
    async launch({ instance }: LaunchRequest) {
      launched.push(instance);
      return {
        ok: true,
        running: {
          pid: null,
          address: `127.0.0.1:${port}`,
          tracked: [],
          endpoint: () => ({ host: '127.0.0.1', port }),
          destroy: async () => {
            destroyed.push(instance);
            return { forced: false };
          },
        },
      };
    },
  };
  // 'docker' would be refused without a driver of one's own; with one, the spec's driver name is not consulted.
  const h = await supervise(t, [appSpec('native', { instances: 2, driver: 'docker', command: undefined, image: 'ignored' })], {}, undefined, driver);
  await h.until(to('healthy', 'web-1'));
  await h.until(to('healthy', 'web-2'));
  t.same(launched, ['web-1', 'web-2']);
  await h.supervisor.stop();
  t.same(destroyed.sort(), ['web-1', 'web-2']);
});
