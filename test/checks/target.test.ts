import t from 'tap';
import { formatTarget } from '../../src/checks/target.js';

t.test('renders checks as --check would take them', async (t) => {
  t.equal(formatTarget({ kind: 'tcp', host: '10.0.0.5', port: 8080, timeoutMs: 1000 }), 'tcp://10.0.0.5:8080');
  t.equal(formatTarget({ kind: 'tcp', port: 5432, timeoutMs: 1000 }), 'tcp://:5432');
  t.equal(formatTarget({ kind: 'tcp', port: 5432, timeoutMs: 1000 }, '10.1.2.3'), 'tcp://10.1.2.3:5432');
  const http = { kind: 'http', host: '::1', port: 8080, path: '/ready?x=1', timeoutMs: 1000, expectStatus: [], headers: [], followRedirects: false } as const;
  t.equal(formatTarget(http), 'http://[::1]:8080/ready?x=1');
});
