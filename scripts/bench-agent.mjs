// npm run bench:agent — what the healthcheck agent costs, as the single executable, side by side in one run with
// what it is measured against: `node -e 0` (a Node.js process that does nothing) and an empty executable of the
// executable's own runtime (`bun build --compile` of an empty file, or an empty Node SEA), so that the start-up
// of the runtime and the agent's own start-up work can be told apart.
//
// (a) `once`: CPU time (user+sys), wall time and peak RSS of one TCP check against a loopback server, median / min /
//     p90 of --runs runs (default 15) per variant. Variants are interleaved run by run (after 3 warm-up rounds), so
//     that drift (page cache, CPU frequency, other work on the machine) is shared. Two environments:
//       inherited  this process's environment as it is (on the project's machines NODE_EXTRA_CA_CERTS is set);
//       clean      the same without NODE_EXTRA_CA_CERTS, which costs every Node.js start ~40 ms (it parses the
//                  bundle of certificates at start) and nothing to Bun (which reads it only for TLS).
//     The target is judged against `node -e 0` in the clean environment (the stricter ratio); the ratio against
//     the inherited one is printed beside it.
// (b) steady state of `--mode=liveness --interval 100ms` (10 checks/s) against a loopback HTTP server for --seconds
//     (default 30) after a warm-up: CPU per check, Private_Dirty, RSS, USS, for the executable and the node bundle.
//
// How it measures (all on this machine, loopback only; every process it starts it stops):
// - CPU and peak RSS of a short-lived child: Node cannot wait4() a child, and process.resourceUsage() is for
//   the calling process only. So the `once` runs are started by a tiny python3 runner (python3 ships with
//   this machine kind) that posix_spawn()s the command and reaps it with os.wait4(), which returns the child's
//   own struct rusage: ru_utime + ru_stime (microseconds) and ru_maxrss (KiB). Wall time is taken by the runner
//   from just before posix_spawn to just after wait4 returns, so it includes exec, the dynamic loader and exit.
//   The runner stays up for all runs, so python's own start-up is never in a measurement.
// - CPU of the long-lived agent over a window: se.sum_exec_runtime from /proc/PID/task/*/sched (nanoseconds, every
//   thread) at the start and the end of the window; checks are counted by the server: CPU per check = delta / checks.
// - Memory of the agent: /proc/PID/smaps_rollup at the end of the window. Private_Dirty is the memory the agent
//   wrote (heap, stacks): what each of N agents run from one bind-mounted file adds. USS = Private_Clean +
//   Private_Dirty counts the clean pages of the executable that only this process maps too; the benchmark runs
//   the executable (and node) from private copies in bench/tmp/, so that nothing else shares their pages.
//
// Options: --seconds N (default 30), --warmup N (default 3), --runs N (default 15, at least 15),
//          --binary FILE (default dist/healthcheck), --bundle FILE (default dist/healthcheck.cjs),
//          --only once|liveness, --no-write (do not write bench/results/agent.{json,md,svg}).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { markdownTable, svgPanels } from './lib/report.mjs';

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
const runs = Math.floor(num('--runs', 15, 15));
const binary = resolve(opt('--binary', join(root, 'dist/healthcheck')));
const bundle = resolve(opt('--bundle', join(root, 'dist/healthcheck.cjs')));
const only = opt('--only', 'all');
const write = !args.includes('--no-write');
const TARGETS = { onceCpuRatio: 0.5, livenessPrivateDirtyMiB: 6, cpuPerCheckMs: 1 };

for (const f of [binary, bundle]) if (!existsSync(f)) die(`${f} is missing: run \`npm run build:binary\` first`);
const tmp = join(root, 'bench/tmp');
mkdirSync(tmp, { recursive: true });

