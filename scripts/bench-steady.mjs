// npm run bench:steady — what native probing costs the supervisor once a large fleet is healthy.
//
// Cases (default 10,000 instances at a 30s liveness interval over a 90s window, so that every instance is checked
// at least twice, and 1,000 at 1s over 30s): the instances are ports of ONE fixture process on 127.0.0.1 (GET
// /health answers 200), run by the library's Supervisor alone in a child process (scripts/lib/supervisor-runner.mjs)
// with native probing. Once every instance is healthy and --settle has passed, the window opens; over it:
// - supervisor CPU as a share of one core: the scheduler's nanosecond counters of all its threads
//   (/proc/<pid>/task/*/schedstat), delta over the window's wall time;
// - RSS of the supervisor process (peak and at the end of the window, sampled every second);
// - checks per second sustained: rounds completed in the window / its length;
// - lateness of checks against their schedule, p50 / p99 / max: how long after its tick each round started, as
//   the native probe reports it on every 'check' event.
// Both processes get an open-file limit of their own through prlimit(1) (10,000 listening ports, and the
// readiness burst puts one socket per instance in flight at once). Every run is bounded; both processes are
// stopped and checked gone.
//
// Flags: --cases 10000:30s:90s,1000:1s:30s (count:liveness interval:window, optionally :tcp for TCP checks instead
//        of HTTP ones)  --settle 5s  --out bench/results
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSecondsExact, memory, timeWaitSockets } from './lib/proc.mjs';
import { startFixture, startRunner, stopAndVerify } from './lib/processes.mjs';
import { fmt, flags, machine, machineLine, markdownTable, ms, RESULTS, svgPanels, usage, write } from './lib/report.mjs';

const STARTUP_INTERVAL_MS = 2000;
const START_TIMEOUT_MS = 60_000;
const HEALTHY_BOUND_MS = 120_000;
const SAMPLE_MS = 1000;
const MiB = 2 ** 20;

const opts = flags({ cases: '10000:30s:90s,1000:1s:30s', settle: '5s', out: RESULTS });
const cases = opts.cases.split(',').map((c) => {
  const [count, interval, window, check = 'http'] = c.split(':');
  if (check !== 'http' && check !== 'tcp') usage(`check kind ${check}: expected http or tcp`);
  return { count: Number(count), intervalMs: ms(interval), windowMs: ms(window), check };
});
const settleMs = ms(opts.settle);

async function steady({ count, intervalMs, windowMs, check }) {
  const nofile = 2 * count + 4096;
  const fixture = await startFixture({ count, readyMaxMs: 0, seed: 1, nofile });
  const stateDir = mkdtempSync(join(os.tmpdir(), 'lifeguard-steady-'));
  const runner = await startRunner({ probe: 'native', ports: fixture.ports, startupIntervalMs: STARTUP_INTERVAL_MS, livenessIntervalMs: intervalMs, startTimeoutMs: START_TIMEOUT_MS, stateDir, check }, nofile);
  const pid = runner.child.pid;
  let healthy = 0;
  let logLines = 0;
  // Failures of a healthy fleet are not expected; their reasons (a few distinct ones) say what went wrong.
  let failures = 0;
  const reasons = new Set();
  runner.log.on((t) => {
    logLines++;
    if (t.to === 'healthy') healthy++;
    if (t.to === 'unhealthy' || t.to === 'timed-out') {
      failures++;
      if (reasons.size < 5) reasons.add(t.reason);
    }
  });
  await fixture.go();
  const goAt = Date.now();
  runner.send('go');
  while (healthy < count && Date.now() - goAt < HEALTHY_BOUND_MS) await sleep(100);
  const allHealthyMs = Date.now() - goAt;
  await sleep(settleMs);

  const logBefore = logLines;
  const loadBefore = os.loadavg()[0];
  runner.send('mark');
  const cpu0 = cpuSecondsExact(pid);
  const t0 = performance.now();
  let peakRss = 0;
  let rss = 0;
  while (performance.now() - t0 < windowMs) {
    await sleep(Math.min(SAMPLE_MS, windowMs - (performance.now() - t0)));
    rss = memory(pid)?.rss ?? 0;
    peakRss = Math.max(peakRss, rss);
  }
  const stats = await runner.stats();
  const cpu1 = cpuSecondsExact(pid);
  const timeWait = timeWaitSockets();
  const seconds = (performance.now() - t0) / 1000;
  const logLinesInWindow = logLines - logBefore;

  const leftovers = await stopAndVerify(runner.child, new Map(), 30_000);
  leftovers.push(...(await stopAndVerify(fixture.child, new Map(), 10_000)));
  rmSync(stateDir, { recursive: true, force: true });
  const [p50, p99, max] = stats.late;
  return {
    n: count,
    check,
    livenessIntervalMs: intervalMs,
    windowS: seconds,
    healthy,
    allHealthyAfterMs: healthy >= count ? allHealthyMs : null,
    failures,
    failureReasons: [...reasons],
    cpuShareOfOneCorePct: (100 * (cpu1 - cpu0)) / seconds,
    rssMiB: rss / MiB,
    peakRssMiB: peakRss / MiB,
    checksPerSecond: stats.checks / seconds,
    expectedChecksPerSecond: count / (intervalMs / 1000),
    latenessMs: { p50, p99, max },
    logLinesInWindow,
    timeWaitSocketsAtEnd: timeWait,
    // The machine is shared: the 1-minute load average before and after the window says whether others competed.
    loadAverage: { before: loadBefore, end: os.loadavg()[0] },
    leftovers,
  };
}

