// npm run bench:agent — what one start of the healthcheck agent costs (a Kubernetes exec probe, a Docker HEALTHCHECK,
// a `once` check, every sidecar life), side by side in one run with the runtime's own floor — an empty executable
// built by the same build (`process.exit(0)` compiled with the same Bun and flags) — and with the programs it
// replaces: Cloud Foundry's Go `healthcheck` and grpc-health-probe, built locally from their sources (never
// committed; their paths are options, and the bench says when they are absent).
//
// The runtime's floor for each row's work, where the agent is built on Bun: scripts/floor/tcp.mjs and grpc.mjs do only
// that work with Bun's own API (connect; or connect, one precomputed Health/Check call, read to its trailers), built
// by the same build as the agent. Their ratio to the empty executable is what no code of ours could go under; the
// agent's ratio to them is what its own code costs.
//
// (a) one-shot: each variant is a passing check (TCP, or gRPC for the gRPC rows) started in a clean environment
//     (`env -i PATH=/usr/bin:/bin`: nothing else; and the TCP check once more, with the empty executable, in a
//     pod's environment of 210 service variables), --runs interleaved rounds after 3 warm-up rounds, so that drift
//     (page cache, CPU frequency, other work) is shared by the variants of one round. Per run: CPU (user + sys),
//     minor page faults and peak RSS of the child from wait4()'s rusage; spawn to first connection (from just
//     before posix_spawn to the moment the listening socket turns readable) and spawn to exit. Medians, and each
//     ratio to the empty executable as the median of the per-round ratios (paired). Where valgrind runs, one
//     callgrind run per variant counts the instructions executed (user space, every thread): steady where the
//     machine is noisy, as page-fault counts are (with Bun's GC timer off, which valgrind's slowness lets fire).
// (b) steady state of liveness at 10 checks/s against a loopback HTTP server, for --seconds after a warm-up: CPU
//     per check, Private_Dirty, RSS, USS — the executable (native and Cloud Foundry flags), the Node bundle, and
//     Cloud Foundry's Go binary.
//
// Where it runs: in a network namespace of its own (unshare -n, as root), whose loopback also carries 10.253.0.1:
// Cloud Foundry's binary (and our agent in its dialect) checks the first non-loopback IPv4 address of the
// machine, and that must be one the bench owns, never the machine's own. Without unshare the Cloud Foundry rows
// are skipped, and said so.
//
// How it measures: a small python3 runner, started in the namespace, posix_spawn()s each command and reaps it with
// os.wait4() (Node cannot wait4() a child); it owns the TCP and HTTP servers the checks talk to, and starts the gRPC
// health server (node:http2). CPU of a long-lived agent: se.sum_exec_runtime of /proc/PID/task/*/sched at the start
// and the end of the window; memory from /proc/PID/smaps_rollup, the executables run from private copies in
// bench/tmp/ so that nothing else shares their pages.
//
// Options: --runs N (default 15, at least 15), --seconds N (default 30), --warmup N (default 3),
//          --binary FILE (default dist/healthcheck), --bundle FILE (default dist/healthcheck.cjs),
//          --cf-go FILE (default $LIFEGUARD_BENCH_CF_GO or /work/peers/cf-healthcheck/healthcheck-go),
//          --grpc-probe FILE (default $LIFEGUARD_BENCH_GRPC_PROBE or /work/peers/grpc-health-probe/grpc-health-probe),
//          --baseline FILE (an earlier build of the agent, measured in the same interleaved rounds: before and after
//          in one sitting), --only once|liveness, --no-callgrind, --no-write (do not write bench/results/agent.{json,md,svg}).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { markdownTable, svgPanels, usage } from './lib/report.mjs';
import { median, percentiles } from './lib/stats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
// A flag the bench does not know is refused, not ignored: `--out DIR` once ran a whole sitting and wrote
// bench/results/ all the same.
const VALUE_FLAGS = ['--runs', '--seconds', '--warmup', '--binary', '--bundle', '--cf-go', '--grpc-probe', '--baseline', '--only'];
const SWITCHES = ['--no-callgrind', '--no-write'];
for (let i = 0; i < args.length; i++) {
  if (VALUE_FLAGS.includes(args[i])) {
    if (args[i + 1] === undefined) usage(`${args[i]} needs a value`);
    i++;
  } else if (!SWITCHES.includes(args[i])) usage(`unknown flag ${args[i]}; flags: ${[...VALUE_FLAGS, ...SWITCHES].join(' ')}`);
}
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const num = (name, fallback, min) => {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isFinite(v) || v < min) usage(`${name} ${opt(name)}: expected a number >= ${min}`);
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
const cfGoPath = resolve(opt('--cf-go', process.env.LIFEGUARD_BENCH_CF_GO ?? '/work/peers/cf-healthcheck/healthcheck-go'));
const grpcProbePath = resolve(opt('--grpc-probe', process.env.LIFEGUARD_BENCH_GRPC_PROBE ?? '/work/peers/grpc-health-probe/grpc-health-probe'));
const only = opt('--only', 'all');
if (!['all', 'once', 'liveness'].includes(only)) usage(`--only ${only}: expected once or liveness`);
const baselinePath = opt('--baseline', undefined);
const write = !args.includes('--no-write');
const callgrind = !args.includes('--no-callgrind') && spawnSync('valgrind', ['--version']).status === 0;
// Issue 20's targets, each a ratio to the empty executable of the same runtime, paired run by run; liveness's
// absolute ceilings stay.
const TARGETS = { cpuVsEmpty: 1.4, faultsVsEmpty: 1.4, connectVsEmptyExit: 1.3, grpcCpuVsEmpty: 1.6, cpuPerCheckMs: 1, livenessPrivateDirtyMiB: 6 };

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

