// The supervisor under measurement, alone in its own process so that its CPU and memory (and those of the agents
// it spawns, its only children) are measured cleanly. It runs one app of COUNT instances on the fixture's ports
// through a driver of its own (every instance is a port of the one fixture process) and the library's real
// Supervisor, probes and transition log.
//
//   node supervisor-runner.mjs '<json plan>'
// plan: {probe, ports, startupIntervalMs, livenessIntervalMs, startTimeoutMs, agentPath, stateDir, check?: 'http'|'tcp',
//        agentStartConcurrency?}
// stdout: the transition log (JSON lines), exactly as `lifeguard run` writes it.
// fd 3:   the benchmark's own events, JSON lines: {e:"ready"} once built; {e:"launch",instance,port};
//         {e:"stats",checks,late:[p50,p99,max]} in answer to stdin "stats" (checks and lateness since the last
//         "mark" line). stdin "go" starts the supervisor. SIGTERM stops it gracefully, then the process exits.
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Supervisor, TransitionLog } from '../../dist/index.js';
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
      startTimeoutMs: plan.startTimeoutMs,
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

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'go') void supervisor.start();
  else if (line === 'mark') checks = lateCount = 0;
  else if (line === 'stats') emit({ e: 'stats', checks, late: percentiles(late.subarray(0, lateCount), [50, 99, 100]) });
});
process.on('SIGTERM', () => {
  void supervisor.stop().then(() => events.end(() => process.exit(0)));
});
emit({ e: 'ready' });
