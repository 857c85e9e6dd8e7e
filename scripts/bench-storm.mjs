// npm run bench:storm — the evacuation storm of Diego's health-check proposal, on this machine.
//
// N instances start at the same moment; each app answers GET /health with 503 until a random ready moment in
// [0, --ready-max) after the start, then 200; the start timeout is --start-timeout. Every strategy runs the same
// storm (same seed, so the same ready moments), one after the other, in the same run:
//   legacy-500ms  oneshot probe: one `healthcheck --mode=once` process per check, every 500ms (Diego before sidecars)
//   legacy-2s     the same every 2s
//   sidecar       one `healthcheck --mode=lifecycle` agent per instance life, startup interval 500ms, agent starts paced
//                 (readiness checked by the supervisor while an agent waits its turn; then a liveness agent)
//   native        the check engine in the supervisor process, startup interval 500ms
// The agent is the single executable dist/healthcheck, as a platform would bind-mount it.
//
// The apps are ONE fixture process serving N ports on 127.0.0.1 (scripts/lib/fixture.mjs), so that the machine
// measures health checking, not app start-up. The supervisor runs alone in a child process (scripts/lib/
// supervisor-runner.mjs: the library's Supervisor, probes and transition log, with a driver whose instances are
// the fixture's ports), so that its CPU and memory, and those of the agents it spawns, are measured apart from
// the fixture and from this script.
//
// What is measured, per strategy and N:
// - false start timeouts: instances whose app became ready (all do, within --ready-max < --start-timeout) but
//   that were not seen healthy within the start timeout of their start;
// - detection latency: the app's ready moment (recorded by the fixture) to the instance's `healthy` transition
//   (the time in its log line), p50 / p99 / max over the instances seen healthy;
// - CPU seconds spent on health checking, from the storm's start to its end (every instance decided, or the
//   bound): the supervisor process's own utime+stime (/proc/<pid>/stat) minus what it had spent before the start
//   (Node.js boot and loading the library are not checking), plus cutime+cstime — the CPU of every agent it has
//   already reaped (the kernel adds a child's CPU to its parent's cutime/cstime when the parent waits for it,
//   which Node does on SIGCHLD) — plus utime+stime of every agent still alive at the end (long-lived sidecars);
// - peak memory of all checking processes together: every ~250ms, the supervisor and all its descendants; each
//   process's anonymous RSS plus, once per program, file-backed RSS (N agents share one copy of the binary's
//   text), and the plain RSS sum beside it; per instance = (peak − the supervisor's own before the start) / N;
// - log lines the supervisor wrote; wall time from the start until every instance was healthy.
// Every run is bounded (start timeout + 20s after the start, or aborted when the machine's available memory
// falls under 1.5 GiB), then the supervisor gets SIGTERM (SIGKILL after 30s) and every process is checked gone.
// This script's own /proc sampling competes for the same two CPUs; it is the same for every strategy.
//
// Flags: --n 100,500,1000  --strategies legacy-500ms,legacy-2s,sidecar,native  --ready-max 10s
//        --start-timeout 30s  --out bench/results  --seed 1  --agent-starts N (default: the supervisor's, 2 per core)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, descendants, groupMemory, idleShare, memAvailable, startTime } from './lib/proc.mjs';
import { startFixture, startRunner, stopAndVerify } from './lib/processes.mjs';
import { fmt, flags, machine, machineLine, markdownTable, ms, RESULTS, svgPanels, usage, write } from './lib/report.mjs';
import { percentiles } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STRATEGIES = {
  'legacy-500ms': { probe: 'oneshot', intervalMs: 500 },
  'legacy-2s': { probe: 'oneshot', intervalMs: 2000 },
  sidecar: { probe: 'sidecar', intervalMs: 500 },
  native: { probe: 'native', intervalMs: 500 },
};
const LIVENESS_INTERVAL_MS = 30_000;
const BOUND_AFTER_TIMEOUT_MS = 20_000;
const SAMPLE_MS = 250;
const MIN_AVAILABLE_BYTES = 1.5 * 2 ** 30;
const MiB = 2 ** 20;

