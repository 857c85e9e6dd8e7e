// npm run bench:steady — what native probing costs the supervisor once a large fleet is healthy, beside HAProxy.
//
// Cases (default 10,000 instances at a 30s liveness interval over a 90s window, so that every instance is checked
// at least twice, and 1,000 at 1s over 30s): the instances are ports of ONE fixture process on 127.0.0.1 (GET
// /health answers 200), run by the library's Supervisor alone in a child process (scripts/lib/supervisor-runner.mjs)
// with native probing, and the metrics and status page history `lifeguard run` keeps on every check. Once every
// instance is healthy and the settling time has passed, the window opens; over it:
// - supervisor CPU as a share of one core: the scheduler's nanosecond counters of all its threads
//   (/proc/<pid>/task/*/schedstat), delta over the window's wall time; and per check (CPU time / checks run),
//   split into user space and kernel from /proc/<pid>/stat (clock ticks: coarser, the split only);
// - RSS of the supervisor process (peak and at the end of the window, sampled every second);
// - checks per second sustained: rounds completed in the window / its length;
// - lateness of checks against their schedule, p50 / p99 / max: how long after its tick each round started, as
//   the native probe reports it on every 'check' event.
//
// The anchor: whenever `haproxy` is on PATH (Debian's package), HAProxy checks the same fixture ports in the same
// window (scripts/lib/haproxy.mjs: one backend of N servers, `check inter` at the same interval, `option httpchk
// GET /health`, `http-check expect status 200`, `nbthread 1`), measured the same way (schedstat, RSS); its checks
// are the fixture's 200s to its source address 127.0.0.2, its failures the growth of its servers' chkfail. The
// ratio is our CPU per check over HAProxy's, measured side by side, so the machine's load weighs on both alike.
// TIME_WAIT sockets are counted at the end, only those with a fixture port at one end: HAProxy's (127.0.0.2 at the
// other end) apart from ours (127.0.0.1); other programs' sockets on the machine are not counted.
// Both our processes and HAProxy get an open-file limit of their own (10,000 listening ports, and the
// readiness burst puts one socket per instance in flight at once). Every run is bounded; every process is
// stopped and checked gone.
//
// Flags: --cases 10000:30s:90s,1000:1s:30s (count:liveness interval:window, optionally :tcp for TCP checks instead
//        of HTTP ones)  --settle auto|DURATION (auto: two liveness intervals, at least 5s)  --haproxy auto|off  --profile DIR (the supervisor's CPU profile and heap
//        sampling over each window, written to DIR/steady-<count>.{cpuprofile,heapprofile})  --syscalls DURATION|off
//        (after each window, strace -c on ours and HAProxy for that long: system calls per check, by name, in a
//        table of their own; off by default, as strace is not always there)  --repeat N (default 1: N windows back
//        to back per case, on the same supervisor, fixture and HAProxy, settled once; a row per window, then a median
//        row: each number the median of the windows' — the ratio the median of the per-window ratios, not a ratio of
//        medians; every window in the JSON; the profile is the last window's, the system calls traced after the last)
//        --floor auto|off (auto: after ours' windows, with the supervisor stopped, as many windows of the runtime's
//        floor, scripts/floor/steady.mjs, beside the same HAProxy on the same fixture: what Node.js itself costs per
//        check, with a ratio of its own; HTTP cases with HAProxy only)  --out bench/results
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HAPROXY_SOURCE, startHaproxy } from './lib/haproxy.mjs';
import { cpuSecondsExact, cpuSplit, memory, timeWaitSockets } from './lib/proc.mjs';
import { onPath, startFixture, startFloor, startRunner, stopAndVerify } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { syscallsPerCheck } from './lib/syscalls.mjs';
import { fmt, flags, machine, machineLine, markdownTable, ms, RESULTS, svgPanels, usage, write } from './lib/report.mjs';

