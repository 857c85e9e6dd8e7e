// The library's public face serves what the CLI serves: a Supervisor, its metrics and its HTTP server, wired
// by hand from `lifeguard`'s exports alone.
import t from 'tap';
import { startHttpServer, Supervisor, SupervisorMetrics } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { httpGet } from '../helpers/http-get.js';

t.test('a library user serves /status and /metrics from the exports', async (t) => {
  const supervisor = new Supervisor({ apps: [], stateDir: tempDir(t) });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  const metrics = new SupervisorMetrics(supervisor);
  const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0' });
  t.teardown(() => server.close());

  const status = await httpGet(server.address.port, '/status');
  const body = JSON.parse(status.body) as { apps: unknown[]; containment?: { kind: string } };
  t.same([status.status, body.apps], [200, []]);
  // Which containment is in force depends on the host (cgroup v2, v1, or none); that it is said is what holds.
  t.match(body.containment, { kind: /^(cgroup v[12]|environ)$/ });
  const scraped = await httpGet(server.address.port, '/metrics');
  t.equal(scraped.status, 200);
  t.match(scraped.body, /lifeguard_transitions_total/);
});