const opts = flags({ n: '100,500,1000', strategies: Object.keys(STRATEGIES).join(','), 'ready-max': '10s', 'start-timeout': '30s', out: RESULTS, seed: '1', 'agent-starts': '' });
// Sidecar agents booting at once (the supervisor's agentStartConcurrency); empty: the supervisor's default.
const agentStarts = opts['agent-starts'] === '' ? undefined : Number(opts['agent-starts']);
if (agentStarts !== undefined && !(Number.isInteger(agentStarts) && agentStarts >= 1)) usage(`--agent-starts ${opts['agent-starts']}: expected an integer of at least 1`);
const counts = opts.n.split(',').map(Number);
const strategies = opts.strategies.split(',');
for (const s of strategies) if (!(s in STRATEGIES)) usage(`unknown strategy ${s}; one of ${Object.keys(STRATEGIES).join(', ')}`);
const readyMaxMs = ms(opts['ready-max']);
const startupTimeoutMs = ms(opts['start-timeout']);
const agentPath = join(ROOT, 'dist/healthcheck');

async function storm(name, count) {
  const { probe, intervalMs } = STRATEGIES[name];
  // Each fixture port holds a listener and, per check in flight, an accepted socket; the supervisor a socket or pipes per agent.
  const nofile = 4 * count + 1024;
  const fixture = await startFixture({ count, readyMaxMs, seed: Number(opts.seed) * 7919 + count, nofile });
  const stateDir = mkdtempSync(join(os.tmpdir(), 'lifeguard-storm-'));
  const runner = await startRunner({ probe, ports: fixture.ports, startupIntervalMs: intervalMs, livenessIntervalMs: LIVENESS_INTERVAL_MS, startupTimeoutMs, agentPath, stateDir, ...(agentStarts === undefined ? {} : { agentStartConcurrency: agentStarts }) }, nofile);
  const pid = runner.child.pid;

  const portOf = new Map();
  const life = new Map(); // instance → {starting, healthy, timedOut} (epoch ms)
  let logLines = 0;
  const timeoutReasons = new Set();
  runner.events.on((m) => m.e === 'launch' && portOf.set(m.instance, m.port));
  runner.log.on((t) => {
    logLines++;
    const entry = life.get(t.instance) ?? {};
    life.set(t.instance, entry);
    const at = Date.parse(t.time);
    if (t.to === 'starting') entry.starting = at;
    else if (t.to === 'healthy') entry.healthy ??= at;
    else if (t.to === 'timed-out') {
      entry.timedOut = at;
      // A few distinct reasons say why instances timed out (the agent's report, a lost agent, the check's error).
      if (timeoutReasons.size < 5) timeoutReasons.add(t.reason?.replace(/\d+/g, 'N'));
    }
  });
  // The storm's own instances are the first `count` (bench-1…); replacements of timed-out ones are not judged.
  const originals = Array.from({ length: count }, (_, i) => `bench-${i + 1}`);
  const decided = () => originals.every((id) => life.get(id)?.healthy !== undefined || life.get(id)?.timedOut !== undefined);

  const loadBefore = os.loadavg()[0];
  const before = cpuSeconds(pid);
  const memBefore = groupMemory([pid]).bytes;
  const moments = fixture.go();
  runner.send('go');
  const { goAt, readyAt } = await moments;
  const readyOf = new Map(fixture.ports.map((port, i) => [port, readyAt[i]]));

  const seen = new Map(); // pid → start time
  let peak = { bytes: 0, rssSum: 0, processes: 0 };
  let aborted;
  const bound = goAt + startupTimeoutMs + BOUND_AFTER_TIMEOUT_MS;
  while (!decided() && Date.now() < bound) {
    const pids = [pid, ...descendants(pid)];
    for (const p of pids.slice(1)) if (!seen.has(p)) seen.set(p, startTime(p));
    const mem = groupMemory(pids);
    if (mem.bytes > peak.bytes) peak = mem;
    if (memAvailable() < MIN_AVAILABLE_BYTES) {
      aborted = `machine memory nearly exhausted (${mem.processes} processes, ${Math.round(mem.bytes / MiB)} MiB)`;
      break;
    }
    await sleep(SAMPLE_MS);
  }
  const endAt = Date.now();
  const loadEnd = os.loadavg()[0];
  // CPU at the storm's end: the supervisor's own since the start, the agents it reaped, and those still alive.
  const after = cpuSeconds(pid);
  const live = descendants(pid);
  for (const p of live) if (!seen.has(p)) seen.set(p, startTime(p));
  const liveCpu = live.map(cpuSeconds).reduce((sum, c) => sum + (c === undefined ? 0 : c.own + c.reaped), 0);
  const supervisorCpu = after.own - before.own;
  const agentCpu = after.reaped - before.reaped + liveCpu;
  const logLinesAtEnd = logLines;

  // A supervisor stopping a thousand agents on an overloaded machine takes a while; past the grace it is killed,
  // and whatever it had not stopped yet is killed by pid and reported as a leftover.
  const leftovers = await stopAndVerify(runner.child, seen, 60_000);
  leftovers.push(...(await stopAndVerify(fixture.child, new Map(), 10_000)));
  rmSync(stateDir, { recursive: true, force: true });

  const latencies = [];
  // The slowest detections with the moment their app became ready: a tail bunched near the start is the start-up burst.
  const slowest = [];
  let falseTimeouts = 0;
  let lastHealthy = 0;
  for (const id of originals) {
    const entry = life.get(id) ?? {};
    const ready = readyOf.get(portOf.get(id));
    const healthyInTime = entry.healthy !== undefined && entry.healthy - (entry.starting ?? goAt) <= startupTimeoutMs;
    if (!healthyInTime) falseTimeouts++;
    if (entry.healthy !== undefined) {
      latencies.push(entry.healthy - ready);
      slowest.push({ readyAfterMs: ready - goAt, detectionMs: entry.healthy - ready });
      lastHealthy = Math.max(lastHealthy, entry.healthy);
    }
  }
  const [p50, p99, max] = percentiles(latencies, [50, 99, 100]);
  return {
    strategy: name,
    probe,
    n: count,
    startupIntervalMs: intervalMs,
    falseStartTimeouts: falseTimeouts,
    timeoutReasons: [...timeoutReasons],
    healthy: latencies.length,
    detectionMs: { p50, p99, max },
    slowestDetections: slowest.sort((a, b) => b.detectionMs - a.detectionMs).slice(0, 10),
    cpuSeconds: { total: supervisorCpu + agentCpu, supervisor: supervisorCpu, agents: agentCpu },
    peakMemoryMiB: peak.bytes / MiB,
    peakRssSumMiB: peak.rssSum / MiB,
    peakProcesses: peak.processes,
    memoryPerInstanceMiB: (peak.bytes - memBefore) / MiB / count,
    logLines: logLinesAtEnd,
    allHealthyAfterMs: latencies.length === count ? lastHealthy - goAt : null,
    measuredForMs: endAt - goAt,
    aborted: aborted ?? null,
    // The machine is shared: the 1-minute load average before and at the end says whether others competed.
    loadAverage: { before: loadBefore, end: loadEnd },
    leftovers,
  };
}

