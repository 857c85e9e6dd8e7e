import t from 'tap';
import { runCheck } from '../../src/checks/run-check.js';
import { httpServer, tcpServer } from './fixtures.js';

t.test('dispatches on kind', async (t) => {
  const tcpPort = await tcpServer(t, () => {});
  const httpPort = await httpServer(t, (_req, res) => res.end());
  t.match(await runCheck({ kind: 'tcp', host: '127.0.0.1', port: tcpPort, timeoutMs: 1000 }), { passed: true });
  const http = { kind: 'http', host: '127.0.0.1', port: httpPort, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;
  t.match(await runCheck(http), { passed: true, status: 200 });
});

t.test('a spec without a host and no interface: exit 3', { skip: process.getuid?.() === 0 ? false : 'needs root for unshare -n' }, async (t) => {
  const { execFile } = await import('node:child_process');
  const script = `import('./src/checks/run-check.ts').then(async (m) => console.log(JSON.stringify(await m.runCheck({ kind: 'tcp', port: 8080, timeoutMs: 100 }))))`;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('unshare', ['-n', process.execPath, '--import', 'tsx', '-e', script], { timeout: 20_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  t.match(JSON.parse(stdout), { passed: false, error: { code: 'no-interface', exitCode: 3, message: 'failure to find suitable interface' } });
});