/**
 * A private copy (renamed into place: a running copy cannot be overwritten), so that no other process shares its
 * pages; made afresh by every run, never reused. How a file's pages sit in the page cache counts: the same
 * executable copied an hour earlier measured 877 minor faults and 1.4 ms more CPU per start than a fresh copy of it
 * (820), reading it whole first changing nothing; every executable compared is therefore as freshly written as the
 * empty one the run builds.
 */
function privateCopy(from, name) {
  const to = join(tmp, name);
  copyFileSync(from, `${to}.${process.pid}`);
  chmodSync(`${to}.${process.pid}`, 0o755);
  renameSync(`${to}.${process.pid}`, to);
  return to;
}
const privateNode = privateCopy(process.execPath, 'node');
const privateBinary = privateCopy(binary, 'healthcheck');
const peer = (path, name, what) => {
  if (existsSync(path)) return privateCopy(path, name);
  console.error(`${what}: ${path} is absent, its rows are skipped (build it from source under /work/peers, or pass its path)`);
  return undefined;
};
const cfGo = peer(cfGoPath, 'healthcheck-go', "Cloud Foundry's Go healthcheck");
const grpcProbe = peer(grpcProbePath, 'grpc-health-probe', 'grpc-health-probe');
if (baselinePath !== undefined && !existsSync(baselinePath)) die(`--baseline ${baselinePath} is missing`);
const baseline = baselinePath === undefined ? undefined : privateCopy(resolve(baselinePath), 'healthcheck-baseline');

/** `main` built as the agent is (scripts/build-binary.mjs, same runtime and flags) into bench/tmp/NAME. */
function builtLikeTheAgent(main, name) {
  const out = join(tmp, name);
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-binary.mjs'), '--runtime', runtime, '--main', main, '--out', out, '--no-smoke', '--no-cf-assets', '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) die(`cannot build ${name} from ${main}: ${r.stderr.trim()}`);
  return out;
}

/** The empty executable of the same runtime, and on Bun the floor programs: {empty, floorTcp?, floorGrpc?}. */
function referenceExecutables() {
  const main = join(tmp, runtime === 'bun' ? 'empty.mjs' : 'empty.cjs');
  writeFileSync(main, 'process.exit(0);\n');
  const built = { empty: builtLikeTheAgent(main, `empty-${runtime}`) };
  if (runtime !== 'bun') {
    console.error("the floor programs use Bun's API: their rows are skipped for a Node executable");
    return built;
  }
  built.floorTcp = builtLikeTheAgent(join(root, 'scripts/floor/tcp.mjs'), 'floor-tcp');
  built.floorGrpc = builtLikeTheAgent(join(root, 'scripts/floor/grpc.mjs'), 'floor-grpc');
  return built;
}

