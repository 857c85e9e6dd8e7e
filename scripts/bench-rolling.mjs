// npm run bench:rolling — a rolling update of 10 instances under steady client load: failed requests and time.
//
// `lifeguard run` (the CLI, as an operator runs it) keeps 10 instances of a small HTTP app that answers with its
// VERSION. A load balancer in this script follows GET /apps/web/endpoints?watch=1, lifeguard's Server-Sent Events
// of the routable instances. It proxies every request it gets to the next endpoint, round robin, over a fresh
// connection. --clients loops send requests to it back to back. Once the load runs, the config is changed
// (VERSION 1 → 2) and handed over with `lifeguard apply`. The run measures:
// - requests sent during the roll, and failed ones (not a 200: the balancer answers 502 when its proxying fails;
//   target 0). The balancer holds no state of its own beyond the endpoint list.
// - the roll's time: from `lifeguard apply` to the last old instance destroyed, with every endpoint on version 2.
// - versions seen: every answer says which version served it.
// Cases: `drain` is the app's routing.drain, the wait between an instance leaving the endpoints and its SIGTERM.
// With 0s a balancer still sends to an instance in the moment between the two (Kubernetes' preStop-sleep problem);
// the default case (1s) is the target.
//
// Flags: --instances 10  --clients 8  --drains 1s,0s  --probe sidecar  --out bench/results
// Bounded: every wait has a deadline; the supervisor is stopped and its apps checked gone.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, createServer, Agent } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { flags, machine, machineLine, markdownTable, ms, RESULTS, usage, write } from './lib/report.mjs';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const CLI = join(ROOT, 'bin/lifeguard.js');
const REQUEST_TIMEOUT_MS = 2000;
const READY_BOUND_MS = 60_000;
const ROLL_BOUND_MS = 120_000;
const LOAD_BEFORE_MS = 2000;
const LOAD_AFTER_MS = 2000;

const opts = flags({ instances: '10', clients: '8', drains: '1s,0s', probe: 'sidecar', out: RESULTS });
const instances = Number(opts.instances);
const clients = Number(opts.clients);
if (!Number.isInteger(instances) || instances < 1) usage(`--instances ${opts.instances}: expected a positive integer`);
if (!Number.isInteger(clients) || clients < 1) usage(`--clients ${opts.clients}: expected a positive integer`);
if (!['sidecar', 'native', 'oneshot'].includes(opts.probe)) usage(`--probe ${opts.probe}: expected sidecar, native or oneshot`);
const drains = opts.drains.split(',').map((d) => ({ text: d, ms: ms(d) }));

// The app: answers its VERSION, and on SIGTERM stops listening, finishes what it has and exits, as a well-behaved
// app does. It becomes ready after 300ms, so that replacements take a moment, as real apps do.
const APP = `
const { createServer } = require('node:http');
const server = createServer((req, res) => res.end(process.env.VERSION));
setTimeout(() => server.listen(Number(process.env.PORT), '127.0.0.1'), 300);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function config(dir, port, version, drain) {
  const check = { http_check: { port: 8080, path: '/', request_timeout_ms: 1000 } };
  return {
    apps: [{
      name: 'web',
      command: [process.execPath, join(dir, 'app.cjs')],
      env: { VERSION: version },
      instances,
      ports: [8080],
      checks: [check],
      startupInterval: '200ms',
      livenessInterval: '1s',
      probe: opts.probe,
      gracePeriod: '5s',
      routing: { checks: [check], interval: '500ms', drain },
    }],
    http: { listen: `127.0.0.1:${port}` },
    stateDir: join(dir, 'state'),
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Follows the endpoints' event stream; `list` is the latest list of `host:port`s, `ids` their instances. */
function followEndpoints(port) {
  const state = { list: [], ids: [], changes: 0, closed: false };
  let buffer = '';
  const req = request({ host: '127.0.0.1', port, path: '/apps/web/endpoints?watch=1', headers: { accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (!event.split('\n').includes('event: endpoints') || data === undefined) continue;
        const { endpoints } = JSON.parse(data.slice('data: '.length));
        state.list = endpoints.map((e) => e.address);
        state.ids = endpoints.map((e) => e.instance);
        state.changes++;
      }
    });
    res.on('close', () => (state.closed = true));
  });
  req.on('error', () => (state.closed = true));
  req.end();
  return { state, close: () => req.destroy() };
}

/** The load balancer: round robin over the endpoints, a fresh connection per request, 502 when proxying fails. */
async function startBalancer(endpoints) {
  let next = 0;
  const server = createServer((req, res) => {
    const list = endpoints.state.list;
    if (list.length === 0) return res.writeHead(503).end('no endpoint');
    const [host, port] = list[next++ % list.length].split(':');
    const upstream = request({ host, port: Number(port), path: req.url, agent: false, timeout: REQUEST_TIMEOUT_MS }, (answer) => {
      res.writeHead(answer.statusCode ?? 502);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('upstream failed');
      else res.destroy();
    });
    upstream.end();
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { port: server.address().port, close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }) };
}

/** --clients loops, each one request at a time; counts by outcome and by version, from `phase()` on. */
function startLoad(port, phase) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const counts = {};
  let running = true;
  const count = (key) => {
    const at = (counts[phase()] ??= { sent: 0, failed: 0, versions: {} });
    at.sent++;
    if (key.startsWith('v')) at.versions[key] = (at.versions[key] ?? 0) + 1;
    else at.failed++;
  };
  const one = () =>
    new Promise((done) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
        res.on('end', () => done(res.statusCode === 200 ? `v${body}` : `status ${res.statusCode}`));
        res.on('error', () => done('error'));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done('error'));
      req.end();
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) count(await one());
  });
  return { counts, stop: async () => { running = false; await Promise.all(loops); agent.destroy(); } };
}

async function until(what, predicate, boundMs) {
  const deadline = Date.now() + boundMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${boundMs}ms`);
    await sleep(50);
  }
}

