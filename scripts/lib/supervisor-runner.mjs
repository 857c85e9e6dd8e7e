// The supervisor under measurement, alone in its own process so that its CPU and memory (and those of the agents
// it spawns, its only children) are measured cleanly. It runs one app of COUNT instances on the fixture's ports
// through a driver of its own (every instance is a port of the one fixture process) and the library's real
// Supervisor, probes, transition log, metrics and status page history.
//
//   node supervisor-runner.mjs '<json plan>'
// plan: {probe, ports, startupIntervalMs, livenessIntervalMs, startupTimeoutMs, agentPath, stateDir, check?: 'http'|'tcp',
//        agentStartConcurrency?, profile?: path prefix}
// With `profile`, the window from "mark" to "stats" is profiled in-process (node:inspector): its CPU profile to
// <profile>.cpuprofile, its allocations (heap sampling, counting objects already collected too: what a check
// allocates, garbage included) to <profile>.heapprofile, for Chrome's DevTools.
// stdout: the transition log (JSON lines), exactly as `lifeguard run` writes it.
// fd 3:   the benchmark's own events, JSON lines: {e:"ready"} once built; {e:"launch",instance,port};
//         {e:"stats",checks,late:[p50,p99,max],gc:{count,ms},heap:{heapUsed,heapTotal,external,spaces}} in answer to
//         stdin "stats" (checks, lateness and garbage collections since the last "mark" line; the heap now). stdin "go" starts the supervisor. SIGTERM stops it gracefully, then the process exits.
import { createWriteStream, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';
import { StatusPage, Supervisor, SupervisorMetrics, TransitionLog } from '../../dist/index.js';
import { percentiles } from './stats.mjs';

const plan = JSON.parse(process.argv[2]);
const events = createWriteStream(null, { fd: 3 });
const emit = (event) => events.write(`${JSON.stringify(event)}\n`);

/** Every instance is a port of the fixture process: launch hands out a free port, destroy gives it back. */
class FixtureDriver {
  free = [...plan.ports];

  async launch({ instance }) {
    const port = this.free.shift();
    if (port === undefined) return { ok: false, reason: 'the fixture has no free port left' };
    emit({ e: 'launch', instance, port });
    return {
      ok: true,
      running: {
        pid: null,
        address: `127.0.0.1:${port}`,
        tracked: [],
        endpoint: () => ({ host: '127.0.0.1', port }),
        destroy: async () => {
          this.free.push(port);
          return { forced: false };
        },
      },
    };
  }
}

// HTTP GET /health by default; `check: "tcp"` connects only, to show what the HTTP layer costs.
const health =
  plan.check === 'tcp'
    ? { kind: 'tcp', port: 8080, timeoutMs: 1000 }
    : { kind: 'http', port: 8080, path: '/health', timeoutMs: 1000, expectStatus: [{ min: 200, max: 200 }], headers: [], followRedirects: false };
const supervisor = new Supervisor({
  apps: [
    {
      name: 'bench',
      env: {},
      instances: plan.ports.length,
      ports: [8080],
      checks: [health],
      readinessChecks: [health],
      startupTimeoutMs: plan.startupTimeoutMs,
      startupIntervalMs: plan.startupIntervalMs,
      livenessIntervalMs: plan.livenessIntervalMs,
      probe: plan.probe,
      driver: 'process',
      gracePeriodMs: 1000,
      prewarm: 0,
      restart: { immediate: 3, backoffMinMs: 30_000, backoffMaxMs: 960_000, maxRestarts: 200, resetAfterMs: 300_000 },
    },
  ],
  stateDir: plan.stateDir,
  agentPath: plan.agentPath,
  ...(plan.agentStartConcurrency === undefined ? {} : { tuning: { agentStartConcurrency: plan.agentStartConcurrency } }),
  driver: new FixtureDriver(),
});
supervisor.on('transition', new TransitionLog(process.stdout).write);
// What `lifeguard run` attaches to every check (src/cli/lifeguard-main.ts): its metrics always, the status page's
// history when `http:` is configured. Both follow each check, so the bench pays for them as a run with `http:` does.
const metrics = new SupervisorMetrics(supervisor);
const page = new StatusPage(supervisor);

// Checks and their lateness since the last "mark": a growable typed array, so that counting costs no allocation per check.
// Only native and oneshot rounds carry a lateness; sidecar agents keep their own clocks.
let late = new Float64Array(1 << 16);
let lateCount = 0;
let checks = 0;
supervisor.on('check', (check) => {
  checks++;
  if (check.lateMs === undefined) return;
  if (lateCount === late.length) {
    const bigger = new Float64Array(late.length * 2);
    bigger.set(late);
    late = bigger;
  }
  late[lateCount++] = check.lateMs;
});

// Garbage collections since the last "mark": how much a check allocates shows here first.
const gc = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const session = plan.profile === undefined ? undefined : new Session();
session?.connect();
async function startProfiling() {
  await session.post('Profiler.enable');
  // A sample every 100 µs: a check's own work is tens of µs, which the default 1 ms would hardly see.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
async function stopProfiling() {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(`${plan.profile}.cpuprofile`, JSON.stringify(profile));
  const { profile: heap } = await session.post('HeapProfiler.stopSampling');
  writeFileSync(`${plan.profile}.heapprofile`, JSON.stringify(heap));
}

const stats = () => {
  const { heapUsed, heapTotal, external } = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  emit({ e: 'stats', checks, late: percentiles(late.subarray(0, lateCount), [50, 99, 100]), gc, heap: { heapUsed, heapTotal, external, spaces } });
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'go') void supervisor.start();
  else if (line === 'mark') {
    checks = lateCount = gc.count = gc.ms = 0;
    if (session !== undefined) void startProfiling();
  } else if (line === 'stats') {
    if (session === undefined) stats();
    else void stopProfiling().then(stats);
  }
});
process.on('SIGTERM', () => {
  page.close();
  metrics.close();
  void supervisor.stop().then(() => events.end(() => process.exit(0)));
});
emit({ e: 'ready' });