const clean = { PATH: '/usr/bin:/bin' };
// Bun's GC timer runs on wall time: under valgrind's slowness it fires during the gRPC call, and collected a few million
// instructions more, different from run to run, that a real start (10 ms) never runs. Our builds read the name as
// LGD_ (scripts/lib/bun-base.mjs renames every BUN_ name), a baseline built before that as BUN_; Go's programs ignore both.
const GC_TIMER_OFF = { LGD_GC_TIMER_DISABLE: '1', BUN_GC_TIMER_DISABLE: '1' };
/**
 * An app's environment as Kubernetes makes it: seven variables for each service of the pod's namespace
 * (enableServiceLinks, on by default), here 30 services' 210, beside PATH. The rows run in it are paired with the
 * empty executable run in it too: what a large environment costs the runtime itself is not ours.
 */
const podEnv = { ...clean };
for (let i = 0; i < 30; i++) {
  const name = `SERVICE_${i}`;
  const address = `10.96.${i}.7`;
  Object.assign(podEnv, {
    [`${name}_SERVICE_HOST`]: address,
    [`${name}_SERVICE_PORT`]: '8080',
    [`${name}_PORT`]: `tcp://${address}:8080`,
    [`${name}_PORT_8080_TCP`]: `tcp://${address}:8080`,
    [`${name}_PORT_8080_TCP_PROTO`]: 'tcp',
    [`${name}_PORT_8080_TCP_PORT`]: '8080',
    [`${name}_PORT_8080_TCP_ADDR`]: address,
  });
}
const POD = "in a pod's environment (PATH and 210 service variables)";
const bunVersion = runtime === 'bun'
  ? spawnSync(join(dirname(fileURLToPath(import.meta.resolve('@oven/bun-linux-x64/package.json'))), 'bin/bun'), ['--version'], { encoding: 'utf8' }).stdout.trim()
  : null;

const stats = (xs) => {
  const [min, p90] = percentiles(xs, [0, 90]);
  return { median: median(xs), min, p90, n: xs.length };
};
const r2 = (x) => Math.round(x * 100) / 100;
const r3 = (x) => Math.round(x * 1000) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- the runner, in a network namespace of its own ----------
/** The address the namespace's loopback also carries: the "interface address" Cloud Foundry's rule finds there. */
const NS_ADDRESS = '10.253.0.1';
const GRPC_SERVER = `
const s = require('node:http2').createServer();
s.on('stream', (st) => { st.on('data', () => {}); st.on('end', () => {
  st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
  st.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
}); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
const RUNNER = String.raw`
import http.server, json, os, select, signal, socket, subprocess, sys, threading, time
namespace, address, node, grpc_server = sys.argv[1] == 'ns', sys.argv[2], sys.argv[3], sys.argv[4]
if namespace:
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    subprocess.run(['ip', 'addr', 'add', address + '/32', 'dev', 'lo'], check=True)
bind = '0.0.0.0' if namespace else '127.0.0.1'
null = os.open('/dev/null', os.O_WRONLY)
tcp = socket.socket()
tcp.bind((bind, 0)); tcp.listen(512); tcp.setblocking(False)
checks = 0
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global checks
        checks += 1
        self.send_response(200); self.send_header('content-length', '2'); self.send_header('connection', 'close')
        self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address): pass  # a client that resets its connection is not news