const STARTUP_INTERVAL_MS = 2000;
const START_TIMEOUT_MS = 60_000;
const HEALTHY_BOUND_MS = 120_000;
const SAMPLE_MS = 1000;
const MiB = 2 ** 20;
/** Where the fixture serves, and where our checks come from. */
const FIXTURE_HOST = '127.0.0.1';

const opts = flags({ cases: '10000:30s:90s,1000:1s:30s', settle: 'auto', haproxy: 'auto', floor: 'auto', profile: '', syscalls: 'off', repeat: '1', out: RESULTS });
const cases = opts.cases.split(',').map((c) => {
  const [count, interval, window, check = 'http'] = c.split(':');
  if (check !== 'http' && check !== 'tcp') usage(`check kind ${check}: expected http or tcp`);
  return { count: Number(count), intervalMs: ms(interval), windowMs: ms(window), check };
});
// The start burst (every instance's readiness checks at once) leaves garbage that V8 collects over the next half
// minute or so: 5s after the last instance turned healthy, 10,000 instances measured a peak RSS of 192 MiB and 127
// at the window's end; 60s after, 132 and 132. Two liveness intervals let every instance settle into its liveness
// rounds and that garbage go, so that RSS is the fleet's state, not what its start left.
// One window's ratio moves with the machine's load (1.08–1.32× in six windows of one quiet sitting): the median of
// several windows on the same processes is what can be quoted.
const repeat = Number(opts.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`--repeat ${opts.repeat}: expected a whole number of windows, 1 or more`);
if (opts.settle !== 'auto') ms(opts.settle); // a bad value is refused before anything starts
const settleFor = (intervalMs) => (opts.settle === 'auto' ? Math.max(5000, 2 * intervalMs) : ms(opts.settle));
if (opts.haproxy !== 'auto' && opts.haproxy !== 'off') usage(`--haproxy ${opts.haproxy}: expected auto or off`);
if (opts.floor !== 'auto' && opts.floor !== 'off') usage(`--floor ${opts.floor}: expected auto or off`);
const haproxyPath = opts.haproxy === 'off' ? undefined : onPath('haproxy');
const tracing = opts.syscalls === 'off' ? undefined : { ms: ms(opts.syscalls), strace: onPath('strace') };
if (tracing !== undefined && tracing.strace === undefined) usage('--syscalls: strace is not on PATH (apt-get install strace)');
const anchorNote =
  haproxyPath !== undefined
    ? `HAProxy (${haproxyPath}) checked the same ports in the same window: one backend, check inter at the same interval, option httpchk GET /health, http-check expect status 200, nbthread 1; its lateness is not observable.`
    : opts.haproxy === 'off'
      ? 'HAProxy was left out (--haproxy off): no anchor, no ratio.'
      : 'HAProxy is not on PATH (apt-get install haproxy): no anchor, no ratio.';
if (opts.profile !== '') mkdirSync(resolve(opts.profile), { recursive: true });
if (haproxyPath === undefined) process.stderr.write(`steady: ${anchorNote}\n`);
const FLOOR_NOTE =
  "The Node.js floor (scripts/floor/steady.mjs) is the runtime checking the same ports with nothing of ours: libuv's TCP handle, the same request, the status read from the first chunk, a reset, a deadline timer per check, spread over the interval in the supervisor's 20 ms slots; it ran in windows of its own once the supervisor had stopped, beside the same HAProxy, after the same settling time.";

