// `lifeguard watch` against real containers on Podman's API service: native checks, the engine's HEALTHCHECK
// status, sidecar agents; unlabelled containers left alone; backoff and give-up; the CLI's dry run.
// Timings are asserted only against generous bounds; the measured values are printed as comments.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import type { WatchTransition } from '../../src/shared/transition.js';
import { createWatcher } from '../../src/watch/create-watcher.js';
import { parseWatchSettings } from '../../src/watch/settings.js';
import type { Watcher } from '../../src/watch/watcher.js';
import { ROOT } from '../supervisor/harness.js';
import { httpGet } from '../helpers/http-get.js';
import { freePort } from '../helpers/ports.js';
import { AGENT_BINARY, agentBinaryMissing, docker, exec, project, record, skip, SOCKET, startApp, startedAt, to } from './harness.js';

const INTERVAL_MS = 500;
const RETRIES = 3;

function watcherFor(t: Test, token: string, settings: Record<string, unknown>): Watcher {
  const flagOf = {};
  const watcher = createWatcher(parseWatchSettings({ socketPath: SOCKET, project: token, startGrace: '0s', ...settings }, { values: {}, flagOf }));
  t.teardown(() => watcher.stop());
  return watcher;
}

/**
 * Podman runs HEALTHCHECKs from systemd timers; without systemd (as in CI) the test plays the timer, asking the
 * engine to run the container's HEALTHCHECK every interval. Docker runs them itself (the path is Podman's: 404).
 */
function playHealthcheckTimer(t: Test, id: string): void {
  const timer = setInterval(() => {
    docker.modem.dial({ path: `/v4.0.0/libpod/containers/${id}/healthcheck?`, method: 'GET', statusCodes: { 200: true, 409: true, 404: true, 500: true } }, () => {});
  }, INTERVAL_MS);
  t.teardown(() => clearInterval(timer));
}