httpd = Server((bind, 0), Health)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
grpc = subprocess.Popen([node, '-e', grpc_server], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
grpc_port = int(grpc.stdout.readline())
print(json.dumps({'tcp': tcp.getsockname()[1], 'http': httpd.server_address[1], 'grpc': grpc_port}), flush=True)
def drain():
    while True:
        try: tcp.accept()[0].close()
        except BlockingIOError: return
def spawn(req):
    err = os.open(req['stderr'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if req.get('stderr') else null
    pid = os.posix_spawn(req['argv'][0], req['argv'], req['env'], file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, err, 2)])
    if err != null: os.close(err)
    return pid
live = {}
for line in sys.stdin:
    req = json.loads(line)
    op = req['op']
    if op == 'once':
        drain()
        t0 = time.perf_counter_ns()
        pid = spawn(req)
        pidfd = os.pidfd_open(pid)
        poller = select.poll(); poller.register(tcp, select.POLLIN); poller.register(pidfd, select.POLLIN)
        first, ended = None, False
        while not ended:
            for fd, _ in poller.poll():
                if fd == pidfd: ended = True
                elif first is None:
                    first = time.perf_counter_ns()
                    poller.unregister(tcp)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
        os.close(pidfd)
        print(json.dumps({'wall_ms': (t1 - t0) / 1e6, 'connect_ms': None if first is None else (first - t0) / 1e6,
                          'cpu_ms': (ru.ru_utime + ru.ru_stime) * 1e3, 'minflt': ru.ru_minflt, 'majflt': ru.ru_majflt,
                          'maxrss_kib': ru.ru_maxrss, 'code': os.waitstatus_to_exitcode(status)}), flush=True)
    elif op == 'start':
        live[req['name']] = spawn(req)
        print(json.dumps({'pid': live[req['name']]}), flush=True)
    elif op == 'alive':
        pid = live[req['name']]
        print(json.dumps({'alive': os.waitpid(pid, os.WNOHANG)[0] == 0}), flush=True)
    elif op == 'stop':
        pid = live.pop(req['name'])
        os.kill(pid, signal.SIGTERM)
        for _ in range(30):
            if os.waitpid(pid, os.WNOHANG)[0] != 0: break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
        print('{}', flush=True)
    elif op == 'checks':
        print(json.dumps({'checks': checks}), flush=True)
grpc.stdin.close(); grpc.wait()
`;

/** Starts the runner (in its own network namespace where unshare works); resolves to {call, ports, namespace, close}. */
async function startRunner() {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const namespace = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']).status === 0;
  if (!namespace) console.error("no network namespace (unshare -n needs root): Cloud Foundry's rows are skipped, since its binary would check the machine's own address");
  const argv = [python, '-c', RUNNER, namespace ? 'ns' : 'host', NS_ADDRESS, process.execPath, GRPC_SERVER];
  const child = namespace ? spawn('unshare', ['-n', ...argv], { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  child.on('error', (e) => die(`cannot start the python3 runner (needed for a child's rusage): ${e.message}`));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) die('the python3 runner stopped');
    return JSON.parse(value);
  };
  const ports = await next();
  let queue = Promise.resolve();
  const call = (req) => (queue = queue.then(() => {
    child.stdin.write(JSON.stringify(req) + '\n');
    return next();
  }));
  const close = async () => {
    child.stdin.end();
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
  };
  return { call, ports, namespace, host: namespace ? NS_ADDRESS : '127.0.0.1', close };
}

// ---------- (a) one-shot ----------
function onceVariants(runner, references) {
  const { tcp, grpc } = runner.ports;
  const native = ['--mode=once', '--host', '127.0.0.1', '--port', String(tcp)];
  const v = {
    empty: { label: `empty ${runtime} executable (\`process.exit(0)\`)`, argv: [references.empty] },
  };
  if (references.floorTcp) v.floorTcp = { label: 'floor, TCP: scripts/floor/tcp.mjs `P` (Bun.connect, exit)', argv: [references.floorTcp, String(tcp)], connects: true };
  if (references.floorGrpc) v.floorGrpc = { label: 'floor, gRPC: scripts/floor/grpc.mjs `G` (one precomputed call)', argv: [references.floorGrpc, String(grpc)] };
  v.agent = { label: `executable, TCP: \`--mode=once --host 127.0.0.1 --port P\``, argv: [privateBinary, ...native], connects: true };
  if (runner.namespace) v.agentCf = { label: 'executable, TCP, CF flags: `-port=P`', argv: [privateBinary, `-port=${tcp}`], connects: true };
  if (runner.namespace && cfGo) v.cfGo = { label: "CF's Go healthcheck `-port=P`", argv: [cfGo, `-port=${tcp}`], connects: true };
  v.agentGrpc = { label: 'executable, gRPC: `-addr=127.0.0.1:G`', argv: [privateBinary, `-addr=127.0.0.1:${grpc}`] };
  if (grpcProbe) v.grpcProbe = { label: 'grpc-health-probe `-addr=127.0.0.1:G`', argv: [grpcProbe, `-addr=127.0.0.1:${grpc}`] };
  if (baseline) {
    v.baseline = { label: 'baseline executable (`--baseline`), TCP', argv: [baseline, ...native], connects: true };
    if (runner.namespace) v.baselineCf = { label: 'baseline executable, TCP, CF flags', argv: [baseline, `-port=${tcp}`], connects: true };
    v.baselineGrpc = { label: 'baseline executable, gRPC', argv: [baseline, `-addr=127.0.0.1:${grpc}`] };
  }
  v.emptyPod = { label: `empty ${runtime} executable, ${POD}`, argv: [references.empty], env: podEnv };
  v.agentPod = { label: `executable, TCP, ${POD}`, argv: [privateBinary, ...native], connects: true, env: podEnv, empty: 'emptyPod' };
  if (baseline) v.baselinePod = { label: `baseline executable, TCP, ${POD}`, argv: [baseline, ...native], connects: true, env: podEnv, empty: 'emptyPod' };
  v.node = { label: '`node -e 0`', argv: [privateNode, '-e', '0'] };
  v.bundle = { label: 'node dist/healthcheck.cjs, TCP', argv: [privateNode, bundle, ...native], connects: true };
  return v;
}

