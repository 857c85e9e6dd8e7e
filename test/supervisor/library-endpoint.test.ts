// The library's public face serves what the CLI serves: a Supervisor, its metrics and its HTTP endpoint, wired
// by hand from `lifeguard`'s exports alone.
import t from 'tap';
import { startHttpEndpoint, Supervisor, SupervisorMetrics } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { httpGet } from '../helpers/http-get.js';

t.test('a library user serves /status and /metrics from the exports', async (t) => {
  const supervisor = new Supervisor({ apps: [], stateDir: tempDir(t) });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  const metrics = new SupervisorMetrics(supervisor);
  const endpoint = await startHttpEndpoint(supervisor, metrics, { listen: '127.0.0.1:0' });
  t.teardown(() => endpoint.close());

  const status = await httpGet(endpoint.address.port, '/status');
  t.same([status.status, JSON.parse(status.body)], [200, { apps: [] }]);
  const scraped = await httpGet(endpoint.address.port, '/metrics');
  t.equal(scraped.status, 200);
  t.match(scraped.body, /lifeguard_transitions_total/);
});