t.test('lifeguard watch on a real engine', { skip }, async (t) => {
  t.test('native checks: an unhealthy container is restarted, an unlabelled one is left alone', async (t) => {
    const token = project(t);
    const web = await startApp(token, 'web');
    const stranger = await startApp(token, 'stranger', { watched: false });
    const strangerStart = await startedAt(stranger);
    // A timeout well above the default 1s: under CI's load the container's busybox httpd once took longer than that
    // to answer, and the failure that turned it unhealthy was a timeout, not the 404 this test is about.
    const watcher = watcherFor(t, token, {
      health: 'native', checks: ['http://:8080/health'], interval: `${INTERVAL_MS}ms`, retries: RETRIES, timeout: '5s',
    });
    const log = record(watcher);
    await watcher.start();
    await log.until(to('healthy', `${token}-web`));
    const webStart = await startedAt(web);
    const t0 = Date.now();
    await Promise.all([exec(web, ['rm', '/www/health']), exec(stranger, ['rm', '/www/health'])]);
    const unhealthy = await log.until(to('unhealthy'));
    t.match(unhealthy.reason, /failed to make HTTP request to '\/health' on [\d.]+:8080: received status code 404/);
    const acting = await log.until(to('restarting'));
    t.match(acting, { msg: 'Restarting container (restart 1 of 200)', app: 'web', instance: `${token}-web` });
    const restarted = await log.until((x) => x.from === 'restarting' && x.to === 'starting');
    const healthy = await log.until(to('healthy'), 20_000, log.transitions.indexOf(restarted));
    const detectMs = acting.at - t0;
    const bound = INTERVAL_MS * RETRIES + 2000;
    t.comment(`turned unhealthy -> restart begun: ${detectMs}ms (target interval x retries + 2s = ${bound}ms); restarted: ${restarted.at - t0}ms; healthy again: ${healthy.at - t0}ms`);
    t.ok(detectMs < bound * 3, `restart begun within a generous bound (${bound * 3}ms)`);
    t.not(await startedAt(web), webStart, 'the watched container really was restarted');
    t.equal(await startedAt(stranger), strangerStart, 'the unlabelled one was not touched');
    t.ok(log.transitions.every((x) => x.instance === `${token}-web`), 'and never appears in the log');
  });

  t.test("engine health: one that keeps failing backs off and is given up, left running", async (t) => {
    const token = project(t);
    // Unhealthy right after every start.
    const sick = await startApp(token, 'sick', {
      env: { UNHEALTHY_AFTER: '0' },
      healthcheck: { test: ['CMD-SHELL', 'test -f /www/health'], intervalMs: INTERVAL_MS, retries: 2 },
    });
    playHealthcheckTimer(t, sick.id);
    const watcher = watcherFor(t, token, { restart: { immediate: 1, backoffMin: '1s', backoffMax: '2s', maxRestarts: 3 } });
    const log = record(watcher);
    await watcher.start();
    const gaveUp = await log.until(to('given-up'), 60_000);
    t.match(gaveUp, { level: 'error', msg: 'Gave up after 3 restarts: leaving the container as it is', reason: /HEALTHCHECK exited with code 1/ });
    const steps = log.transitions.map((x) => (x.to === 'backing-off' || x.to === 'restarting' ? `${x.to}: ${x.msg}` : x.to));
    t.same(steps.filter((s) => s.startsWith('backing-off') || s.startsWith('restarting')), [
      'restarting: Restarting container (restart 1 of 3)',
      'backing-off: Restart 2 of 3 in 1s',
      'restarting: Restarting container (restart 2 of 3)',
      'backing-off: Restart 3 of 3 in 2s',
      'restarting: Restarting container (restart 3 of 3)',
    ], 'once at once, then after 1s, then after 2s (backoffMax)');
    const [second, third] = log.transitions.filter(to('backing-off')).map((s) => log.transitions.find((x, i) => i > log.transitions.indexOf(s) && x.to === 'restarting')!.at - s.at);
    t.comment(`backoff waits measured: ${second}ms (1s asked), ${third}ms (2s asked)`);
    t.ok((second ?? 0) >= 900 && (third ?? 0) >= 1900, 'the backoff was waited for');
    t.equal((await sick.inspect()).State.Running, true, 'left running after the give-up');
  });

  t.test('engine health: every line of a failed HEALTHCHECK\'s output is in the reason, not just its first', async (t) => {
    const token = project(t);
    // As our agent prints: a summary first, then why.
    const probe = 'echo "healthcheck failed"; echo "received status code 404"; exit 1';
    const sick = await startApp(token, 'sick', { healthcheck: { test: ['CMD-SHELL', probe], intervalMs: INTERVAL_MS, retries: 1 } });
    playHealthcheckTimer(t, sick.id);
    const watcher = watcherFor(t, token, { dryRun: true });
    const log = record(watcher);
    await watcher.start();
    t.match(await log.until(to('unhealthy'), 30_000), { reason: 'HEALTHCHECK exited with code 1: healthcheck failed | received status code 404' });
  });

  t.test('a restart by someone else (docker restart) is one line, not an exit and a new container', async (t) => {
    const token = project(t);
    const web = await startApp(token, 'web');
    const watcher = watcherFor(t, token, { health: 'native', checks: ['http://:8080/health'], interval: `${INTERVAL_MS}ms`, retries: RETRIES });
    const log = record(watcher);
    await watcher.start();
    await log.until(to('healthy', `${token}-web`));
    const from = log.transitions.length;
    await web.restart({ t: 1 });
    const restarted = await log.until((x) => x.to === 'starting' && x.msg === 'Container restarted (not by lifeguard); waiting for it to become healthy', 20_000, from);
    await log.until(to('healthy'), 20_000, log.transitions.indexOf(restarted));
    t.same(log.transitions.slice(from).map((x) => x.to), ['starting', 'healthy'], 'no exit, no new watch');
  });

  t.test('sidecar health: the agent runs in the container\'s network namespace', { skip: agentBinaryMissing() }, async (t) => {
    const token = project(t);
    const web = await startApp(token, 'web');
    const watcher = watcherFor(t, token, {
      health: 'sidecar', checks: ['http://:8080/health'], interval: `${INTERVAL_MS}ms`, retries: 2, agentBinary: AGENT_BINARY,
    });
    const log = record(watcher);
    await watcher.start();
    await log.until(to('healthy'), 30_000);
    const sidecars = await docker.listContainers({ filters: { label: [`lifeguard.watched=${web.id}`] } });
    t.equal(sidecars.length, 1, 'one sidecar container');
    const info = await docker.getContainer(sidecars[0]!.Id).inspect();
    t.equal(info.HostConfig.NetworkMode, `container:${web.id}`, "in the watched container's network");
    t.match(info.Name, new RegExp(`^/${token}-web-healthcheck-[0-9a-f]{6}$`), 'named after the container it serves');
    t.match(info.Mounts, [{ Destination: '/etc/lifeguard/healthcheck', RW: false }], 'the agent bind-mounted read-only');
    t.equal(info.Config.Labels['lifeguard.role'], 'sidecar', 'labelled, so that no watcher watches it');
    await exec(web, ['rm', '/www/health']);
    t.match(await log.until(to('unhealthy'), 30_000), { reason: /received status code 404/ });
    await log.until((x) => x.from === 'restarting' && x.to === 'starting', 30_000);
    await watcher.stop();
    t.same(await docker.listContainers({ all: true, filters: { label: [`lifeguard.watched=${web.id}`] } }), [], 'no sidecar left after the stop');
  });

  t.test('lifeguard watch --dry-run logs what it would do and touches nothing, serves /metrics and /status; SIGTERM exits 0', async (t) => {
    const token = project(t);
    const web = await startApp(token, 'web');
    const before = await startedAt(web);
    const port = await freePort();
    const config = join(t.testdir(), 'watch.json');
    writeFileSync(config, JSON.stringify({ watch: { http: { listen: `127.0.0.1:${port}` }, retries: 5 } }));
    const child = spawn(process.execPath, [join(ROOT, 'bin/lifeguard.js'), 'watch', '--config', config, '--socket', SOCKET as string, '--project', token,
      '--health', 'native', '--check', 'http://:8080/health', '--interval', '500ms', '--retries', '2', '--start-grace', '0s', '--dry-run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const lines: WatchTransition[] = [];
    const seen = (match: (x: WatchTransition) => boolean) =>
      new Promise<WatchTransition>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not seen; got ${JSON.stringify(lines)} ${stderr}`)), 20_000);
        const input = createInterface({ input: child.stdout });
        const look = (x: WatchTransition) => {
          if (!match(x)) return;
          clearTimeout(timer);
          input.close();
          resolve(x);
        };
        lines.forEach(look);
        input.on('line', (line) => {
          const x = JSON.parse(line) as WatchTransition;
          lines.push(x);
          look(x);
        });
      });
    await seen(to('healthy'));
    await exec(web, ['rm', '/www/health']);
    t.match(await seen(to('backing-off')), { msg: 'Dry run: would restart now (restart 1 of 200)', from: 'unhealthy', reason: /received status code 404/ });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    t.equal(await startedAt(web), before, 'not restarted');
    const metrics = (await httpGet(port, '/metrics')).body;
    t.match(metrics, 'lifeguard_watch_containers{state="backing-off"} 1');
    t.match(metrics, 'lifeguard_watch_transitions_total{app="web",to="unhealthy"} 1');
    t.match(metrics, 'lifeguard_watch_engine_connected 1');
    t.notMatch(metrics, 'lifeguard_watch_actions_total{', 'no action taken');
    const status = JSON.parse((await httpGet(port, '/status')).body) as { apps: { name: string; instances: { id: string; state: string; address: string }[] }[] };
    t.match(status.apps, [{ name: 'web', desired: 1, instances: [{ id: `${token}-web`, state: 'backing-off', address: /^\d+\.\d+\.\d+\.\d+$/, restarts: 1 }] }]);
    t.equal((await httpGet(port, '/apps/web/claim')).status, 404, 'no claims under watch');
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    t.equal(code, 0);
    t.equal(stderr, '', 'nothing on stderr');
  });
});