/** The baseline's variant each of this build's is compared with. */
const BASELINE_OF = { agent: 'baseline', agentCf: 'baselineCf', agentGrpc: 'baselineGrpc', agentPod: 'baselinePod' };
/** The floor program that does each variant's work with nothing of ours. */
const FLOOR_OF = { agent: 'floorTcp', agentCf: 'floorTcp', baseline: 'floorTcp', baselineCf: 'floorTcp', agentGrpc: 'floorGrpc', baselineGrpc: 'floorGrpc' };

async function benchOnce(runner, references) {
  const variants = onceVariants(runner, references);
  const names = Object.keys(variants);
  const run = async (name) => {
    const m = await runner.call({ op: 'once', argv: variants[name].argv, env: variants[name].env ?? clean });
    if (m.code !== 0) die(`${variants[name].label} exited ${m.code} on a check that should pass: is the build current?`);
    if (variants[name].connects && m.connect_ms === null) die(`${variants[name].label} passed without connecting`);
    return m;
  };
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  console.error(`once: ${runs} interleaved rounds of ${names.length} variants (+3 warm-up rounds)...`);
  for (let i = 0; i < 3; i++) for (const n of names) await run(n);
  for (let i = 0; i < runs; i++) for (const n of names) samples[n].push(await run(n));
  const out = { variants: {} };
  /** Median of the per-round ratios of a to b: both runs of a round shared the machine's moment. */
  const paired = (a, b, fa, fb = fa) => median(samples[a].map((m, i) => m[fa] / samples[b][i][fb]));
  for (const n of names) {
    const s = samples[n];
    const empty = variants[n].empty ?? 'empty';
    out.variants[n] = {
      label: variants[n].label,
      empty,
      cpuMs: stats(s.map((m) => m.cpu_ms)),
      minorFaults: stats(s.map((m) => m.minflt)),
      wallMs: stats(s.map((m) => m.wall_ms)),
      connectMs: variants[n].connects ? stats(s.map((m) => m.connect_ms)) : null,
      maxRssMiB: stats(s.map((m) => m.maxrss_kib / 1024)),
      vsEmpty: {
        cpu: paired(n, empty, 'cpu_ms'),
        faults: paired(n, empty, 'minflt'),
        connectVsExit: variants[n].connects ? paired(n, empty, 'connect_ms', 'wall_ms') : null,
      },
      vsCfGo: samples.cfGo && n !== 'cfGo' ? { cpu: paired(n, 'cfGo', 'cpu_ms'), faults: paired(n, 'cfGo', 'minflt') } : null,
      vsGrpcProbe: samples.grpcProbe && n === 'agentGrpc' ? { cpu: paired(n, 'grpcProbe', 'cpu_ms'), faults: paired(n, 'grpcProbe', 'minflt') } : null,
      vsBaseline: BASELINE_OF[n] && samples[BASELINE_OF[n]] ? { cpu: paired(n, BASELINE_OF[n], 'cpu_ms'), faults: paired(n, BASELINE_OF[n], 'minflt') } : null,
      vsFloor: FLOOR_OF[n] && samples[FLOOR_OF[n]] ? { cpu: paired(n, FLOOR_OF[n], 'cpu_ms'), faults: paired(n, FLOOR_OF[n], 'minflt') } : null,
    };
  }
  if (callgrind) {
    console.error('once: one callgrind run per variant (valgrind; slow)...');
    for (const n of names) {
      if (n === 'node' || n === 'bundle' || n.startsWith('baseline')) continue; // minutes under valgrind, and not what the targets are about
      const log = join(tmp, `callgrind-${n}.log`);
      const m = await runner.call({ op: 'once', argv: ['/usr/bin/valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null', ...variants[n].argv], env: { ...(variants[n].env ?? clean), ...GC_TIMER_OFF }, stderr: log });
      const collected = /Collected : (\d+)/.exec(readFileSync(log, 'utf8'));
      rmSync(log, { force: true });
      out.variants[n].instructions = m.code === 0 && collected ? Number(collected[1]) : null;
    }
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
    privateDirtyMiB: kib.Private_Dirty / 1024,
    hwmMiB: field('VmHWM') / 1024,
    threads: field('Threads'),
  };
}

