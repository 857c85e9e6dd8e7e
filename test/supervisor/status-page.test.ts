// The status page in a real browser (Debian's chromium, driven by playwright-core): it shows the fleet, follows a
// transition within a second over Server-Sent Events, paints the fleet before its feed connects, keeps its clock in
// UTC, and honours the token (once in the address, then a cookie).
import { existsSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { chromium } from 'playwright-core';
import { type HttpServer, startHttpServer } from '../../src/supervisor/serve/http-server.js';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import { StatusPage } from '../../src/supervisor/serve/status-page.js';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import { tempDir } from '../helpers/temp-dir.js';
import { appSpec, supervise, to } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'page-secret';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** The server with the page, on a free loopback port, with TOKEN; stopped at the test's end. */
async function servePage(t: Test, supervisor: Supervisor): Promise<HttpServer> {
  const page = new StatusPage(supervisor);
  const metrics = new SupervisorMetrics(supervisor);
  const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0', token: TOKEN }, page);
  t.teardown(async () => {
    page.close();
    await server.close();
    metrics.close();
  });
  return server;
}

t.test('the token: refused without it, taken once from ?token= and kept as a cookie for the page only', async (t) => {
  const { supervisor } = await supervise(t, [appSpec('native')]);
  const port = (await servePage(t, supervisor)).address.port;
  t.equal((await get(port, '/')).status, 401);
  t.equal((await get(port, '/?token=wrong')).status, 401);
  const login = await get(port, `/?token=${TOKEN}`);
  t.equal(login.status, 303);
  t.equal(login.headers.location, '/');
  t.match(login.headers['set-cookie'], [/^lifeguard_token=page-secret; HttpOnly; SameSite=Strict; Path=\/$/]);
  const cookie = { Cookie: `lifeguard_token=${TOKEN}` };
  const html = await get(port, '/', cookie);
  t.equal(html.status, 200);
  t.match(html.headers['content-security-policy'], /^default-src 'none'; script-src 'sha256-/);
  t.notMatch(html.body, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external asset');
  t.equal((await get(port, '/status', cookie)).status, 401, 'the cookie does not open the API');
  t.equal((await get(port, '/status', { Authorization: `Bearer ${TOKEN}` })).status, 200);
});

t.test('in Chromium: the fleet, its check history and latency, and a transition within a second', { skip: existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install chromium)` }, async (t) => {
  const sick = tempDir(t);
  const { supervisor, until } = await supervise(t, [appSpec('native', { env: { SICK_DIR: sick }, instances: 2 })]);
  const server = await servePage(t, supervisor);
  await until(to('healthy', 'web-1'));
  await until(to('healthy', 'web-2'));

  const profile = mkdtempSync(join(tmpdir(), 'lifeguard-chromium-'));
  // A fresh profile (playwright passes it as --user-data-dir), never a downloaded browser.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
    // Not UTC, so that a clock in local time would show.
    timezoneId: 'Asia/Kolkata',
  });
  t.teardown(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  // First paint: the feed never connects, and the fleet is on the page all the same, sent with it.
  const blocked = await browser.newPage();
  let refused = 0;
  await blocked.route('**/events', (route) => {
    refused += 1;
    return route.abort();
  });
  await blocked.goto(`http://127.0.0.1:${server.address.port}/?token=${TOKEN}`);
  t.equal(await blocked.locator('#instances tr[data-instance="web-1"] .state.healthy').count(), 1, 'first paint: web-1 healthy, without the feed');
  t.equal(await blocked.locator('#apps tr td').first().textContent(), 'web');
  t.ok((await blocked.locator('#transitions tr').count()) >= 4, 'and the transitions so far');
  t.ok(refused >= 1, 'while the feed was refused');
  await blocked.close();

  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  tab.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await tab.goto(`http://127.0.0.1:${server.address.port}/?token=${TOKEN}`);
  t.equal(new URL(tab.url()).search, '', 'the token left the address bar');
  await tab.locator('#instances tr[data-instance="web-1"] .state.healthy').waitFor({ timeout: 5000 });
  t.equal(await tab.locator('#apps tr td').first().textContent(), 'web');
  await tab.locator('#instances tr[data-instance="web-1"] .checks .pass').first().waitFor({ timeout: 5000 });
  await tab.locator('#charts svg polyline').first().waitFor({ state: 'attached', timeout: 5000 });
  const clock = /^live, updated (\d\d):(\d\d):(\d\d) UTC$/.exec((await tab.locator('#conn').textContent()) ?? '');
  t.ok(clock, `the clock says UTC: ${await tab.locator('#conn').textContent()}`);
  const shown = clock === null ? NaN : Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  const utc = Math.floor((Date.now() % 86_400_000) / 1000);
  t.ok(Math.min(Math.abs(utc - shown), 86_400 - Math.abs(utc - shown)) <= 10, 'and shows UTC time, not the browser\'s local time');

  writeFileSync(join(sick, 'web-1'), '');
  await until(to('unhealthy', 'web-1'));
  const seen = Date.now();
  const row = tab.locator('#transitions tr', { hasText: 'healthy → unhealthy' }).filter({ hasText: 'web-1' });
  await row.first().waitFor({ timeout: 1000 });
  t.pass(`the unhealthy transition was on the page ${Date.now() - seen}ms after the supervisor made it`);
  rmSync(join(sick, 'web-1'));
  t.same(errors, [], 'no script errors, no CSP violations');
});