async function steady({ count, intervalMs, windowMs, check }) {
  const nofile = 2 * count + 4096;
  const fixture = await startFixture({ count, readyMaxMs: 0, seed: 1, nofile });
  const stateDir = mkdtempSync(join(os.tmpdir(), 'lifeguard-steady-'));
  const runner = await startRunner({ probe: 'native', ports: fixture.ports, startupIntervalMs: STARTUP_INTERVAL_MS, livenessIntervalMs: intervalMs, startupTimeoutMs: START_TIMEOUT_MS, stateDir, check, ...(opts.profile === '' ? {} : { profile: join(resolve(opts.profile), `steady-${count}`) }) }, nofile);
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
  // HAProxy's checks are HTTP ones: beside a TCP case it would not measure the same thing.
  let haproxy;
  try {
    haproxy = haproxyPath !== undefined && check === 'http' ? await startHaproxy({ executable: haproxyPath, ports: fixture.ports, intervalMs, dir: stateDir, nofile }) : undefined;
  } catch (err) {
    await stopAndVerify(runner.child, new Map(), 30_000);
    await stopAndVerify(fixture.child, new Map(), 10_000);
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  while (healthy < count && Date.now() - goAt < HEALTHY_BOUND_MS) await sleep(100);
  const allHealthyMs = Date.now() - goAt;
  await sleep(settleFor(intervalMs));

  const windows = [];
  for (let i = 0; i < repeat; i++) {
    const w = await measureWindow({ windowMs, pid, runner, fixture, haproxy, failures: () => failures, logLines: () => logLines });
    windows.push(w);
    if (repeat > 1) process.stderr.write(`\n  window ${i + 1} of ${repeat}: CPU ${fmt(w.ours.cpuShareOfOneCorePct)}% of a core, ${fmt(w.ours.checksPerSecond)} checks/s, p99 late ${fmt(w.ours.latenessMs.p99)}ms${w.haproxy === null ? '' : `, ratio per check ${ratioText(w.ratioPerCheck)}`}`);
  }
  // After the windows: tracing slows what it traces.
  const [oursCalls = null, haproxyCalls = null] =
    tracing === undefined ? [] : await syscallsPerCheck(tracing.strace, haproxy === undefined ? [pid] : [pid, haproxy.child.pid], tracing.ms, stateDir);

  const leftovers = await stopAndVerify(runner.child, new Map(), 30_000);
  // The floor's windows come once the supervisor is gone, beside the same HAProxy on the same fixture.
  const floorWindows = [];
  if (haproxy !== undefined && opts.floor === 'auto') {
    const floor = startFloor({ intervalMs, ports: fixture.ports, nofile });
    await sleep(settleFor(intervalMs));
    for (let i = 0; i < repeat; i++) {
      const w = await measureFloorWindow({ windowMs, floor, fixture, haproxy });
      floorWindows.push(w);
      process.stderr.write(`\n  floor window ${i + 1} of ${repeat}: CPU ${fmt(w.floor.cpuShareOfOneCorePct)}% of a core, ${fmt(w.floor.checksPerSecond)} checks/s, ratio per check ${ratioText(w.ratioPerCheck)}`);
    }
    leftovers.push(...(await stopAndVerify(floor.child, new Map(), 10_000)));
  }
  if (haproxy !== undefined) leftovers.push(...(await stopAndVerify(haproxy.child, new Map(), 10_000)));
  leftovers.push(...(await stopAndVerify(fixture.child, new Map(), 10_000)));
  rmSync(stateDir, { recursive: true, force: true });
  return {
    n: count,
    check,
    livenessIntervalMs: intervalMs,
    healthy,
    allHealthyAfterMs: healthy >= count ? allHealthyMs : null,
    expectedChecksPerSecond: count / (intervalMs / 1000),
    failureReasons: [...reasons],
    // Each number the median of the windows' (ratioPerCheck: the median of the per-window ratios).
    median: medians(windows),
    failuresInAllWindows: { ours: sum(windows, (w) => w.ours.failures), haproxy: sum(windows, (w) => w.haproxy?.failures ?? 0) },
    windows,
    // The runtime's floor beside HAProxy, in windows of their own after ours (none without HAProxy or with --floor off).
    floor: floorWindows.length === 0 ? null : { median: medians(floorWindows), failuresInAllWindows: { floor: sum(floorWindows, (w) => w.floor.failures), haproxy: sum(floorWindows, (w) => w.haproxy.failures) }, windows: floorWindows },
    syscalls: { ours: oursCalls, haproxy: haproxyCalls },
    leftovers,
  };
}

/**
 * One checker process over a window, from the moment this is called: `sample()` reads its RSS (every second),
 * `end(checks, seconds)` its CPU (all, and per check split into user and kernel), RSS and rate.
 */
function watchChecker(pid) {
  const cpu0 = cpuSecondsExact(pid);
  const split0 = cpuSplit(pid);
  const rss = { now: 0, peak: 0 };
  return {
    sample() {
      rss.now = memory(pid)?.rss ?? 0;
      rss.peak = Math.max(rss.peak, rss.now);
    },
    end(checks, seconds) {
      const cpu = cpuSecondsExact(pid) - cpu0;
      return {
        cpuShareOfOneCorePct: (100 * cpu) / seconds,
        cpuPerCheckMs: checks > 0 ? (1000 * cpu) / checks : null,
        userSystemPerCheckMs: perCheck(split0, cpuSplit(pid), checks),
        rssMiB: rss.now / MiB,
        peakRssMiB: rss.peak / MiB,
        checksPerSecond: checks / seconds,
      };
    },
  };
}

/** HAProxy over one window, from the moment this is called, as watchChecker; its `end` gives null when it is not running. */
async function watchAnchor(haproxy, fixture) {
  if (haproxy === undefined) return { sample() {}, end: async () => null };
  const failures0 = sum(await haproxy.servers(), (s) => s.checkFailures);
  const served0 = (await fixture.served())[HAPROXY_SOURCE] ?? 0;
  const watch = watchChecker(haproxy.child.pid);
  return {
    sample: watch.sample,
    async end(seconds, timeWait) {
      const cost = watch.end(((await fixture.served())[HAPROXY_SOURCE] ?? 0) - served0, seconds);
      const servers = await haproxy.servers();
      return {
        ...cost,
        // Failed checks in the window, and servers not UP at its end.
        failures: sum(servers, (s) => s.checkFailures) - failures0,
        serversNotUp: servers.filter((s) => !s.status.startsWith('UP')).length,
        timeWaitSocketsAtEnd: timeWait[HAPROXY_SOURCE],
      };
    },
  };
}

/** Samples every second for `windowMs`; resolves with the window's length in seconds. */
async function sampleFor(windowMs, samplers) {
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    await sleep(Math.min(SAMPLE_MS, windowMs - (performance.now() - t0)));
    for (const sample of samplers) sample();
  }
  return (performance.now() - t0) / 1000;
}