function livenessVariants(runner) {
  const port = String(runner.ports.http);
  const native = ['--mode=liveness', '--host', '127.0.0.1', '--port', port, '--uri', '/health', '--interval', '100ms', '--timeout', '1s'];
  const cf = [`-port=${port}`, '-uri=/health', '-liveness-interval=100ms', '-timeout=1s'];
  const v = { agent: { label: 'executable, native flags', argv: [privateBinary, ...native] } };
  if (runner.namespace) v.agentCf = { label: 'executable, CF flags', argv: [privateBinary, ...cf] };
  if (runner.namespace && cfGo) v.cfGo = { label: "CF's Go healthcheck", argv: [cfGo, ...cf] };
  if (baseline) v.baseline = { label: 'baseline executable (`--baseline`), native flags', argv: [baseline, ...native] };
  v.bundle = { label: 'node dist/healthcheck.cjs, native flags', argv: [privateNode, bundle, ...native] };
  return v;
}

async function benchLiveness(runner, name, { label, argv }) {
  const log = join(tmp, `liveness-${name}.log`);
  const { pid } = await runner.call({ op: 'start', name, argv, env: clean, stderr: log });
  const checks = async () => (await runner.call({ op: 'checks' })).checks;
  const alive = async () => {
    if (!(await runner.call({ op: 'alive', name })).alive) die(`${label}: the liveness agent exited early: ${readFileSync(log, 'utf8').trim().slice(0, 300)}`);
  };
  try {
    const start = await checks();
    for (let waited = 0; waited < warmup * 1000 || (await checks()) - start < 3; waited += 100) {
      if (waited > (warmup + 10) * 1000) die(`${label} served no checks in ${warmup + 10}s`);
      await sleep(100);
      await alive();
    }
    const cpu0 = threadCpuNs(pid), checks0 = await checks(), t0 = performance.now();
    let peakPrivateDirty = 0;
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      await alive();
      peakPrivateDirty = Math.max(peakPrivateDirty, smaps(pid).privateDirtyMiB);
    }
    const cpu1 = threadCpuNs(pid), served = (await checks()) - checks0;
    const elapsed = (performance.now() - t0) / 1000;
    const mem = smaps(pid);
    return { label, windowS: r2(elapsed), checks: served, cpuPerCheckMs: (cpu1 - cpu0) / 1e6 / served, cpuPercent: ((cpu1 - cpu0) / 1e9 / elapsed) * 100, peakPrivateDirtyMiB: peakPrivateDirty, ...mem };
  } finally {
    await runner.call({ op: 'stop', name });
    rmSync(log, { force: true });
  }
}

// ---------- run ----------
const result = {
  date: new Date().toISOString(),
  machine: { node: process.version, bun: bunVersion, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release(), memGiB: r2(os.totalmem() / 2 ** 30), loadAvgAtStart: os.loadavg().map(r2) },
  executable: { runtime, file: binary, sizeMiB: r2(statSync(binary).size / 2 ** 20) },
  peers: { cfGo: cfGo ? cfGoPath : null, grpcProbe: grpcProbe ? grpcProbePath : null },
  baseline: baseline ? resolve(baselinePath) : null,
  config: { runs, seconds, warmup, intervalMs: 100, environment: clean, podEnvironment: podEnv, callgrind, callgrindEnvironment: { ...clean, ...GC_TIMER_OFF } },
  targets: TARGETS,
};
const runner = await startRunner();
result.config.networkNamespace = runner.namespace;
try {
  if (only === 'all' || only === 'once') result.once = await benchOnce(runner, referenceExecutables());
  if (only === 'all' || only === 'liveness') {
    result.liveness = {};
    for (const [n, variant] of Object.entries(livenessVariants(runner))) {
      console.error(`liveness: ${variant.label}, ${warmup}s warm-up + ${seconds}s...`);
      result.liveness[n] = await benchLiveness(runner, n, variant);
    }
  }
} finally {
  await runner.close();
}
result.machine.loadAvgAtEnd = os.loadavg().map(r2);