/**
 * Waits (at most 30s) until the machine is at least 90% idle over a second, so that one strategy's run does not
 * pay for the tail of the one before it (the kernel tearing down a thousand agent processes); returns the idle
 * share it started at, which the JSON keeps.
 */
async function settle() {
  let idle = await idleShare(1000);
  for (let waited = 1; idle < 0.9 && waited < 30; waited++) idle = await idleShare(1000);
  return idle;
}

const results = [];
for (const count of counts) {
  for (const name of strategies) {
    process.stderr.write(`storm: ${name} × ${count}… `);
    const idleBefore = await settle();
    const result = { ...(await storm(name, count)), idleBefore };
    results.push(result);
    process.stderr.write(`${result.falseStartTimeouts} false timeouts, p99 ${fmt(result.detectionMs.p99)}ms, ${fmt(result.cpuSeconds.total)} CPU s${result.leftovers.length > 0 ? `, LEFTOVERS ${result.leftovers}` : ''}\n`);
  }
}

const m = machine();
const native = (n) => results.find((r) => r.strategy === 'native' && r.n === n);
const legacy = (n) => results.find((r) => r.strategy === 'legacy-500ms' && r.n === n);
const table = markdownTable(
  ['strategy', 'N', 'false start timeouts', 'detection p50 / p99 / max (ms)', 'checking CPU s (supervisor + agents)', 'peak memory MiB (RSS sum)', 'per instance MiB', 'log lines', 'all healthy after', 'measured', 'load avg', 'processes killed after stop'],
  results.map((r) => [
    r.strategy,
    r.n,
    r.falseStartTimeouts,
    `${fmt(r.detectionMs.p50)} / ${fmt(r.detectionMs.p99)} / ${fmt(r.detectionMs.max)}`,
    `${fmt(r.cpuSeconds.total)} (${fmt(r.cpuSeconds.supervisor)} + ${fmt(r.cpuSeconds.agents)})`,
    `${fmt(r.peakMemoryMiB)} (${fmt(r.peakRssSumMiB)})`,
    fmt(r.memoryPerInstanceMiB),
    r.logLines,
    r.allHealthyAfterMs === null ? 'never' : `${fmt(r.allHealthyAfterMs / 1000)}s`,
    `${fmt(r.measuredForMs / 1000)}s${r.aborted ? ` (aborted: ${r.aborted})` : ''}`,
    `${fmt(r.loadAverage.before)} → ${fmt(r.loadAverage.end)}`,
    r.leftovers.length,
  ]),
);
const ratios = counts
  .filter((n) => native(n) && legacy(n))
  .map((n) => `N=${n}: native used ${fmt((100 * native(n).cpuSeconds.total) / legacy(n).cpuSeconds.total)}% of legacy-500ms's checking CPU`);
