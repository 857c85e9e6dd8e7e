// npm run bench:agent — what the healthcheck agent costs, as a single executable and as a node bundle.
//
// (a) `once`: wall time, CPU time (user+sys) and peak RSS of one TCP check against a loopback server,
//     median / min / p90 of --runs runs (default 15), for dist/healthcheck (the SEA), `node dist/healthcheck.cjs`
//     and `node -e 0` (the floor: a Node.js process that does nothing).
// (b) steady state of `--mode=liveness --interval 100ms` against a loopback HTTP server for --seconds
//     (default 30) after a warm-up: RSS, USS and CPU per check, for the SEA and the node bundle.
//
// How it measures (all on this machine, loopback only; every process it starts it stops):
// - CPU and peak RSS of a short-lived child: Node cannot wait4() a child, and process.resourceUsage() is for
//   the calling process only. So the `once` runs are started by a tiny python3 runner (python3 ships with
//   this machine kind) that posix_spawn()s the command and reaps it with os.wait4(), which returns the child's
//   own struct rusage: ru_utime + ru_stime (microseconds) and ru_maxrss (KiB). Wall time is taken by the runner
//   from just before posix_spawn to just after wait4 returns (time.perf_counter_ns), so it includes exec, the
//   dynamic loader and exit, as an operator's `time` would. The runner stays up for all runs, so python's own
//   start-up is never in a measurement. Variants are interleaved run by run, after warm-up runs, so that drift
//   (page cache, CPU frequency) is shared. ru_maxrss also counts a vfork'ed child's pre-exec pages; those are the
//   runner's (~10 MiB), below any node process's peak, so the peak is the command's own.
// - CPU of the long-lived agent over a window: se.sum_exec_runtime from /proc/PID/task/*/sched (nanoseconds,
//   every thread: the main thread, libuv's and V8's) at the start and the end of the window. The classic
//   /proc/PID/stat utime+stime (fields 14+15) is reported beside it, but it counts in clock ticks (10 ms), too
//   coarse for ~a few ms of CPU a second. Checks are counted by the server, so CPU per check = delta / checks.
// - Memory of the agent: /proc/PID/smaps_rollup at the end of the window. USS = Private_Clean + Private_Dirty
//   (pages mapped by this process only: its heap, stacks, and the pages of its executable it touched that no
//   other process maps); RSS = Rss there; Anonymous is reported too. A page counts as private only when no other
//   process maps it: the benchmark itself runs on /usr/bin/node, so `node dist/healthcheck.cjs` would share its
//   text pages with the benchmark and look smaller than it is. It therefore runs from a private copy of node
//   in bench/tmp/, and so does the SEA (bench/tmp/healthcheck, a copy); both then pay for the code they touch, as
//   a lone sidecar does. Where N agents run from one file (a bind mount), those clean text pages are shared by
//   all N and Private_Dirty is closer to what each one adds.
//
// Options: --seconds N (steady-state window, default 30), --warmup N (default 3), --runs N (default 15),
//          --binary FILE (default dist/healthcheck), --bundle FILE (default dist/healthcheck.cjs),
//          --only once|liveness, --no-write (do not write bench/results/agent.json);
//          experiments: --node-flags 'FLAGS' (node flags for the bundle variant), --variants sea,bundle (liveness).
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const num = (name, fallback, min) => {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isFinite(v) || v < min) die(`${name} must be a number >= ${min}`);
  return v;
};
function die(message) {
  console.error(`bench-agent: ${message}`);
  process.exit(1);
}

const seconds = num('--seconds', 30, 1);
const warmup = num('--warmup', 3, 0);
const runs = Math.floor(num('--runs', 15, 10));
const binary = resolve(opt('--binary', join(root, 'dist/healthcheck')));
const bundle = resolve(opt('--bundle', join(root, 'dist/healthcheck.cjs')));
const only = opt('--only', 'all');
const write = !args.includes('--no-write');
// experiments: extra node flags for the bundle variant, and which liveness variants to run
const nodeFlags = (opt('--node-flags', '') ?? '').split(' ').filter(Boolean);
const livenessVariants = opt('--variants', 'sea,bundle').split(',');
const TARGETS = { onceWallRatio: 1.25, livenessUssMiB: 12, cpuPerCheckMs: 0.3 };