/** TIME_WAIT sockets on the fixture's ports: ours (and the floor's) leave from 127.0.0.1, HAProxy's from its own address. */
const timeWaitOn = (fixture) => timeWaitSockets(FIXTURE_HOST, new Set(fixture.ports), [FIXTURE_HOST, HAPROXY_SOURCE]);

const ratioOf = (ours, anchor) => (anchor?.cpuPerCheckMs && ours.cpuPerCheckMs ? ours.cpuPerCheckMs / anchor.cpuPerCheckMs : null);

/** One window on a settled fleet: both checkers' CPU, RSS, checks and failures over `windowMs`, and ours' lateness. */
async function measureWindow({ windowMs, pid, runner, fixture, haproxy, failures, logLines }) {
  const logBefore = logLines();
  // Failures before the window (the start-up's, an earlier window's) are not this window's.
  const failuresBefore = failures();
  const loadBefore = os.loadavg()[0];
  runner.send('mark');
  const anchor = await watchAnchor(haproxy, fixture);
  const watch = watchChecker(pid);
  const seconds = await sampleFor(windowMs, [watch.sample, anchor.sample]);
  const stats = await runner.stats();
  const cost = watch.end(stats.checks, seconds);
  const timeWait = timeWaitOn(fixture);
  const hap = await anchor.end(seconds, timeWait);
  const [p50, p99, max] = stats.late;
  const ours = {
    ...cost,
    latenessMs: { p50, p99, max },
    failures: failures() - failuresBefore,
    timeWaitSocketsAtEnd: timeWait[FIXTURE_HOST],
    garbageCollections: stats.gc,
    heapMiB: {
      used: stats.heap.heapUsed / MiB,
      total: stats.heap.heapTotal / MiB,
      external: stats.heap.external / MiB,
      spaces: Object.fromEntries(Object.entries(stats.heap.spaces).map(([name, s]) => [name, { size: s.size / MiB, used: s.used / MiB }])),
    },
  };
  return {
    windowS: seconds,
    logLinesInWindow: logLines() - logBefore,
    ours,
    haproxy: hap,
    ratioPerCheck: ratioOf(ours, hap),
    // The machine is shared: the 1-minute load average before and after the window says whether others competed.
    loadAverage: { before: loadBefore, end: os.loadavg()[0] },
  };
}

