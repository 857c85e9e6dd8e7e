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

t.test('checks end their connections with a reset: no TIME_WAIT is left behind on either side', async (t) => {
  const { readFileSync } = await import('node:fs');
  const timeWait = (port: number) =>
    ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1)).filter((line) => {
      const [, local, remote, state] = line.trim().split(/\s+/);
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      return state === '06' && (local?.endsWith(`:${hex}`) || remote?.endsWith(`:${hex}`));
    }).length;
  const httpPort = await httpServer(t, (_req, res) => res.end('ok'));
  const tcpPort = await tcpServer(t, () => {});
  for (let i = 0; i < 20; i++) {
    t.match(await runCheck({ kind: 'http', host: '127.0.0.1', port: httpPort, path: '/', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false }), { passed: true });
    t.match(await runCheck({ kind: 'tcp', host: '127.0.0.1', port: tcpPort, timeoutMs: 1000 }), { passed: true });
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(timeWait(httpPort), 0, 'HTTP');
  t.equal(timeWait(tcpPort), 0, 'TCP');
});
