import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { LifeguardFailure } from '../../src/checks/errors.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/supervisor/serve/http-server.js';
import { SupervisorMetrics } from '../../src/supervisor/serve/metrics.js';
import type { Claim, SupervisorStatus } from '../../src/shared/status.js';
import type { SupervisorEvents } from '../../src/supervisor/spec/types.js';

const since = '2026-01-01T00:00:00.000Z';

/** A supervisor as the server sees it: a status, a claim that succeeds once, and events for the metrics. */
class FakeSupervisor extends EventEmitter<SupervisorEvents> {
  private claimable = 1;
  status(): SupervisorStatus {
    return {
      apps: [
        { name: 'web', desired: 1, prewarmDesired: 0, instances: [{ id: 'web-1', state: 'healthy', address: '127.0.0.1:40001', pid: 123, restarts: 2, since }], prewarm: [] },
        { name: 'pool', desired: 0, prewarmDesired: 1, instances: [], prewarm: [{ id: 'pool-1', state: 'healthy', address: '127.0.0.1:40002', pid: 124, restarts: 0, since }] },
      ],
    };
  }
  async claim(app: string): Promise<Claim | undefined> {
    if (app !== 'pool' || this.claimable === 0) return undefined;
    this.claimable -= 1;
    return { id: 'pool-1', address: '127.0.0.1:40002' };
  }
  async release(app: string, id: string): Promise<boolean> {
    if (app !== 'pool' || id !== 'pool-1' || this.claimable === 1) return false;
    this.claimable = 1;
    return true;
  }
}