/** One window of the runtime's floor beside HAProxy, the supervisor stopped: the same columns as ours but lateness. */
async function measureFloorWindow({ windowMs, floor, fixture, haproxy }) {
  const loadBefore = os.loadavg()[0];
  floor.mark();
  const anchor = await watchAnchor(haproxy, fixture);
  const watch = watchChecker(floor.child.pid);
  const seconds = await sampleFor(windowMs, [watch.sample, anchor.sample]);
  const stats = await floor.stats();
  const timeWait = timeWaitOn(fixture);
  const own = { ...watch.end(stats.checks, seconds), failures: stats.failures, timeWaitSocketsAtEnd: timeWait[FIXTURE_HOST] };
  const hap = await anchor.end(seconds, timeWait);
  return { windowS: seconds, floor: own, haproxy: hap, ratioPerCheck: ratioOf(own, hap), loadAverage: { before: loadBefore, end: os.loadavg()[0] } };
}

/** Field by field, the median over the windows of every number in them (absent ones skipped); arrays and text are left out. */
function medians(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return null;
  if (typeof present[0] === 'number') return median(present);
  if (typeof present[0] !== 'object' || Array.isArray(present[0])) return undefined;
  return Object.fromEntries(Object.keys(present[0]).flatMap((key) => {
    const m = medians(present.map((v) => v[key]));
    return m === undefined ? [] : [[key, m]];
  }));
}

/** CPU per check in user space and in the kernel, from two readings of cpuSplit (ticks: 10 ms apiece). */
function perCheck(before, after, checks) {
  if (before === undefined || after === undefined || checks === 0) return null;
  return { user: (1000 * (after.user - before.user)) / checks, system: (1000 * (after.system - before.system)) / checks };
}

/** A case's system calls per check, ours beside HAProxy's, most frequent first; none when not traced. */
function syscallTable(r) {
  const { ours, haproxy: hap } = r.syscalls;
  if (ours === null) return [];
  const names = [...new Set([...Object.keys(ours.perCheck), ...Object.keys(hap?.perCheck ?? {})])];
  const calls = (side, name) => side?.perCheck[name]?.calls ?? 0;
  names.sort((a, b) => calls(ours, b) + calls(hap, b) - calls(ours, a) - calls(hap, a));
  const cell = (side, name) => {
    const counted = side?.perCheck[name];
    if (counted === undefined) return side === null ? 'n/a' : '0';
    return counted.errors > 0 ? `${fmt(counted.calls)} (${fmt(counted.errors)} failed)` : fmt(counted.calls);
  };
  const total = (side) => (side === null ? 'n/a' : fmt(Object.values(side.perCheck).reduce((n, c) => n + c.calls, 0)));
  const rows = [...names.map((name) => [name, cell(ours, name), cell(hap, name)]), ['all', total(ours), total(hap)]];
  return [
    `System calls per check, ${label(r)}: strace -f -c on each checker for ${opts.syscalls} after the window (${ours.checks} checks traced of ours, ${hap === null ? 'HAProxy not traced' : `${hap.checks} of HAProxy's`}; a check is one connect, which fails with EINPROGRESS as a non-blocking connect does).`,
    '',
    markdownTable(['system call', 'lifeguard', 'HAProxy'], rows),
    '',
  ];
}

