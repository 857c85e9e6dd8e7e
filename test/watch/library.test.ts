// `lifeguard watch` from the library's public face alone: settings from an object, a watcher, its transitions, its
// status and its metrics, against real containers on Podman's API service (skipped, visibly, without one).
import { PassThrough } from 'node:stream';
import t from 'tap';
import { createWatcher, parseWatchSettings, TransitionLog, WatchMetrics, type WatchTransition } from '../../src/index.js';
import { exec, project, skip, SOCKET, startApp, to } from './harness.js';

t.test('a library user watches a container, and lifeguard restarts it when it turns unhealthy', { skip }, async (t) => {
  const token = project(t);
  const container = await startApp(token, 'web');
  const settings = parseWatchSettings({ socketPath: SOCKET, project: token, health: 'native', checks: ['http://:8080/health'], interval: '500ms', retries: 2, startGrace: '0s' });
  const watcher = createWatcher(settings);
  const metrics = new WatchMetrics(watcher);
  const seen: WatchTransition[] = [];
  const log = new PassThrough({ encoding: 'utf8' });
  let logged = '';
  log.on('data', (text: string) => (logged += text));
  watcher.on('transition', (x) => seen.push(x));
  watcher.on('transition', new TransitionLog(log, 'json').write);
  t.teardown(async () => {
    await watcher.stop();
    metrics.close();
  });
  await watcher.start();
  const until = async (match: (x: WatchTransition) => boolean): Promise<WatchTransition> => {
    for (let i = 0; i < 300; i++) {
      const found = seen.find(match);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`not seen within 30s; saw ${seen.map((x) => `${x.instance} ${x.from} -> ${x.to}`).join(', ')}`);
  };
  const name = `${token}-web`;
  await until(to('healthy', name));
  t.match(watcher.status(), [{ name, app: 'web', state: 'healthy', restarts: 0 }]);
  t.match(await metrics.metrics(), /lifeguard_watch_containers\{state="healthy"\} 1/);
  t.ok(logged.split('\n').filter(Boolean).some((line) => (JSON.parse(line) as WatchTransition).to === 'healthy'), 'the transition log writes its lines');

  await exec(container, ['rm', '/www/health']);
  t.match(await until(to('restarting', name)), { msg: 'Restarting container (restart 1 of 200)' });
  await until((x) => x.instance === name && x.to === 'starting' && x.msg.startsWith('Restarted container'));
});