for (const f of [binary, bundle]) if (!existsSync(f)) die(`${f} is missing: run \`npm run build:binary\` first`);
const tmp = join(root, 'bench/tmp');
mkdirSync(tmp, { recursive: true });
// The SEA runs from a directory with nothing beside it; so does the bundle (no node_modules to find).
const privateNode = join(tmp, 'node');
if (!existsSync(privateNode) || statSync(privateNode).size !== statSync(process.execPath).size) copyFileSync(process.execPath, privateNode);
// Likewise the SEA runs from its own copy: a test or a supervisor running dist/healthcheck at the same time would
// share its pages and make it look smaller than a lone agent is.
const privateBinary = join(tmp, 'healthcheck');
copyFileSync(binary, `${privateBinary}.${process.pid}`); // then renamed: a running copy cannot be overwritten
chmodSync(`${privateBinary}.${process.pid}`, 0o755);
renameSync(`${privateBinary}.${process.pid}`, privateBinary);

const env = { PATH: '/usr/bin:/bin' };
const variants = {
  sea: { label: 'single executable (dist/healthcheck)', argv: [privateBinary] },
  bundle: { label: `node ${nodeFlags.length ? nodeFlags.join(' ') + ' ' : ''}dist/healthcheck.cjs`, argv: [process.execPath, ...nodeFlags, bundle] },
  floor: { label: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] },
};

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median, min: s[0], p90: q(0.9), n: s.length };
};
const r2 = (x) => Math.round(x * 100) / 100;
const r3 = (x) => Math.round(x * 1000) / 1000;

// ---------- (a) once ----------
const RUNNER = String.raw`
import json, os, sys, time
null = os.open('/dev/null', os.O_WRONLY)
for line in sys.stdin:
    req = json.loads(line)
    os.chdir(req['cwd'])
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(req['argv'][0], req['argv'], req['env'],
                         file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    print(json.dumps({'wall_ms': (t1 - t0) / 1e6, 'cpu_ms': (ru.ru_utime + ru.ru_stime) * 1e3,
                      'user_ms': ru.ru_utime * 1e3, 'sys_ms': ru.ru_stime * 1e3,
                      'maxrss_kib': ru.ru_maxrss, 'code': os.waitstatus_to_exitcode(status)}), flush=True)
`;

