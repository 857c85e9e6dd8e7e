// The library's public face serves what the CLI serves: a Supervisor, its metrics and its HTTP endpoint, wired
// by hand from `lifeguard`'s exports alone.
import { request } from 'node:http';
import t from 'tap';
import { startHttpEndpoint, Supervisor, SupervisorMetrics } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

t.test('a library user serves /status and /metrics from the exports', async (t) => {
  const supervisor = new Supervisor({ apps: [], stateDir: tempDir(t) });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  const metrics = new SupervisorMetrics(supervisor);
  const endpoint = await startHttpEndpoint(supervisor, metrics, { listen: '127.0.0.1:0' });
  t.teardown(() => endpoint.close());

  const status = await get(endpoint.address.port, '/status');
  t.same([status.status, JSON.parse(status.body)], [200, { apps: [] }]);
  const scraped = await get(endpoint.address.port, '/metrics');
  t.equal(scraped.status, 200);
  t.match(scraped.body, /lifeguard_transitions_total/);
});