const results = [];
for (const c of cases) {
  process.stderr.write(`steady: ${c.count} instances @ ${fmt(c.intervalMs / 1000)}s for ${fmt(c.windowMs / 1000)}s… `);
  const r = await steady(c);
  results.push(r);
  process.stderr.write(`CPU ${fmt(r.cpuShareOfOneCorePct)}% of a core, RSS ${fmt(r.peakRssMiB)} MiB, ${fmt(r.checksPerSecond)} checks/s, p99 late ${fmt(r.latenessMs.p99)}ms\n`);
  if (r.leftovers.length > 0) throw new Error(`processes outlived the run: ${r.leftovers.join(', ')}`);
}

const m = machine();
const label = (r) => `${r.n} @ ${fmt(r.livenessIntervalMs / 1000)}s${r.check === 'tcp' ? ' (TCP)' : ''}`;
const note = 'Native probing, HTTP GET /health on a fresh connection per check (TCP: connect only, where marked); the apps are one fixture process serving every port on 127.0.0.1.';
const table = markdownTable(
  ['instances @ liveness interval', 'window', 'supervisor CPU (% of one core)', 'RSS MiB (peak)', 'checks/s (expected)', 'lateness p50 / p99 / max (ms)', 'failures', 'log lines in window', 'TIME_WAIT sockets at end', 'load avg'],
  results.map((r) => [
    label(r),
    `${fmt(r.windowS)}s`,
    fmt(r.cpuShareOfOneCorePct),
    `${fmt(r.rssMiB)} (${fmt(r.peakRssMiB)})`,
    `${fmt(r.checksPerSecond)} (${fmt(r.expectedChecksPerSecond)})`,
    `${fmt(r.latenessMs.p50)} / ${fmt(r.latenessMs.p99)} / ${fmt(r.latenessMs.max)}`,
    r.failures,
    r.logLinesInWindow,
    r.timeWaitSocketsAtEnd,
    `${fmt(r.loadAverage.before)} → ${fmt(r.loadAverage.end)}`,
  ]),
);
const md = ['### Steady state (npm run bench:steady)', '', `Machine: ${machineLine(m)}.`, '', note, '', table, ''].join('\n');
process.stdout.write(`\n${md}\n`);
const out = resolve(opts.out);
write(join(out, 'steady.md'), md);
write(join(out, 'steady.json'), `${JSON.stringify({ machine: m, note, settleMs, results }, null, 2)}\n`);
const groups = results.map(label);
const one = (name, value) => [{ name, values: results.map(value) }];
write(
  join(out, 'steady.svg'),
  svgPanels('Steady state: a healthy fleet under native probing', machineLine(m), [
    { title: 'Supervisor CPU', unit: '% of one core', log: false, groups, series: one('CPU', (r) => r.cpuShareOfOneCorePct) },
    { title: 'Supervisor RSS (peak)', unit: 'MiB', log: false, groups, series: one('RSS', (r) => r.peakRssMiB) },
    { title: 'Check lateness p99', unit: 'ms', log: false, groups, series: one('p99 lateness', (r) => r.latenessMs.p99) },
  ]),
);
process.stderr.write(`wrote ${out}/steady.{md,json,svg}\n`);