/** The ratio to HAProxy with two decimals: the target (1.2×) sits where fmt's two digits would round. */
function ratioText(ratio) {
  return ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`;
}

function sum(items, value) {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

const results = [];
for (const c of cases) {
  process.stderr.write(`steady: ${c.count} instances @ ${fmt(c.intervalMs / 1000)}s, ${repeat === 1 ? 'a window' : `${repeat} windows`} of ${fmt(c.windowMs / 1000)}s…`);
  const r = await steady(c);
  results.push(r);
  const { ours, haproxy } = r.median;
  const hap = haproxy === null ? '' : `; HAProxy ${fmt(haproxy.cpuShareOfOneCorePct)}%, ratio per check ${ratioText(r.median.ratioPerCheck)}`;
  const floor = r.floor === null ? '' : `; the floor's ratio per check ${ratioText(r.floor.median.ratioPerCheck)}`;
  process.stderr.write(`\n  ${repeat === 1 ? '' : 'median: '}CPU ${fmt(ours.cpuShareOfOneCorePct)}% of a core, RSS ${fmt(ours.peakRssMiB)} MiB, ${fmt(ours.checksPerSecond)} checks/s, p99 late ${fmt(ours.latenessMs.p99)}ms${hap}${floor}\n`);
  if (r.leftovers.length > 0) throw new Error(`processes outlived the run: ${r.leftovers.join(', ')}`);
}

const m = machine();
const label = (r) => `${r.n} @ ${fmt(r.livenessIntervalMs / 1000)}s${r.check === 'tcp' ? ' (TCP)' : ''}`;
const repeated = repeat === 1 ? '' : ` Each case ran ${repeat} windows back to back on the same processes; its median row holds the median of each number over its windows, the ratio the median of the per-window ratios, failures those of all windows.`;
const note = `Native probing, HTTP GET /health on a fresh connection per check (TCP: connect only, where marked); the apps are one fixture process serving every port on 127.0.0.1. The window opens ${opts.settle === 'auto' ? 'two liveness intervals (at least 5s)' : opts.settle} after every instance turned healthy.${repeated} ${anchorNote}${results.some((r) => r.floor !== null) ? ` ${FLOOR_NOTE}` : ''}`;
const na = 'n/a';
const split = (x) => (x === null ? na : `${fmt(x.user)} / ${fmt(x.system)}`);
/** A checker's CPU columns: share of a core, per check, and per check split into user / kernel. */
const cost = (x) => [fmt(x.cpuShareOfOneCorePct), x.cpuPerCheckMs === null ? na : fmt(x.cpuPerCheckMs), split(x.userSystemPerCheckMs)];
const sizeAndRate = (x, r) => [`${fmt(x.rssMiB)} (${fmt(x.peakRssMiB)})`, `${fmt(x.checksPerSecond)} (${fmt(r.expectedChecksPerSecond)})`];
/**
 * Two rows for one window, or for the median of a case's windows: the checker's (ours, or with `floor` the runtime's
 * floor, which has no lateness or log), then HAProxy's in the same window. `failures`: [the checker's, HAProxy's].
 */
