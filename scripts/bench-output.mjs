// The supervisor under an app's output flood (issue 14): `lifeguard run` with one app writing 60 MB/s for 10 s
// (test/fixtures/flood.mjs) beside an app that crashes every 300ms, once per output mode, side by side in one run.
// Prints, per mode: the supervisor's peak RSS (VmHWM), its RSS sampled every 100ms (median, max), what is kept on
// disk, the transition lines seen and how late they reached stdout (receipt time minus the line's own time:
// median and max), and how often the flood app itself failed (0: it flooded throughout). Writes the table as JSON to bench-output.json.
// Two reference rows: `quiet` (the same apps, the flood app writing nothing, output to files) and, with
// --compare <checkout>, `before` (that checkout's lifeguard, which discards all output, under the same flood).
//   node scripts/bench-output.mjs [--seconds 10] [--mbps 60] [--compare /path/to/other/checkout] [--json path]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, mbps: { type: 'string', default: '60' }, compare: { type: 'string' }, json: { type: 'string', default: 'bench-output.json' } } });
const seconds = Number(values.seconds);
/** name, output mode (undefined: the field is not written), flood rate, checkout. */
const RUNS = [
  ['quiet', 'file', '0', ROOT],
  ...(values.compare === undefined ? [] : [['before', undefined, values.mbps, values.compare]]),
  ['discard', 'discard', values.mbps, ROOT],
  ['file', 'file', values.mbps, ROOT],
  ['stderr', 'stderr', values.mbps, ROOT],
];

function kib(status, field) {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
}

const median = (xs) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

async function run([name, mode, mbps, checkout]) {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-output-'));
  const config = join(dir, 'lifeguard.json');
  writeFileSync(config, JSON.stringify({
    apps: [
      { name: 'flood', command: [process.execPath, join(ROOT, 'test/fixtures/flood.mjs')], env: { FLOOD_MBPS: mbps, FLOOD_SECONDS: String(seconds) },
        checks: [{ tcp_check: { port: 8080, connect_timeout_ms: 5000 } }], probe: 'native', livenessInterval: '2s',
        ...(mode === undefined ? {} : { output: { to: mode, maxSize: '10M' } }) },
      { name: 'crasher', command: [process.execPath, join(ROOT, 'test/fixtures/app.mjs')], env: { CRASH_AFTER_MS: '300' },
        checks: [{ tcp_check: { port: 8080 } }], probe: 'native', startupInterval: '100ms',
        restart: { immediate: 100000, backoffMin: '0s', backoffMax: '0s', maxRestarts: 100000 } },
    ],
    stateDir: join(dir, 'state'),
  }));
  const child = spawn(process.execPath, [join(checkout, 'bin/lifeguard.js'), 'run', config, '--duration', `${seconds + 2}s`], {
    // stderr mode writes the flood to the supervisor's stderr: to /dev/null here, as a terminal is not the subject.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lags = [];
  let floodFailures = 0;
  let partial = '';
  child.stdout.on('data', (chunk) => {
    const now = Date.now();
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const transition = JSON.parse(line);
      lags.push(now - Date.parse(transition.time));
      // The flood must have run throughout: an app that failed would have flooded less.
      if (transition.app === 'flood' && ['crashed', 'unhealthy', 'timed-out'].includes(transition.to)) floodFailures++;
    }
  });
  const rss = [];
  let peak = NaN;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      // An exiting process (a zombie) has no memory lines: keep what was read before.
      if (!Number.isNaN(kib(status, 'VmRSS'))) rss.push(kib(status, 'VmRSS'));
      if (!Number.isNaN(kib(status, 'VmHWM'))) peak = kib(status, 'VmHWM');
    } catch {
      // exited
    }
  }, 100);
  await new Promise((resolve) => child.once('close', resolve));
  clearInterval(sampler);
  const outDir = join(dir, 'state', 'output', 'flood');
  let kept = 0;
  try {
    for (const name of readdirSync(outDir)) kept += statSync(join(outDir, name)).size;
  } catch {
    // discard and stderr keep no files
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    run: name,
    floodMBps: Number(mbps),
    peakRssMiB: +(peak / 1024).toFixed(1),
    rssMedianMiB: +(median(rss) / 1024).toFixed(1),
    rssMaxMiB: +(Math.max(...rss) / 1024).toFixed(1),
    keptOnDiskMiB: +(kept / 1024 / 1024).toFixed(1),
    transitions: lags.length,
    lagMedianMs: median(lags),
    lagMaxMs: Math.max(...lags),
    floodFailures,
  };
}

const rows = [];
for (const spec of RUNS) rows.push(await run(spec));
console.log(`app writing ${values.mbps} MB/s for ${seconds}s, beside an app crashing every 300ms; supervisor = lifeguard run`);
console.table(rows);
writeFileSync(values.json, JSON.stringify({ seconds, mbps: Number(values.mbps), rows }, null, 2));