async function serve(t: Test, options: Partial<HttpServerOptions> = {}): Promise<{ server: HttpServer; supervisor: FakeSupervisor }> {
  const supervisor = new FakeSupervisor();
  const metrics = new SupervisorMetrics(supervisor);
  const server = await startHttpServer(supervisor, metrics, { listen: '127.0.0.1:0', ...options });
  t.teardown(async () => {
    metrics.close();
    await server.close();
  });
  return { server, supervisor };
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function call(server: HttpServer, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.address.host, port: server.address.port, method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

t.test('GET /status answers the documented shape', async (t) => {
  const { server } = await serve(t);
  const reply = await call(server, 'GET', '/status');
  t.equal(reply.status, 200);
  t.match(reply.headers['content-type'], /^application\/json/);
  t.same(JSON.parse(reply.body), {
    apps: [
      { name: 'web', desired: 1, instances: [{ id: 'web-1', state: 'healthy', address: '127.0.0.1:40001', pid: 123, restarts: 2, since }], prewarm: [] },
      { name: 'pool', desired: 0, instances: [], prewarm: [{ id: 'pool-1', state: 'healthy', address: '127.0.0.1:40002', pid: 124, restarts: 0, since }] },
    ],
  }, 'prewarmDesired stays internal');
});

t.test('GET /metrics serves every lifeguard metric', async (t) => {
  const { server, supervisor } = await serve(t);
  supervisor.emit('transition', { time: since, level: 'info', app: 'web', instance: 'web-1', from: 'starting', to: 'healthy', msg: 'Container became healthy' });
  // A replacement counts as a restart (its cause says so); an instance scheduled by backfill does not.
  supervisor.emit('transition', { time: since, level: 'info', app: 'web', instance: 'web-1', from: null, to: 'scheduled', msg: 'Rescheduled', cause: 'restart', replaces: 'web-0', restart: 2, restartLimit: 5 });
  supervisor.emit('transition', { time: since, level: 'info', app: 'pool', instance: 'pool-1', from: null, to: 'scheduled', msg: 'Backfilling', cause: 'backfill' });
  supervisor.emit('check', { app: 'web', instance: 'web-1', passed: false, latencyMs: 12, phase: 'liveness' });
  const reply = await call(server, 'GET', '/metrics');
  t.equal(reply.status, 200);
  t.match(reply.headers['content-type'], /^text\/plain/);
  t.match(reply.body, /^lifeguard_instances\{app="web",pool="app",state="healthy"\} 1$/m);
  t.match(reply.body, /^lifeguard_instances\{app="pool",pool="prewarm",state="healthy"\} 1$/m);
  t.match(reply.body, /^lifeguard_instances\{app="web",pool="app",state="crashed"\} 0$/m);
  t.match(reply.body, /^lifeguard_desired_instances\{app="web"\} 1$/m);
  t.match(reply.body, /^lifeguard_transitions_total\{app="web",to="healthy"\} 1$/m);
  t.match(reply.body, /^lifeguard_restarts_total\{app="web"\} 1$/m);
  t.notMatch(reply.body, /^lifeguard_restarts_total\{app="pool"\}/m);
  t.match(reply.body, /^lifeguard_health_check_failures_total\{app="web",phase="liveness"\} 1$/m);
  t.match(reply.body, /^lifeguard_health_check_duration_seconds_count\{app="web",phase="liveness"\} 1$/m);
});

t.test('POST /apps/<name>/claim: 200 with the instance, 503 when none is ready, 404 for an unknown app', async (t) => {
  const { server } = await serve(t);
  const first = await call(server, 'POST', '/apps/pool/claim');
  t.equal(first.status, 200);
  t.same(JSON.parse(first.body), { id: 'pool-1', address: '127.0.0.1:40002' });
  const second = await call(server, 'POST', '/apps/pool/claim');
  t.equal(second.status, 503);
  t.equal(second.headers['retry-after'], '1');
  t.match(JSON.parse(second.body), { error: /no prewarmed instance/ });
  t.equal((await call(server, 'POST', '/apps/nope/claim')).status, 404);
  t.equal((await call(server, 'POST', '/apps/%E0%A4%A/claim')).status, 404, 'a malformed name is unknown, not a crash');
});

t.test('claims: 409 for an app without a prewarm pool; DELETE /apps/<name>/claims/<id> releases a claim', async (t) => {
  const { server } = await serve(t);
  const noPool = await call(server, 'POST', '/apps/web/claim');
  t.equal(noPool.status, 409);
  t.equal(noPool.headers['retry-after'], undefined, 'nothing to retry');
  t.same(JSON.parse(noPool.body), { error: "app 'web' has no prewarm pool (prewarm is 0)" });
  t.equal((await call(server, 'DELETE', '/apps/pool/claims/pool-1')).status, 404, 'not claimed yet');
  t.equal((await call(server, 'POST', '/apps/pool/claim')).status, 200);
  const released = await call(server, 'DELETE', '/apps/pool/claims/pool-1');
  t.same([released.status, released.body], [204, '']);
  t.equal((await call(server, 'DELETE', '/apps/pool/claims/pool-1')).status, 404, 'released once');
  t.equal((await call(server, 'GET', '/apps/pool/claims/pool-1')).status, 405);
});

t.test('GET /healthz answers without the token', async (t) => {
  const { server } = await serve(t, { token: 's3cret' });
  const reply = await call(server, 'GET', '/healthz');
  t.same([reply.status, JSON.parse(reply.body)], [200, { status: 'ok' }]);
  t.equal((await call(server, 'POST', '/healthz')).status, 405);
});

t.test('100 clients sending a byte a second: /status stays reachable, each is cut off at the headers timeout', async (t) => {
  const { server } = await serve(t);
  const sockets: Socket[] = [];
  const closedAt: number[] = [];
  const began = performance.now();
  for (let i = 0; i < 100; i++) {
    const socket = connect(server.address.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closedAt.push(performance.now() - began));
    sockets.push(socket);
  }
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  const request = 'GET /status HTTP/1.1\r\nHost: x\r\n';
  let sent = 0;
  const dribble = setInterval(() => {
    for (const socket of sockets) if (!socket.destroyed) socket.write(request[sent % request.length] as string);
    sent += 1;
  }, 1000);
  t.teardown(() => clearInterval(dribble));
  await sleep(1500);
  const status = await call(server, 'GET', '/status');
  t.equal(status.status, 200, '/status answers while 100 slow clients are connected');
  t.equal((await call(server, 'GET', '/healthz')).status, 200);
  // headersTimeout (5s), checked every second: all cut off at about 6s (10s allows for a loaded machine), where
  // Node's default 30s sweep left them connected for up to 35s.
  for (let waited = 0; waited < 12_000 && closedAt.length < 100; waited += 100) await sleep(100);
  clearInterval(dribble);
  t.equal(closedAt.length, 100, 'every slow client was disconnected');
  t.ok(Math.max(...closedAt) < 10_000, `within the headers timeout and the check interval (last at ${Math.round(Math.max(...closedAt))}ms)`);
});

t.test('wrong methods, unknown paths and oversized bodies are refused', async (t) => {
  const { server } = await serve(t);
  const get = await call(server, 'GET', '/apps/pool/claim');
  t.equal(get.status, 405);
  t.equal(get.headers.allow, 'POST');
  t.equal((await call(server, 'POST', '/status')).status, 405);
  t.equal((await call(server, 'GET', '/nope')).status, 404);
  t.equal((await call(server, 'HEAD', '/status')).status, 200);
  t.equal((await call(server, 'POST', '/apps/pool/claim', {}, 'x'.repeat(64 * 1024))).status, 413);
});

t.test('a bearer token is required when configured', async (t) => {
  const { server } = await serve(t, { token: 's3cret' });
  const none = await call(server, 'GET', '/status');
  t.equal(none.status, 401);
  t.equal(none.headers['www-authenticate'], 'Bearer');
  t.equal((await call(server, 'GET', '/status', { Authorization: 'Bearer wrong' })).status, 401);
  t.equal((await call(server, 'GET', '/status', { Authorization: 'Bearer s3cret-longer' })).status, 401);
  t.equal((await call(server, 'GET', '/metrics', { Authorization: 'Basic s3cret' })).status, 401);
  t.equal((await call(server, 'POST', '/apps/pool/claim')).status, 401, 'claims are guarded too');
  t.equal((await call(server, 'GET', '/status', { Authorization: 'Bearer s3cret' })).status, 200);
  t.equal((await call(server, 'POST', '/apps/pool/claim', { Authorization: 'bearer s3cret' })).status, 200);
});

t.test('serves IPv6 loopback', async (t) => {
  const { server } = await serve(t, { listen: '[::1]:0' });
  t.equal(server.address.host, '::1');
  t.equal((await call(server, 'GET', '/status')).status, 200);
});

t.test('a non-loopback or malformed address is refused before binding', async (t) => {
  const supervisor = new FakeSupervisor();
  const metrics = new SupervisorMetrics(supervisor);
  t.teardown(() => metrics.close());
  for (const listen of ['0.0.0.0:0', '[::]:0', '10.1.2.3:9464', 'localhost:9464', '127.0.0.1']) {
    await t.rejects(startHttpServer(supervisor, metrics, { listen }), LifeguardFailure, listen);
  }
  await t.rejects(startHttpServer(supervisor, metrics, { listen: '0.0.0.0:0' }), { message: "http.listen '0.0.0.0:0': expected a loopback address (127.0.0.0/8, ::1) or allowNonLoopback" });
  // The same words as the config check's (test/supervisor/config.test.ts), from the one judge of listen addresses.
  await t.rejects(startHttpServer(supervisor, metrics, { listen: 'localhost:9464' }), { message: "http.listen 'localhost:9464': expected an IP address and port such as 127.0.0.1:9464 or [::1]:9464" });
});

t.test('a port in use is a clear error', async (t) => {
  const { server } = await serve(t);
  const supervisor = new FakeSupervisor();
  const metrics = new SupervisorMetrics(supervisor);
  t.teardown(() => metrics.close());
  await t.rejects(startHttpServer(supervisor, metrics, { listen: `127.0.0.1:${server.address.port}` }), { message: /address already in use/ });
});