async function roll(drain) {
  const dir = mkdtempSync(join(os.tmpdir(), 'lifeguard-rolling-'));
  writeFileSync(join(dir, 'app.cjs'), APP);
  const port = await freePort();
  const path = join(dir, 'lifeguard.json');
  writeFileSync(path, JSON.stringify(config(dir, port, '1', drain.text)));
  const supervisor = spawn(process.execPath, [CLI, 'run', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  let partial = '';
  supervisor.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) log.push(JSON.parse(line));
  });
  let stderr = '';
  supervisor.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((done) => supervisor.once('exit', (code, signal) => done({ code, signal })));
  let endpoints;
  let balancer;
  let load;
  try {
    await until('the first instances healthy', () => log.filter((t) => t.to === 'healthy').length >= instances, READY_BOUND_MS);
    endpoints = followEndpoints(port);
    await until(`${instances} endpoints`, () => endpoints.state.list.length === instances, READY_BOUND_MS);
    balancer = await startBalancer(endpoints);
    let phase = 'before';
    load = startLoad(balancer.port, () => phase);
    await sleep(LOAD_BEFORE_MS);

    writeFileSync(path, JSON.stringify(config(dir, port, '2', drain.text)));
    phase = 'roll';
    const began = performance.now();
    const applied = await promisify(execFile)(process.execPath, [CLI, 'apply', path]);
    if (!/applied: web rolling/.test(applied.stdout)) throw new Error(`lifeguard apply said: ${applied.stdout}${applied.stderr}`);
    const old = new Set(Array.from({ length: instances }, (_, i) => `web-${i + 1}`));
    await until('the roll done', () => {
      const gone = log.filter((t) => t.to === 'destroyed' && old.has(t.instance)).length === instances;
      return gone && endpoints.state.ids.length === instances && endpoints.state.ids.every((id) => !old.has(id));
    }, ROLL_BOUND_MS);
    const rollMs = performance.now() - began;
    phase = 'after';
    await sleep(LOAD_AFTER_MS);
    const running = load;
    load = undefined;
    await running.stop();
    return { drain: drain.text, rollMs, endpointChanges: endpoints.state.changes, counts: running.counts };
  } finally {
    await load?.stop();
    endpoints?.close();
    await balancer?.close();
    supervisor.kill('SIGTERM');
    const end = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
    if (end === undefined) supervisor.kill('SIGKILL');
    const left = appsLeft(dir);
    rmSync(dir, { recursive: true, force: true });
    if (end === undefined) throw new Error('lifeguard did not stop within 30s of SIGTERM');
    if (end.code !== 0) throw new Error(`lifeguard ended with ${end.code ?? end.signal}: ${stderr}`);
    if (left.length > 0) throw new Error(`app processes left after lifeguard stopped: ${left.join(', ')}`);
  }
}

/** Pids of live processes running this run's app. */
function appsLeft(dir) {
  const needle = join(dir, 'app.cjs');
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((name) => {
    try {
      return readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(needle);
    } catch {
      return false;
    }
  });
}

const m = machine();
const results = [];
for (const drain of drains) {
  process.stderr.write(`rolling ${instances} instances with drain ${drain.text} under ${clients} clients...\n`);
  results.push(await roll(drain));
}
const load = os.loadavg()[0].toFixed(1);
const rows = results.map((r) => {
  const during = r.counts.roll ?? { sent: 0, failed: 0, versions: {} };
  const all = Object.values(r.counts);
  const versions = Object.entries(during.versions).map(([v, n]) => `${v}: ${n}`).join(', ');
  return [
    r.drain,
    String(during.sent),
    `**${during.failed}**`,
    String(all.reduce((sum, c) => sum + c.failed, 0) - during.failed),
    `${(r.rollMs / 1000).toFixed(1)} s`,
    versions,
    String(r.endpointChanges),
  ];
});
const table = markdownTable(['drain', 'requests during the roll', 'failed during the roll (target 0)', 'failed before/after', 'roll time', 'versions served during the roll', 'endpoint events'], rows);
const text = `Rolling update of ${instances} instances (probe ${opts.probe}), ${clients} clients through a balancer following the endpoints; load average ${load} at the end.\n${machineLine(m)}\n\n${table}\n`;
process.stdout.write(text);
write(join(opts.out, 'rolling.json'), `${JSON.stringify({ machine: m, instances, clients, probe: opts.probe, results }, null, 2)}\n`);
write(join(opts.out, 'rolling.md'), text);