async function benchOnce() {
  const server = net.createServer((s) => s.destroy());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const checkArgs = ['--mode=once', '--host', '127.0.0.1', '--port', String(port)];
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const runner = spawn(python, ['-c', RUNNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  runner.on('error', (e) => die(`cannot start python3 (needed to read a child's rusage): ${e.message}`));
  const lines = createInterface({ input: runner.stdout })[Symbol.asyncIterator]();
  const run = async (v) => {
    const argv = v === 'floor' ? variants[v].argv : [...variants[v].argv, ...checkArgs];
    runner.stdin.write(JSON.stringify({ argv, env, cwd: tmp }) + '\n');
    const { value, done } = await lines.next();
    if (done) die('the python3 runner stopped');
    const m = JSON.parse(value);
    if (m.code !== 0) die(`${variants[v].label} exited ${m.code} on a check that should pass: is the build current?`);
    return m;
  };
  const names = ['floor', 'sea', 'bundle'];
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  try {
    for (let i = 0; i < 3; i++) for (const n of names) await run(n); // warm page cache and CPU
    for (let i = 0; i < runs; i++) for (const n of names) samples[n].push(await run(n));
  } finally {
    runner.stdin.end();
    server.close();
  }
  const out = {};
  for (const n of names) {
    const s = samples[n];
    out[n] = {
      label: variants[n].label,
      wallMs: stats(s.map((m) => m.wall_ms)),
      cpuMs: stats(s.map((m) => m.cpu_ms)),
      userMs: stats(s.map((m) => m.user_ms)),
      sysMs: stats(s.map((m) => m.sys_ms)),
      maxRssMiB: stats(s.map((m) => m.maxrss_kib / 1024)),
    };
  }
  for (const n of names) {
    out[n].wallRatio = out[n].wallMs.median / out.floor.wallMs.median;
    out[n].cpuRatio = out[n].cpuMs.median / out.floor.cpuMs.median;
  }
  return out;
}

// ---------- (b) liveness steady state ----------
function threadCpuNs(pid) {
  // sum of se.sum_exec_runtime (ms with 6 decimals) over the process's threads
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8');
    } catch {
      continue; // a thread that just ended
    }
    const m = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(text);
    if (!m) return undefined;
    total += Math.round(Number(m[1]) * 1e6);
  }
  return total;
}
function statCpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return Number(f[11]) + Number(f[12]); // utime (14) + stime (15)
}
function smaps(pid) {
  const kib = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) kib[m[1]] = Number(m[2]);
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMiB: kib.Rss / 1024,
    ussMiB: (kib.Private_Clean + kib.Private_Dirty) / 1024,
    privateCleanMiB: kib.Private_Clean / 1024,
    privateDirtyMiB: kib.Private_Dirty / 1024,
    anonymousMiB: kib.Anonymous / 1024,
    pssMiB: kib.Pss / 1024,
    hwmMiB: field('VmHWM') / 1024,
    threads: field('Threads'),
  };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function benchLiveness(name) {
  let checks = 0;
  const server = http.createServer((req, res) => {
    checks++;
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const argv = name === 'sea' ? [privateBinary] : [privateNode, ...nodeFlags, bundle];
  const child = spawn(argv[0], [...argv.slice(1), '--mode=liveness', '--host', '127.0.0.1', '--port', String(port),
    '--uri', '/health', '--interval', '100ms', '--timeout', '1s'], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let ended = false;
  exited.then(() => { ended = true; });
  try {
    const alive = () => { if (ended) die(`${variants[name].label} liveness agent exited early: ${output.trim().slice(0, 300)}`); };
    // warm-up: let it start, JIT and settle its heap
    for (let waited = 0; waited < warmup * 1000 || checks < 3; waited += 100) {
      if (waited > (warmup + 10) * 1000) die(`${variants[name].label} served no checks in ${warmup + 10}s`);
      await sleep(100);
      alive();
    }
    const cpu0 = threadCpuNs(child.pid), ticks0 = statCpuTicks(child.pid), checks0 = checks, t0 = performance.now();
    let peakUss = 0;
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      alive();
      peakUss = Math.max(peakUss, smaps(child.pid).ussMiB);
    }
    const cpu1 = threadCpuNs(child.pid), ticks1 = statCpuTicks(child.pid), served = checks - checks0;
    const elapsed = (performance.now() - t0) / 1000;
    const mem = smaps(child.pid);
    alive();
    const ticksPerSec = 100; // USER_HZ is 100 on Linux
    return {
      label: name === 'sea' ? variants.sea.label : `${variants.bundle.label} (private copy of node)`,
      windowS: r2(elapsed),
      checks: served,
      checksPerS: r2(served / elapsed),
      cpuPerCheckMs: cpu0 === undefined ? undefined : (cpu1 - cpu0) / 1e6 / served,
      cpuPerCheckMsFromStat: ((ticks1 - ticks0) * 1000) / ticksPerSec / served,
      cpuPercent: cpu0 === undefined ? undefined : ((cpu1 - cpu0) / 1e9 / elapsed) * 100,
      peakUssMiB: peakUss,
      ...mem,
    };
  } finally {
    if (!ended) child.kill('SIGTERM');
    const t = setTimeout(() => { if (!ended) child.kill('SIGKILL'); }, 3000);
    await exited;
    clearTimeout(t);
    server.close();
  }
}

// ---------- report ----------
const verdict = (ok) => (ok ? 'pass' : 'miss');
const result = {
  date: new Date().toISOString(),
  // the load average says whether other work shared the 2 cores (wall times are sensitive to it; CPU times less)
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release(), memGiB: r2(os.totalmem() / 2 ** 30), loadAvgAtStart: os.loadavg().map(r2) },
  sizes: { binaryMiB: r2(statSync(binary).size / 2 ** 20), bundleKiB: r2(statSync(bundle).size / 1024) },
  config: { runs, seconds, warmup, intervalMs: 100 },
  targets: TARGETS,
};

if (only === 'all' || only === 'once') {
  console.error(`once: ${runs} runs each (+3 warm-up), interleaved...`);
  result.once = await benchOnce();
}
if (only === 'all' || only === 'liveness') {
  result.liveness = {};
  for (const n of livenessVariants) {
    console.error(`liveness: ${variants[n].label}, ${warmup}s warm-up + ${seconds}s...`);
    result.liveness[n] = await benchLiveness(n);
  }
}

result.machine.loadAvgAtEnd = os.loadavg().map(r2);
const lines = [];
if (result.once) {
  lines.push(`### once (TCP check against a loopback server; ${runs} runs; median [min, p90])`, '');
  lines.push('| command | wall ms | CPU ms (user+sys) | peak RSS MiB | wall / floor | target ≤ 1.25x |', '|---|---|---|---|---|---|');
  const f = (s, d = 1) => `${s.median.toFixed(d)} [${s.min.toFixed(d)}, ${s.p90.toFixed(d)}]`;
  for (const n of ['sea', 'bundle', 'floor']) {
    const o = result.once[n];
    const target = n === 'floor' ? '' : verdict(o.wallRatio <= TARGETS.onceWallRatio);
    lines.push(`| ${o.label} | ${f(o.wallMs)} | ${f(o.cpuMs)} | ${f(o.maxRssMiB)} | ${o.wallRatio.toFixed(2)}x | ${target} |`);
  }
  lines.push('');
}
if (result.liveness) {
  lines.push(`### liveness, --interval 100ms, HTTP against a loopback server (${seconds}s window after ${warmup}s warm-up)`, '');
  lines.push('| agent | checks | CPU/check ms (sched) | CPU/check ms (/proc stat, 10ms ticks) | CPU % | RSS MiB | USS MiB (peak) | Private_Dirty MiB | Private_Clean MiB | target USS ≤ 12 | target CPU ≤ 0.3 ms |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const n of livenessVariants) {
    const l = result.liveness[n];
    const cpu = l.cpuPerCheckMs ?? l.cpuPerCheckMsFromStat;
    lines.push(`| ${l.label} | ${l.checks} | ${l.cpuPerCheckMs?.toFixed(3) ?? 'n/a'} | ${l.cpuPerCheckMsFromStat.toFixed(3)} | ${l.cpuPercent?.toFixed(2) ?? 'n/a'} | ${l.rssMiB.toFixed(1)} | ${l.ussMiB.toFixed(1)} (${l.peakUssMiB.toFixed(1)}) | ${l.privateDirtyMiB.toFixed(1)} | ${l.privateCleanMiB.toFixed(1)} | ${verdict(l.ussMiB <= TARGETS.livenessUssMiB)} | ${verdict(cpu <= TARGETS.cpuPerCheckMs)} |`);
  }
  lines.push('');
}
lines.push(`binary ${result.sizes.binaryMiB} MiB, bundle ${result.sizes.bundleKiB} KiB; node ${process.version}, ${result.machine.cpus} × ${result.machine.cpuModel}, Linux ${result.machine.kernel}; load average ${result.machine.loadAvgAtStart[0]} at start, ${result.machine.loadAvgAtEnd[0]} at end`);
console.log(lines.join('\n'));

if (write) {
  const round = (v) => (typeof v === 'number' ? r3(v) : v);
  const file = join(root, 'bench/results/agent.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, (_k, v) => round(v), 2) + '\n');
  console.error(`wrote ${file}`);
}
