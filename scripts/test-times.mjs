// npm run test:times — where the test suite's time goes: each test file run alone under tap (as configured in
// .taprc), its wall time and the CPU seconds (user + sys) of its whole process tree, as bash's `times` reports
// for the children it waited for. Processes that a container engine starts are the engine's children and are not
// counted. Prints a Markdown table, slowest by CPU first, with the load average before and after (the machine
// may be shared: CPU seconds are the steadier measure), and writes JSON.
//
// Arguments: test files or directories (default: every test/**/*.test.ts). Flags: --jobs 1 (files run at once)
//            --out bench/results/test-times.json
// Needs a build (npm run build) first, as the tests spawn the built executables.
import { spawn } from 'node:child_process';
import { openSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { machine, machineLine, markdownTable, RESULTS, usage, write } from './lib/report.mjs';

const argv = process.argv.slice(2);
const opts = { jobs: '1', out: join(RESULTS, 'test-times.json') };
const paths = [];
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
  if (name === undefined) paths.push(argv[i]);
  else if (!(name in opts)) usage(`unknown flag ${argv[i]}; flags: --jobs 1 --out ${opts.out}`);
  else if (argv[i + 1] === undefined) usage(`${argv[i]} needs a value`);
  else opts[name] = argv[++i];
}
const jobs = Number(opts.jobs);
if (!Number.isInteger(jobs) || jobs < 1) usage(`--jobs ${opts.jobs}: expected a whole number of at least 1`);

function testFiles(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    usage(`${path}: no such file or directory`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path, { recursive: true })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(path, name));
}
const files = (paths.length > 0 ? paths : ['test']).flatMap(testFiles).sort();
const logDir = join(RESULTS, '..', 'tmp', 'test-times');

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** One file under tap; bash's `times` (second line: its waited-for children) gives the tree's CPU seconds. */
function runOne(file) {
  const log = join(logDir, `${relative('test', file).replaceAll('/', '_')}.log`);
  write(log, '');
  const fd = openSync(log, 'w');
  const started = performance.now();
  // Runs at once share .tap/, where each clears the coverage of the others: no coverage is not a failure here.
  const script = 'node_modules/.bin/tap --reporter=tap --allow-empty-coverage "$1"; code=$?; times >&3; exit $code';
  const child = spawn('bash', ['-c', script, 'bash', file], { stdio: ['ignore', fd, fd, 'pipe'] });
  let times = '';
  child.stdio[3].on('data', (chunk) => (times += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const seconds = [...times.split('\n')[1].matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve({ file, wallS: (performance.now() - started) / 1000, cpuS: seconds[0] + seconds[1], exit: code, log });
    });
  });
}

const before = loadavg();
const started = performance.now();
const results = [];
const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(jobs, files.length) }, async () => {
    while (queue.length > 0) {
      const result = await runOne(queue.shift());
      results.push(result);
      process.stderr.write(`${result.file}: ${result.wallS.toFixed(1)}s wall, ${result.cpuS.toFixed(1)} CPU-s, exit ${result.exit} (load ${loadavg()})\n`);
    }
  }),
);
const wallS = (performance.now() - started) / 1000;
const after = loadavg();
results.sort((a, b) => b.cpuS - a.cpuS);
const cpuS = results.reduce((sum, r) => sum + r.cpuS, 0);

const m = machine();
const rows = results.map((r) => [r.file, r.wallS.toFixed(1), r.cpuS.toFixed(1), r.exit === 0 ? 'pass' : `exit ${r.exit}`]);
process.stdout.write(`${machineLine(m)}; --jobs ${jobs}; load average (1/5/15 min) ${before} before, ${after} after\n\n`);
process.stdout.write(`${markdownTable(['file', 'wall s', 'CPU s', 'result'], rows)}\n\n`);
process.stdout.write(`${results.length} files: ${wallS.toFixed(0)} s wall, ${cpuS.toFixed(0)} CPU-s\n`);
write(opts.out, `${JSON.stringify({ machine: m, jobs, loadavg: { before, after }, wallS, cpuS, results }, null, 2)}\n`);
process.exitCode = results.some((r) => r.exit !== 0) ? 1 : 0;
