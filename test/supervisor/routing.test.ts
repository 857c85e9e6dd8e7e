// Routing apart from liveness, with real apps, real sockets and real signals: an app whose /ready can be flipped
// becomes routable and unroutable without ever being destroyed; GET /apps/<name>/endpoints lists the routable
// ones; its watch streams each change, outlives the server's requestTimeout, and ends when the supervisor stops;
// a drained stop takes an instance out of the endpoints at least `drain` before the app sees SIGTERM.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startHttpServer, type HttpServer } from '../../src/supervisor/serve/http-server.js';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoutableInstances } from '../../src/shared/status.js';
import type { AppSpec, ProbeStrategy, RoutingPlan } from '../../src/supervisor/spec/types.js';
import { httpGet } from '../helpers/http-get.js';
import { tempDir } from '../helpers/temp-dir.js';
import { appSpec, ensureAgent, STRATEGIES, supervise } from './harness.js';

ensureAgent();

const READY = { kind: 'http', port: 8080, path: '/ready', timeoutMs: 300, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false } as const;

function routedApp(probe: ProbeStrategy, dir: string, routing: Partial<RoutingPlan> = {}, more: Partial<AppSpec> = {}): AppSpec {
  return appSpec(probe, {
    env: { UNREADY_DIR: dir, SIGTERM_LOG: join(dir, 'sigterm.log') },
    routing: { checks: [READY], intervalMs: 100, failureThreshold: 1, successThreshold: 1, drainMs: 0, ...routing },
    ...more,
  });
}

async function serve(t: Test, supervisor: Supervisor): Promise<HttpServer> {
  const metrics = new SupervisorMetrics(supervisor);
  const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0' });
  t.teardown(async () => {
    metrics.close();
    await server.close();
  });
  return server;
}

const endpointsOf = async (server: HttpServer, app = 'web') => JSON.parse((await httpGet(server.address.port, `/apps/${app}/endpoints`)).body) as RoutableInstances;

for (const probe of STRATEGIES) {
  t.test(`${probe}: a flipped /ready makes an instance unroutable and back, while liveness keeps it healthy`, async (t) => {
    const dir = tempDir(t);
    const h = await supervise(t, [routedApp(probe, dir)]);
    const server = await serve(t, h.supervisor);
    const routable = await h.until((x) => x.to === 'routable' && x.instance === 'web-1');
    t.match(routable, { from: null, cause: 'checks-passed', msg: 'Instance became routable' }, 'the first verdict, from null');
    const address = h.supervisor.status().apps[0]?.instances[0]?.address;
    t.same(await endpointsOf(server), { app: 'web', endpoints: [{ instance: 'web-1', address }] });
    t.match(h.supervisor.status().apps[0]?.instances[0], { state: 'healthy', routable: true });

    writeFileSync(join(dir, 'web-1'), '');
    const unroutable = await h.until((x) => x.to === 'unroutable' && x.instance === 'web-1');
    t.match(unroutable, { from: 'routable', cause: 'checks-failed', level: 'warn', reason: /received status code 503/ });
    t.same(await endpointsOf(server), { app: 'web', endpoints: [] });
    // Several liveness rounds (200ms) and routing rounds (100ms) go by: the instance stays, healthy.
    await new Promise((resolve) => setTimeout(resolve, 800));
    t.match(h.supervisor.status().apps[0]?.instances[0], { id: 'web-1', state: 'healthy', routable: false });

    rmSync(join(dir, 'web-1'));
    await h.until((x) => x.to === 'routable' && x.from === 'unroutable' && x.instance === 'web-1');
    t.same((await endpointsOf(server)).endpoints.map((e) => e.instance), ['web-1']);
    t.same(h.transitions.map((x) => x.to), ['scheduled', 'starting', 'healthy', 'routable', 'unroutable', 'routable'], 'never destroyed, never restarted');
  });
}

t.test('GET /apps/<name>/endpoints: routable instances only, sorted by id; 404 for an unknown app; 405 for a wrong method', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'web-2'), '');
  const h = await supervise(t, [routedApp('native', dir, {}, { instances: 3 }), appSpec('native', { name: 'plain' })]);
  const server = await serve(t, h.supervisor);
  await h.until((x) => x.to === 'routable' && x.instance === 'web-1');
  await h.until((x) => x.to === 'routable' && x.instance === 'web-3');
  await h.until((x) => x.to === 'unroutable' && x.instance === 'web-2');
  t.same((await endpointsOf(server)).endpoints.map((e) => e.instance), ['web-1', 'web-3']);
  await h.until((x) => x.to === 'healthy' && x.app === 'plain');
  t.same((await endpointsOf(server, 'plain')).endpoints.map((e) => e.instance), ['plain-1'], 'without routing checks, healthy is routable');
  t.notOk(h.transitions.some((x) => x.app === 'plain' && (x.to === 'routable' || x.to === 'unroutable')), '... and the log says nothing more');
  const unknown = await httpGet(server.address.port, '/apps/nope/endpoints');
  t.same([unknown.status, JSON.parse(unknown.body)], [404, { error: "unknown app 'nope'" }]);
  const post = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, method: 'POST', path: '/apps/web/endpoints' }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('error', reject).end();
  });
  t.equal(post, 405);
});

