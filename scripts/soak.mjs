// npm run soak [-- --minutes 10 --instances 200 --seed 1]
// Hundreds of instances crash-looping and flapping at random (test/fixtures/flaky-app.pl) under the built
// supervisor CLI for a bounded time, sampled every few seconds: the supervisor's RSS and open descriptors must stay
// flat, it must leave no zombie, every failure must be followed by its reschedule, the log must hold exactly one
// line per transition, and once the chaos stops (a CALM file) every app must be back at its desired count.
// Prints a summary table and writes bench/results/soak.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditLog } from '../test/helpers/log-audit.ts';
import { flags, usage } from './lib/report.mjs';
import { median } from './lib/stats.mjs';

const values = flags({ minutes: '10', instances: '200', seed: '1' });
const minutes = Number(values.minutes);
const instances = Number.parseInt(values.instances, 10);
const seed = values.seed;
if (!(minutes > 0) || !(instances > 0)) usage('--minutes and --instances take positive numbers');

const SAMPLE_MS = 3000;
const CALM_LIMIT_MS = 90_000;
const ROOT = new URL('..', import.meta.url).pathname;
const work = join(ROOT, 'bench/tmp', `soak-${seed}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const calm = join(work, 'CALM');

// Four native apps share most instances; one sidecar app keeps agent processes and their pipes in the mix.
const sidecars = Math.min(10, Math.floor(instances / 10));
const natives = instances - sidecars;
const split = [0, 1, 2, 3].map((i) => Math.floor(natives / 4) + (i < natives % 4 ? 1 : 0));
const app = (name, count, probe) => ({
  name,
  command: ['perl', join(ROOT, 'test/fixtures/flaky-app.pl')],
  env: { SOAK_SEED: seed, CALM: calm },
  instances: count,
  ports: [8080],
  checks: [{ http_check: { port: 8080, path: '/health', request_timeout_ms: 500 } }],
  startTimeout: '3s',
  startupInterval: '250ms',
  livenessInterval: '500ms',
  probe,
  gracePeriod: '1s',
  // Short backoff, never giving up: every instance keeps looping for the whole run.
  restart: { immediate: 3, backoffMin: '500ms', backoffMax: '4s', maxRestarts: 1_000_000, resetAfter: '10s' },
});
const port = await freePort();
const apps = [...split.map((count, i) => app(`flaky-${i}`, count, 'native')), app('flaky-sidecar', sidecars, 'sidecar')].filter((a) => a.instances > 0);
writeFileSync(join(work, 'config.json'), JSON.stringify({ apps, http: { listen: `127.0.0.1:${port}` }, stateDir: join(work, 'state') }));

const supervisor = spawn(process.execPath, [join(ROOT, 'bin/lifeguard.js'), 'run', join(work, 'config.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
const lines = [];
let partial = '';
let stderr = '';
supervisor.stdout.setEncoding('utf8').on('data', (text) => {
  const all = (partial + text).split('\n');
  partial = all.pop();
  lines.push(...all);
});
supervisor.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
const exited = new Promise((resolve) => supervisor.once('exit', (code, signal) => resolve({ code, signal })));

const began = performance.now();
const samples = [];
// A zombie is an exit the supervisor has not collected yet: a busy event loop leaves some for a moment, so only
// one still there a whole sample later (3s) counts as a leak.
const zombiesSeen = new Set();
const zombiesLeaked = new Set();
let previousZombies = new Set();
console.error(`soak: ${instances} instances (${natives} native, ${sidecars} sidecar), ${minutes} min, seed ${seed}, supervisor pid ${supervisor.pid}`);
while (performance.now() - began < minutes * 60_000 && supervisor.exitCode === null) {
  await sleep(SAMPLE_MS);
  const sample = { t: (performance.now() - began) / 1000, rssKiB: rssKiB(supervisor.pid), fds: fdCount(supervisor.pid), transitions: lines.length, zombies: zombies(supervisor.pid) };
  for (const pid of sample.zombies) {
    zombiesSeen.add(pid);
    if (previousZombies.has(pid)) zombiesLeaked.add(pid);
  }
  previousZombies = new Set(sample.zombies);
  samples.push({ ...sample, zombies: sample.zombies.length });
  if (samples.length % 10 === 0) console.error(`  ${sample.t.toFixed(0)}s rss ${(sample.rssKiB / 1024).toFixed(1)} MiB, ${sample.fds} fds, ${sample.transitions} transitions`);
}

// The chaos stops: every app must come back to its desired count, all healthy.
writeFileSync(calm, '');
const calmBegan = performance.now();
let restored = false;
let status;
while (!restored && performance.now() - calmBegan < CALM_LIMIT_MS && supervisor.exitCode === null) {
  await sleep(1000);
  status = await getJson(port, '/status').catch(() => undefined);
  restored = status?.apps.every((a) => a.instances.length === a.desired && a.instances.every((i) => i.state === 'healthy')) === true;
}
const restoredAfterS = (performance.now() - calmBegan) / 1000;
const finalZombies = zombies(supervisor.pid);
supervisor.kill('SIGTERM');
const ended = await exited;
if (partial !== '') lines.push(partial);

// The log: every line parses, and the audit holds over the whole run.
let unparsed = 0;
const transitions = lines.flatMap((line) => {
  try {
    return [JSON.parse(line)];
  } catch {
    unparsed += 1;
    return [];
  }
});
const violations = auditLog(transitions, true);
const failures = transitions.filter((t) => ['crashed', 'unhealthy', 'timed-out'].includes(t.to)).length;
const reschedules = transitions.filter((t) => t.cause === 'restart').length;
const leftovers = leftoverProcesses(join(work, 'state'));
const recordsLeft = existsSync(join(work, 'state/instances')) ? readdirSync(join(work, 'state/instances')) : [];

// The first window starts after a warm-up: the fleet (and the sidecar agents' pipes) is still being created.
const WARMUP_S = 15;
const windowS = Math.min(60, (minutes * 60) / 4);
const curve = (key) => {
  const firstWindow = samples.filter((s) => s.t > WARMUP_S && s.t <= WARMUP_S + windowS).map((s) => s[key]);
  const lastWindow = samples.filter((s) => s.t >= samples.at(-1).t - windowS).map((s) => s[key]);
  const [first, last] = [median(firstWindow), median(lastWindow)];
  return { first, last, ratio: last / first, firstFloor: Math.min(...firstWindow), lastFloor: Math.min(...lastWindow), slopePerMin: slope(samples.map((s) => [s.t / 60, s[key]])) };
};
const rss = curve('rssKiB');
const fds = curve('fds');
// Flat: RSS at the end within a quarter of the start. Descriptors come and go with the checks in flight (a busy
// moment doubles them), but a leak raises even the quietest moment: the fewest open in the last window must not
// exceed the typical (median) count of the first, plus a little.
const checks = {
  'RSS flat': rss.last <= rss.first * 1.25,
  'fds flat (end floor <= start median)': fds.lastFloor <= fds.first + 8,
  'no zombie left (none outlived a sample, none at the end)': zombiesLeaked.size === 0 && finalZombies.length === 0,
  'every line parses': unparsed === 0,
  'one line per transition, every failure rescheduled': violations.length === 0,
  'desired counts restored (all healthy)': restored,
  'exit 0, on stderr only that it stopped': ended.code === 0 && /^\S+Z lifeguard: stopped \(SIGTERM\): every instance is gone\n$/.test(stderr),
  'no process left, no record left': leftovers.length === 0 && recordsLeft.length === 0,
};
const summary = {
  seed, minutes, instances, natives, sidecars, samples: samples.length, transitions: transitions.length, failures, reschedules,
  rss, fds, zombies: { transient: zombiesSeen.size, leaked: [...zombiesLeaked], atEnd: finalZombies }, violations: violations.slice(0, 20), violationCount: violations.length,
  unparsed, restored, restoredAfterS, exit: ended, stderr: stderr.slice(0, 2000), leftovers, recordsLeft, checks, curve: samples,
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/soak.json'), `${JSON.stringify(summary, null, 2)}\n`);

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
console.log(`\nsoak: seed ${seed}, ${minutes} min, ${instances} instances, ${samples.length} samples every ${SAMPLE_MS / 1000}s`);
console.table({
  'RSS': { first: mib(rss.first), last: mib(rss.last), 'last/first': rss.ratio.toFixed(2), 'slope /min': mib(rss.slopePerMin) },
  'open fds': { first: fds.first, last: fds.last, 'last/first': fds.ratio.toFixed(2), 'slope /min': fds.slopePerMin.toFixed(2), 'floor first → last': `${fds.firstFloor} → ${fds.lastFloor}` },
});
console.table({ transitions: transitions.length, failures, reschedules, 'zombies (transient)': zombiesSeen.size, 'zombies (leaked)': zombiesLeaked.size, 'log violations': violations.length, 'restored after (s)': restoredAfterS.toFixed(1) });
console.table(Object.fromEntries(Object.entries(checks).map(([name, ok]) => [name, ok ? 'pass' : 'FAIL'])));
console.log('written: bench/results/soak.json');
process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Children of `parent` in state Z: exited, never waited for. */
function zombies(parent) {
  return procStats().filter((s) => s.ppid === parent && s.state === 'Z').map((s) => s.pid);
}

/** Every process still alive that carries the state directory in its environment (every app the run started). */
function leftoverProcesses(stateDir) {
  const marker = `LIFEGUARD_STATE_DIR=${stateDir}\0`;
  return procStats()
    .filter((s) => s.state !== 'Z')
    .filter((s) => {
      try {
        return readFileSync(`/proc/${s.pid}/environ`, 'latin1').includes(marker);
      } catch {
        return false;
      }
    })
    .map((s) => s.pid);
}

function procStats() {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return [{ pid: Number(name), state: rest[0], ppid: Number(rest[1]) }];
    } catch {
      return [];
    }
  });
}

/** Least-squares slope of [x, y] points. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
    server.on('error', reject);
  });
}

function getJson(at, path) {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port: at, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text) => (body += text));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