function windowRows(r, w, which, [failures, hapFailures], floor = false) {
  const o = floor ? w.floor : w.ours;
  const rows = [
    [
      label(r),
      floor ? 'Node.js floor' : 'lifeguard',
      `${which}${fmt(w.windowS)}s`,
      ...cost(o),
      ratioText(w.ratioPerCheck),
      ...sizeAndRate(o, r),
      floor ? na : `${fmt(o.latenessMs.p50)} / ${fmt(o.latenessMs.p99)} / ${fmt(o.latenessMs.max)}`,
      failures,
      floor ? na : fmt(w.logLinesInWindow),
      fmt(o.timeWaitSocketsAtEnd),
      `${fmt(w.loadAverage.before)} → ${fmt(w.loadAverage.end)}`,
    ],
  ];
  const h = w.haproxy;
  if (h === null) return rows;
  rows.push([
    label(r),
    'HAProxy',
    `${which}${fmt(w.windowS)}s`,
    ...cost(h),
    '1×',
    ...sizeAndRate(h, r),
    na,
    `${hapFailures}${h.serversNotUp > 0 ? ` (${fmt(h.serversNotUp)} servers not UP)` : ''}`,
    na,
    fmt(h.timeWaitSocketsAtEnd),
    'same window',
  ]);
  return rows;
}
/** A case's windows and their median (in bold), ours' or the floor's; a single window alone. */
function caseRows(r, windows, median, allFailures, floor) {
  const own = (w) => (floor ? w.floor : w.ours).failures;
  if (repeat === 1) return windowRows(r, windows[0], '', allFailures, floor);
  return [
    ...windows.flatMap((w, i) => windowRows(r, w, `${i + 1} of ${repeat}: `, [own(w), w.haproxy?.failures ?? 0], floor)),
    ...windowRows(r, median, `median of ${repeat}: `, allFailures, floor).map((row) => row.map((cell) => `**${cell}**`)),
  ];
}
const rows = results.flatMap((r) => [
  ...caseRows(r, r.windows, r.median, [r.failuresInAllWindows.ours, r.failuresInAllWindows.haproxy], false),
  ...(r.floor === null ? [] : caseRows(r, r.floor.windows, r.floor.median, [r.floor.failuresInAllWindows.floor, r.floor.failuresInAllWindows.haproxy], true)),
]);
const table = markdownTable(
  ['instances @ liveness interval', 'checker', 'window', 'CPU (% of one core)', 'CPU per check (ms)', 'of which user / kernel', 'per check vs HAProxy', 'RSS MiB (peak)', 'checks/s (expected)', 'lateness p50 / p99 / max (ms)', 'failures in window', 'log lines in window', 'TIME_WAIT sockets at end', 'load avg'],
  rows,
);
const md = ['### Steady state (npm run bench:steady)', '', `Machine: ${machineLine(m)}.`, '', note, '', table, '', ...results.flatMap(syscallTable)].join('\n');
process.stdout.write(`\n${md}\n`);
const out = resolve(opts.out);
write(join(out, 'steady.md'), md);
write(join(out, 'steady.json'), `${JSON.stringify({ machine: m, note, settle: opts.settle === 'auto' ? 'two liveness intervals, at least 5s' : opts.settle, repeat, results }, null, 2)}\n`);
const groups = results.map(label);
const both = (value) => [
  { name: 'lifeguard', values: results.map((r) => value(r.median.ours)) },
  { name: 'HAProxy', values: results.map((r) => (r.median.haproxy === null ? null : value(r.median.haproxy))) },
  ...(results.some((r) => r.floor !== null) ? [{ name: 'Node.js floor', values: results.map((r) => (r.floor === null ? null : value(r.floor.median.floor))) }] : []),
];
write(
  join(out, 'steady.svg'),
  svgPanels('Steady state: a healthy fleet under native probing, beside HAProxy', machineLine(m), [
    { title: 'CPU per check', unit: 'ms', log: false, groups, series: both((x) => x.cpuPerCheckMs) },
    { title: 'RSS (peak)', unit: 'MiB', log: false, groups, series: both((x) => x.peakRssMiB) },
    { title: 'Check lateness p99', unit: 'ms', log: false, groups, series: [{ name: 'lifeguard', values: results.map((r) => r.median.ours.latenessMs.p99) }] },
  ]),
);
process.stderr.write(`wrote ${out}/steady.{md,json,svg}\n`);