interface Watched {
  readonly events: { readonly at: number; readonly data: RoutableInstances }[];
  readonly comments: { readonly at: number; readonly text: string }[];
  readonly ended: Promise<void>;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Resolves with the first event from the `from`th on (seen or to come) that matches. */
  next(match: (data: RoutableInstances) => boolean, from?: number): Promise<{ at: number; data: RoutableInstances }>;
}

/** A watch client that parses the stream exactly as documented: `event: endpoints\ndata: <json>\n\n`, `: keepalive\n\n`. */
function watch(t: Test, port: number, path: string, headers: Record<string, string> = {}): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const events: Watched['events'][number][] = [];
    const comments: Watched['comments'][number][] = [];
    const waiters = new Set<() => void>();
    let ended!: () => void;
    const endedPromise = new Promise<void>((r) => (ended = r));
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const at = Date.now();
          const event = /^event: endpoints\ndata: (.*)$/.exec(block);
          if (event !== null) events.push({ at, data: JSON.parse(event[1] as string) as RoutableInstances });
          else if (block.startsWith(':')) comments.push({ at, text: block });
          else reject(new Error(`not an endpoints event: ${JSON.stringify(block)}`));
          for (const waiter of waiters) waiter();
        }
      });
      res.on('end', () => {
        t.equal(buffer, '', 'nothing left half-sent at the end');
        ended();
      });
      const next: Watched['next'] = (match, from = 0) =>
        new Promise((found, failed) => {
          const check = () => {
            const hit = events.slice(from).find((e) => match(e.data));
            if (hit === undefined) return;
            clearTimeout(timer);
            waiters.delete(check);
            found(hit);
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            failed(new Error(`no matching endpoints event within 10s; saw ${JSON.stringify(events.map((e) => e.data.endpoints))}`));
          }, 10_000);
          waiters.add(check);
          check();
        });
      resolve({ events, comments, ended: endedPromise, headers: res.headers, next });
    });
    req.on('error', reject);
    req.end();
  });
}

const ids = (data: RoutableInstances) => data.endpoints.map((e) => e.instance).join(',');

t.test('the watch: the list at connect and every change; it outlives requestTimeout with keepalives; a drained stop leaves the endpoints before SIGTERM, and ends it', async (t) => {
  const dir = tempDir(t);
  const drainMs = 1000;
  const h = await supervise(t, [routedApp('native', dir, { drainMs }, { instances: 2 })]);
  const server = await serve(t, h.supervisor);
  const stream = await watch(t, server.address.port, '/apps/web/endpoints?watch=1');
  t.match(stream.headers['content-type'], /^text\/event-stream/);
  await stream.next(() => true);
  t.pass('an event at connect');
  const both = await stream.next((d) => ids(d) === 'web-1,web-2');
  t.match(both.data, { app: 'web', endpoints: [{ instance: 'web-1', address: /^127\.0\.0\.1:\d+$/ }, { instance: 'web-2' }] });

  let mark = stream.events.length;
  writeFileSync(join(dir, 'web-1'), '');
  await stream.next((d) => ids(d) === 'web-2', mark);
  mark = stream.events.length;
  rmSync(join(dir, 'web-1'));
  await stream.next((d) => ids(d) === 'web-1,web-2', mark);
  const sequence = stream.events.map((e) => ids(e.data));
  t.same(sequence.slice(sequence.indexOf('web-1,web-2')), ['web-1,web-2', 'web-2', 'web-1,web-2'], 'each change once, no repeats');

  // A second watch by Accept header, as an EventSource asks.
  const second = await watch(t, server.address.port, '/apps/web/endpoints', { Accept: 'text/event-stream' });
  t.same((await second.next(() => true)).data.endpoints.map((e) => e.instance), ['web-1', 'web-2'], 'the current list at connect');

  // Past the server's requestTimeout (10s) and its keepalive interval (15s), the stream is still open.
  const opened = stream.events[0]?.at ?? Date.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, opened + 15_500 - Date.now())));
  t.ok(stream.comments.some((c) => c.text === ': keepalive' && c.at - opened >= 14_000), 'a keepalive comment after 15s');
  t.same(h.supervisor.status().apps[0]?.instances.map((i) => i.state), ['healthy', 'healthy']);

  const before = stream.events.length;
  const stopping = Date.now();
  await h.supervisor.stop();
  await stream.ended;
  await second.ended;
  t.pass('the watch ends when the supervisor stops');
  const emptied = stream.events.slice(before).find((e) => e.data.endpoints.length === 0);
  t.ok(emptied !== undefined, 'the endpoints were emptied before the end');
  const sigterms = existsSync(join(dir, 'sigterm.log')) ? readFileSync(join(dir, 'sigterm.log'), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1])) : [];
  t.equal(sigterms.length, 2, 'both apps were signalled');
  for (const at of sigterms) t.ok(at - (emptied?.at ?? Infinity) >= drainMs - 50, `SIGTERM ${at - (emptied?.at ?? 0)}ms after the endpoints left (drain ${drainMs}ms)`);
  t.ok(Date.now() - stopping < drainMs + 3000, 'the stop is bounded by drain + grace');
});