// ---------- report ----------
const verdict = (value, target) => `≤ ${target}×: ${value <= target ? 'pass' : '**miss**'}`;
const x = (v) => (v === null || v === undefined ? '' : `${v.toFixed(2)}×`);
const lines = [];
if (result.once) {
  const o = result.once.variants;
  const f = (s, d = 1) => (s === null ? '' : `${s.median.toFixed(d)} [${s.min.toFixed(d)}, ${s.p90.toFixed(d)}]`);
  lines.push(`### one-shot: a passing check, environment \`env -i PATH=/usr/bin:/bin\` (${runs} interleaved rounds; median [min, p90]; × = paired ratio to the empty executable, run in the same environment)`, '');
  const rows = Object.values(o).map((v) => [v.label, f(v.cpuMs), x(v.vsEmpty.cpu), f(v.minorFaults, 0), x(v.vsEmpty.faults), f(v.connectMs), x(v.vsEmpty.connectVsExit), f(v.wallMs), f(v.maxRssMiB), v.instructions ? `${(v.instructions / 1e6).toFixed(1)} M (${x(v.instructions / o[v.empty].instructions)})` : v.instructions === null ? 'n/a: did not pass under valgrind' : '']);
  lines.push(markdownTable(['command', 'CPU ms', '×', 'minor faults', '×', 'spawn → connection ms', '× empty exit', 'spawn → exit ms', 'peak RSS MiB', 'instructions (callgrind)'], rows), '');
  const targets = [
    ['one-shot CPU (TCP, native flags)', x(o.agent.vsEmpty.cpu), verdict(o.agent.vsEmpty.cpu, TARGETS.cpuVsEmpty)],
    ['one-shot minor faults', x(o.agent.vsEmpty.faults), verdict(o.agent.vsEmpty.faults, TARGETS.faultsVsEmpty)],
    ["spawn → first connection ÷ the empty executable's spawn → exit", x(o.agent.vsEmpty.connectVsExit), verdict(o.agent.vsEmpty.connectVsExit, TARGETS.connectVsEmptyExit)],
    ['gRPC one-shot CPU', x(o.agentGrpc.vsEmpty.cpu), verdict(o.agentGrpc.vsEmpty.cpu, TARGETS.grpcCpuVsEmpty)],
  ];
  if (o.agentPod) targets.push([`one-shot CPU / minor faults / instructions, ${POD}`, `${x(o.agentPod.vsEmpty.cpu)} / ${x(o.agentPod.vsEmpty.faults)} / ${o.agentPod.instructions ? x(o.agentPod.instructions / o.emptyPod.instructions) : ''}`, '']);
  if (o.agentCf) targets.push(['one-shot CPU / minor faults, CF flags', `${x(o.agentCf.vsEmpty.cpu)} / ${x(o.agentCf.vsEmpty.faults)}`, '']);
  if (o.cfGo) targets.push(["against CF's Go binary: CPU / minor faults (native flags; CF flags)", `${x(o.agent.vsCfGo.cpu)} / ${x(o.agent.vsCfGo.faults)}; ${x(o.agentCf.vsCfGo.cpu)} / ${x(o.agentCf.vsCfGo.faults)}`, '']);
  if (o.grpcProbe) targets.push(['gRPC against grpc-health-probe: CPU / minor faults', `${x(o.agentGrpc.vsGrpcProbe.cpu)} / ${x(o.agentGrpc.vsGrpcProbe.faults)}`, '']);
  if (o.floorTcp && o.floorGrpc) {
    // A target the floor itself misses cannot be met by any code of ours on this runtime.
    targets.push(["the runtime's floor for each row, CPU ÷ the empty executable's (TCP; gRPC)", `${x(o.floorTcp.vsEmpty.cpu)}; ${x(o.floorGrpc.vsEmpty.cpu)}`, `${verdict(o.floorTcp.vsEmpty.cpu, TARGETS.cpuVsEmpty)}; ${verdict(o.floorGrpc.vsEmpty.cpu, TARGETS.grpcCpuVsEmpty)}`]);
    const above = (v) => (v?.vsFloor ? `${x(v.vsFloor.cpu)} / ${x(v.vsFloor.faults)}` : '');
    targets.push(['what our code costs: this build ÷ its floor program, CPU / minor faults (TCP native; CF flags; gRPC)', `${above(o.agent)}; ${above(o.agentCf)}; ${above(o.agentGrpc)}`, '']);
  }
  if (o.baseline) {
    const pair = (v) => (v?.vsBaseline ? `${x(v.vsBaseline.cpu)} / ${x(v.vsBaseline.faults)}` : '');
    targets.push(['this build ÷ the baseline: CPU / minor faults (native flags; CF flags; gRPC)', `${pair(o.agent)}; ${pair(o.agentCf)}; ${pair(o.agentGrpc)}`, '']);
  }
  lines.push(markdownTable(['ratio', 'value', 'target'], targets), '');
}
if (result.liveness) {
  const l = result.liveness;
  lines.push(`### liveness: an HTTP check every 100 ms against a loopback server, environment \`env -i PATH=/usr/bin:/bin\` (${seconds}s window after ${warmup}s warm-up)`, '');
  const rows = Object.values(l).map((v) => [v.label, String(v.checks), v.cpuPerCheckMs.toFixed(3), l.cfGo ? x(v.cpuPerCheckMs / l.cfGo.cpuPerCheckMs) : '', v.cpuPercent.toFixed(2), `${v.privateDirtyMiB.toFixed(1)} (${v.peakPrivateDirtyMiB.toFixed(1)})`, v.rssMiB.toFixed(1), v.ussMiB.toFixed(1), String(v.threads)]);
  lines.push(markdownTable(['agent', 'checks', 'CPU/check ms', "× CF's Go", 'CPU %', 'Private_Dirty MiB (peak)', 'RSS MiB', 'USS MiB', 'threads'], rows), '');
  const ok = (c) => (c ? 'pass' : '**miss**');
  lines.push(`Executable, native flags: CPU per check ≤ ${TARGETS.cpuPerCheckMs} ms: ${ok(l.agent.cpuPerCheckMs <= TARGETS.cpuPerCheckMs)}; Private_Dirty ≤ ${TARGETS.livenessPrivateDirtyMiB} MiB: ${ok(l.agent.privateDirtyMiB <= TARGETS.livenessPrivateDirtyMiB)}.`, '');
}
const absent = [!cfGo && "CF's Go healthcheck", !grpcProbe && 'grpc-health-probe', !runner.namespace && 'CF flags (no network namespace)'].filter(Boolean);
lines.push(`Executable ${result.executable.sizeMiB} MiB (${runtime}${bunVersion ? ` ${bunVersion}` : ''}); node ${process.version}; ${result.machine.cpus} × ${result.machine.cpuModel}, Linux ${result.machine.kernel}; load average ${result.machine.loadAvgAtStart[0]} at start, ${result.machine.loadAvgAtEnd[0]} at end; ${result.date.slice(0, 16)}Z.${absent.length ? ` Not measured: ${absent.join(', ')}.` : ''}`);
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
    const o = result.once.variants;
    panels.push({ title: 'one-shot: ratio to the empty executable', unit: '× (paired median)', groups: ['CPU', 'minor faults'], series: Object.values(o).filter((v) => v !== o.empty && v !== o.emptyPod).map((v) => ({ name: v.label.replace(/`/g, ''), values: [v.vsEmpty.cpu, v.vsEmpty.faults] })) });
  }
  if (result.liveness) {
    const l = result.liveness;
    panels.push({ title: 'liveness at 10 checks/s', unit: 'ms per check | MiB', groups: ['CPU per check', 'Private_Dirty'], series: Object.values(l).map((v) => ({ name: v.label, values: [v.cpuPerCheckMs, v.privateDirtyMiB] })) });
  }
  writeFileSync(join(results, 'agent.svg'), svgPanels('healthcheck agent: start-up and steady state', `targets: one-shot CPU and faults ≤ ${TARGETS.cpuVsEmpty}× the empty executable; gRPC ≤ ${TARGETS.grpcCpuVsEmpty}×; ≤ ${TARGETS.cpuPerCheckMs} ms per check; Private_Dirty ≤ ${TARGETS.livenessPrivateDirtyMiB} MiB`, panels));
  console.error(`wrote ${join(results, 'agent.{json,md,svg}')}`);
}
