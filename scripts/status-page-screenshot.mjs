// The README's picture of the status page: a small fleet (a steady app, one that turns sick and comes back
// restarted, one that crash-loops) under the built library, photographed by Debian's chromium after --seconds.
//   npm run build && node scripts/status-page-screenshot.mjs [--seconds 20] [--out docs/status-page.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { parseConfig, startHttpServer, StatusPage, Supervisor, SupervisorMetrics } from '../dist/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, out: { type: 'string', default: join(ROOT, 'docs/status-page.png') } } });
const dir = mkdtempSync(join(tmpdir(), 'lifeguard-screenshot-'));
const app = join(ROOT, 'test/fixtures/app.mjs');
const check = [{ http_check: { port: 8080, path: '/health', request_timeout_ms: 500 } }];
const { supervisor: options } = parseConfig({
  apps: [
    { name: 'web', command: [process.execPath, app], instances: 3, checks: check, probe: 'native', livenessInterval: '1s', startupInterval: '200ms' },
    { name: 'api', command: [process.execPath, app], env: { UNHEALTHY_AFTER_MS: '6000', ONCE: join(dir, 'once') }, instances: 2, checks: check, probe: 'native', livenessInterval: '1s', startupInterval: '200ms' },
    { name: 'worker', command: [process.execPath, app], env: { CRASH_AFTER_MS: '4000' }, checks: check, probe: 'native', livenessInterval: '1s', startupInterval: '200ms',
      restart: { backoffMin: '1s', backoffMax: '4s' } },
  ],
  stateDir: join(dir, 'state'),
});
const supervisor = new Supervisor({ ...options, agentPath: join(ROOT, 'bin/healthcheck.cjs') });
const page = new StatusPage(supervisor);
const metrics = new SupervisorMetrics(supervisor);
const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0' }, page);
await supervisor.start();
await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
const profile = mkdtempSync(join(tmpdir(), 'lifeguard-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
});
try {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${server.address.port}/`);
  await tab.locator('#instances tr').first().waitFor({ timeout: 5000 });
  await tab.screenshot({ path: values.out });
  console.log(`wrote ${values.out}`);
} finally {
  await browser.close();
  page.close();
  await supervisor.stop();
  await server.close();
  metrics.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