/** Which runtime an executable is built on: a flipped SEA fuse is Node's, a .bun section Bun's. */
function runtimeOf(file) {
  const bytes = readFileSync(file);
  if (bytes.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')) return 'node';
  if (bytes.includes('\0.bun\0')) return 'bun';
  die(`${file} is neither a Bun executable nor a Node SEA`);
}
const runtime = runtimeOf(binary);

/** A private copy (renamed into place: a running copy cannot be overwritten), so that no other process shares its pages. */
function privateCopy(from, name) {
  const to = join(tmp, name);
  if (existsSync(to) && statSync(to).size === statSync(from).size && statSync(to).mtimeMs >= statSync(from).mtimeMs) return to;
  copyFileSync(from, `${to}.${process.pid}`);
  chmodSync(`${to}.${process.pid}`, 0o755);
  renameSync(`${to}.${process.pid}`, to);
  return to;
}
const privateNode = privateCopy(process.execPath, 'node');
const privateBinary = privateCopy(binary, 'healthcheck');

/** The empty executable of the same runtime, built as the agent is (scripts/build-binary.mjs, same flags). */
function emptyExecutable() {
  const main = join(tmp, runtime === 'bun' ? 'empty.mjs' : 'empty.cjs');
  const out = join(tmp, `empty-${runtime}`);
  writeFileSync(main, '');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-binary.mjs'), '--runtime', runtime, '--main', main, '--out', out, '--no-smoke', '--no-cf-assets', '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) die(`cannot build the empty ${runtime} executable: ${r.stderr.trim()}`);
  return out;
}

const inherited = { ...process.env };
const clean = { ...process.env };
delete clean.NODE_EXTRA_CA_CERTS;
const environment = {
  NODE_OPTIONS: process.env.NODE_OPTIONS ?? null,
  NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? null,
  BUN_OPTIONS: process.env.BUN_OPTIONS ?? null,
};
const bunVersion = runtime === 'bun'
  ? spawnSync(join(dirname(fileURLToPath(import.meta.resolve('@oven/bun-linux-x64/package.json'))), 'bin/bun'), ['--version'], { encoding: 'utf8' }).stdout.trim()
  : null;

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