const intervals = `Intervals: legacy-500ms = a oneshot check process every 500ms; legacy-2s = every 2s; sidecar (one agent per instance, ${agentStarts ?? `the supervisor's default of ${Math.max(2, 2 * os.availableParallelism())}`} booting at once; while an agent waits its turn the supervisor checks readiness, and an instance found ready gets a liveness agent) and native: startup interval 500ms. Liveness interval 30s; start timeout ${fmt(startupTimeoutMs / 1000)}s; apps ready at a random moment in [0, ${fmt(readyMaxMs / 1000)}s). Each run starts once the machine is at least 90% idle (waiting at most 30s), so that it does not pay for the previous run's teardown.`;
const fixtureNote = 'The apps are one fixture process serving N ports on 127.0.0.1 (HTTP /health: 503, then 200), so that the machine measures checking, not app start-up.';
const md = [`### Evacuation storm (npm run bench:storm)`, '', `Machine: ${machineLine(m)}.`, '', intervals, fixtureNote, '', table, '', ...ratios.map((r) => `- ${r}`), ''].join('\n');
process.stdout.write(`\n${md}\n`);

const out = resolve(opts.out);
write(join(out, 'storm.md'), md);
write(join(out, 'storm.json'), `${JSON.stringify({ machine: m, readyMaxMs, startupTimeoutMs, livenessIntervalMs: LIVENESS_INTERVAL_MS, strategies: STRATEGIES, note: fixtureNote, results }, null, 2)}\n`);
const series = (value) => strategies.map((name) => ({ name, values: counts.map((n) => value(results.find((r) => r.strategy === name && r.n === n))) }));
write(
  join(out, 'storm.svg'),
  svgPanels('Evacuation storm: N instances start at once', `${machineLine(m)} · ${intervals.slice(11, 120)}…`, [
    { title: 'Detection latency p99', unit: 'ms', log: true, groups: counts.map((n) => `N=${n}`), series: series((r) => r?.detectionMs.p99 ?? null) },
    { title: 'Health-checking CPU', unit: 'CPU s', log: true, groups: counts.map((n) => `N=${n}`), series: series((r) => r?.cpuSeconds.total ?? null) },
    { title: 'False start timeouts', unit: 'instances', log: false, groups: counts.map((n) => `N=${n}`), series: series((r) => r?.falseStartTimeouts ?? null) },
  ]),
);
process.stderr.write(`wrote ${out}/storm.{md,json,svg}\n`);
const leaked = results.filter((r) => r.leftovers.length > 0);
if (leaked.length > 0) {
  process.stderr.write(`processes outlived their run (killed by pid): ${leaked.map((r) => `${r.strategy} × ${r.n}: ${r.leftovers.length}`).join(', ')}\n`);
  process.exitCode = 1;
}