async function benchOnce(emptyBinary) {
  const server = net.createServer((s) => s.destroy());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const check = ['--mode=once', '--host', '127.0.0.1', '--port', String(port)];
  const variants = {
    agent: { label: `executable (${runtime}), clean env`, argv: [privateBinary, ...check], env: clean },
    agentInherited: { label: `executable (${runtime}), inherited env`, argv: [privateBinary, ...check], env: inherited },
    empty: { label: `empty ${runtime} executable, clean env`, argv: [emptyBinary], env: clean },
    node: { label: 'node -e 0, clean env (NODE_EXTRA_CA_CERTS unset)', argv: [privateNode, '-e', '0'], env: clean },
    nodeInherited: { label: 'node -e 0, inherited env', argv: [privateNode, '-e', '0'], env: inherited },
    bundle: { label: 'node dist/healthcheck.cjs, clean env', argv: [privateNode, bundle, ...check], env: clean },
  };
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const runner = spawn(python, ['-c', RUNNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  runner.on('error', (e) => die(`cannot start python3 (needed to read a child's rusage): ${e.message}`));
  const lines = createInterface({ input: runner.stdout })[Symbol.asyncIterator]();
  const run = async (name) => {
    const { argv, env, label } = variants[name];
    runner.stdin.write(JSON.stringify({ argv, env, cwd: tmp }) + '\n');
    const { value, done } = await lines.next();
    if (done) die('the python3 runner stopped');
    const m = JSON.parse(value);
    if (m.code !== 0) die(`${label} exited ${m.code} on a check that should pass: is the build current?`);
    return m;
  };
  const names = Object.keys(variants);
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
      cpuMs: stats(s.map((m) => m.cpu_ms)),
      wallMs: stats(s.map((m) => m.wall_ms)),
      userMs: stats(s.map((m) => m.user_ms)),
      sysMs: stats(s.map((m) => m.sys_ms)),
      maxRssMiB: stats(s.map((m) => m.maxrss_kib / 1024)),
    };
  }
  const ratio = (a, b) => out[a].cpuMs.median / out[b].cpuMs.median;
  out.ratios = {
    agentVsNodeClean: ratio('agent', 'node'),
    agentVsNodeInherited: ratio('agentInherited', 'nodeInherited'),
    agentVsEmpty: ratio('agent', 'empty'),
    ownStartupMs: out.agent.cpuMs.median - out.empty.cpuMs.median,
    extraCaCertsCostAgentMs: out.agentInherited.cpuMs.median - out.agent.cpuMs.median,
    extraCaCertsCostNodeMs: out.nodeInherited.cpuMs.median - out.node.cpuMs.median,
  };
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
  const label = name === 'agent' ? `executable (${runtime})` : 'node dist/healthcheck.cjs (private copy of node)';
  const argv = name === 'agent' ? [privateBinary] : [privateNode, bundle];
  const child = spawn(argv[0], [...argv.slice(1), '--mode=liveness', '--host', '127.0.0.1', '--port', String(port),
    '--uri', '/health', '--interval', '100ms', '--timeout', '1s'], { cwd: tmp, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let ended = false;
  exited.then(() => { ended = true; });
  try {
    const alive = () => { if (ended) die(`${label} liveness agent exited early: ${output.trim().slice(0, 300)}`); };
    for (let waited = 0; waited < warmup * 1000 || checks < 3; waited += 100) {
      if (waited > (warmup + 10) * 1000) die(`${label} served no checks in ${warmup + 10}s`);
      await sleep(100);
      alive();
    }
    const cpu0 = threadCpuNs(child.pid), checks0 = checks, t0 = performance.now();
    let peakPrivateDirty = 0;
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      alive();
      peakPrivateDirty = Math.max(peakPrivateDirty, smaps(child.pid).privateDirtyMiB);
    }
    const cpu1 = threadCpuNs(child.pid), served = checks - checks0;
    const elapsed = (performance.now() - t0) / 1000;
    const mem = smaps(child.pid);
    alive();
    return {
      label,
      windowS: r2(elapsed),
      checks: served,
      checksPerS: r2(served / elapsed),
      cpuPerCheckMs: (cpu1 - cpu0) / 1e6 / served,
      cpuPercent: ((cpu1 - cpu0) / 1e9 / elapsed) * 100,
      peakPrivateDirtyMiB: peakPrivateDirty,
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
const verdict = (ok) => (ok ? 'pass' : '**miss**');
const result = {
  date: new Date().toISOString(),
  machine: { node: process.version, bun: bunVersion, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release(), memGiB: r2(os.totalmem() / 2 ** 30), loadAvgAtStart: os.loadavg().map(r2) },
  environment,
  executable: { runtime, file: binary, sizeMiB: r2(statSync(binary).size / 2 ** 20) },
  config: { runs, seconds, warmup, intervalMs: 100 },
  targets: TARGETS,
};

const setOrNot = (v) => (v === null ? 'unset' : v === '' ? 'set, empty' : `set (${v})`);
console.error(`environment: NODE_OPTIONS ${setOrNot(environment.NODE_OPTIONS)}, NODE_EXTRA_CA_CERTS ${setOrNot(environment.NODE_EXTRA_CA_CERTS)}, BUN_OPTIONS ${setOrNot(environment.BUN_OPTIONS)}`);
if (only === 'all' || only === 'once') {
  const emptyBinary = emptyExecutable();
  console.error(`once: ${runs} runs of each of 6 variants (+3 warm-up rounds), interleaved...`);
  result.once = await benchOnce(emptyBinary);
}
if (only === 'all' || only === 'liveness') {
  result.liveness = {};
  for (const n of ['agent', 'bundle']) {
    console.error(`liveness: ${n}, ${warmup}s warm-up + ${seconds}s...`);
    result.liveness[n] = await benchLiveness(n);
  }
}
result.machine.loadAvgAtEnd = os.loadavg().map(r2);

const lines = [];
lines.push(`Environment: NODE_OPTIONS ${setOrNot(environment.NODE_OPTIONS)}; NODE_EXTRA_CA_CERTS ${setOrNot(environment.NODE_EXTRA_CA_CERTS)}; BUN_OPTIONS ${setOrNot(environment.BUN_OPTIONS)}.`);
lines.push(`"clean" = the same environment with NODE_EXTRA_CA_CERTS unset; "inherited" = as it is.`, '');
if (result.once) {
  const o = result.once;
  const f = (s, d = 1) => `${s.median.toFixed(d)} [${s.min.toFixed(d)}, ${s.p90.toFixed(d)}]`;
  lines.push(`### once: a TCP check against a loopback server (${runs} interleaved runs each; median [min, p90])`, '');
  const rows = ['agent', 'agentInherited', 'empty', 'node', 'nodeInherited', 'bundle'].map((n) => [o[n].label, f(o[n].cpuMs), f(o[n].wallMs), f(o[n].maxRssMiB)]);
  lines.push(markdownTable(['command', 'CPU ms (user+sys)', 'wall ms', 'peak RSS MiB'], rows), '');
  const x = (v) => `${v.toFixed(2)}×`;
  lines.push(markdownTable(['ratio of CPU medians', 'value', 'target'], [
    ['executable / `node -e 0`, both clean (NODE_EXTRA_CA_CERTS unset)', x(o.ratios.agentVsNodeClean), `≤ ${TARGETS.onceCpuRatio}×: ${verdict(o.ratios.agentVsNodeClean <= TARGETS.onceCpuRatio)}`],
    ['executable / `node -e 0`, both inherited (NODE_EXTRA_CA_CERTS set)', x(o.ratios.agentVsNodeInherited), `≤ ${TARGETS.onceCpuRatio}×: ${verdict(o.ratios.agentVsNodeInherited <= TARGETS.onceCpuRatio)}`],
    ['executable / empty executable of the same runtime', x(o.ratios.agentVsEmpty), ''],
    ["the agent's own start-up work (executable − empty), ms", o.ratios.ownStartupMs.toFixed(1), ''],
    ['what NODE_EXTRA_CA_CERTS adds to the executable / to `node -e 0`, ms', `${o.ratios.extraCaCertsCostAgentMs.toFixed(1)} / ${o.ratios.extraCaCertsCostNodeMs.toFixed(1)}`, ''],
  ]), '');
}
if (result.liveness) {
  lines.push(`### liveness: --interval 100ms (10 checks/s), HTTP against a loopback server, clean env (${seconds}s window after ${warmup}s warm-up)`, '');
  const rows = ['agent', 'bundle'].map((n) => {
    const l = result.liveness[n];
    return [l.label, String(l.checks), l.cpuPerCheckMs.toFixed(3), l.cpuPercent.toFixed(2), `${l.privateDirtyMiB.toFixed(1)} (${l.peakPrivateDirtyMiB.toFixed(1)})`, l.rssMiB.toFixed(1), l.ussMiB.toFixed(1),
      n === 'agent' ? verdict(l.cpuPerCheckMs <= TARGETS.cpuPerCheckMs) : '', n === 'agent' ? verdict(l.privateDirtyMiB <= TARGETS.livenessPrivateDirtyMiB) : ''];
  });
  lines.push(markdownTable(['agent', 'checks', 'CPU/check ms', 'CPU %', 'Private_Dirty MiB (peak)', 'RSS MiB', 'USS MiB', `CPU/check ≤ ${TARGETS.cpuPerCheckMs} ms`, `Private_Dirty ≤ ${TARGETS.livenessPrivateDirtyMiB} MiB`], rows), '');
}
lines.push(`Executable ${result.executable.sizeMiB} MiB (${runtime}${bunVersion ? ` ${bunVersion}` : ''}); node ${process.version}; ${result.machine.cpus} × ${result.machine.cpuModel}, Linux ${result.machine.kernel}; load average ${result.machine.loadAvgAtStart[0]} at start, ${result.machine.loadAvgAtEnd[0]} at end; ${result.date.slice(0, 16)}Z.`);
const text = lines.join('\n');
console.log(text);

if (write) {
  const round = (v) => (typeof v === 'number' ? r3(v) : v);
  const results = join(root, 'bench/results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'agent.json'), JSON.stringify(result, (_k, v) => round(v), 2) + '\n');
  writeFileSync(join(results, 'agent.md'), `# npm run bench:agent\n\n${text}\n`);
  const panels = [];
  if (result.once) {
    const o = result.once;
    panels.push({ title: 'once: CPU per start', unit: 'ms, median', groups: ['clean env', 'inherited env'], series: [
      { name: `executable (${runtime})`, values: [o.agent.cpuMs.median, o.agentInherited.cpuMs.median] },
      { name: `empty ${runtime}`, values: [o.empty.cpuMs.median, null] },
      { name: 'node -e 0', values: [o.node.cpuMs.median, o.nodeInherited.cpuMs.median] },
      { name: 'node bundle', values: [o.bundle.cpuMs.median, null] },
    ] });
  }
  if (result.liveness) {
    const l = result.liveness;
    panels.push({ title: 'liveness at 10 checks/s', unit: 'ms per check | MiB', groups: ['CPU per check', 'Private_Dirty'], series: [
      { name: `executable (${runtime})`, values: [l.agent.cpuPerCheckMs, l.agent.privateDirtyMiB] },
      { name: 'node bundle', values: [l.bundle.cpuPerCheckMs, l.bundle.privateDirtyMiB] },
    ] });
  }
  writeFileSync(join(results, 'agent.svg'), svgPanels('healthcheck agent: start-up and steady state', `targets: once CPU ≤ ${TARGETS.onceCpuRatio}× node -e 0; ≤ ${TARGETS.cpuPerCheckMs} ms per check; Private_Dirty ≤ ${TARGETS.livenessPrivateDirtyMiB} MiB`, panels));
  console.error(`wrote ${join(results, 'agent.{json,md,svg}')}`);
}
