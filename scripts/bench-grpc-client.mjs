// node scripts/bench-grpc-client.mjs [--grpc-js DIR] [--runs N] [--no-write]
//
// Why the agent's gRPC check is not written on @grpc/grpc-js: start-up cost and bundle size,
// measured side by side. One loopback gRPC health server (node:http2, answering SERVING), then interleaved runs of
//   - `node -e 0`, the floor;
//   - the agent's TCP check (`node dist/healthcheck.cjs --check tcp://...`), which never loads the HTTP/2 client;
//   - the agent's gRPC check (`node dist/healthcheck.cjs --check grpc://...`), its own HTTP/2 client loaded on demand;
//   - the smallest useful @grpc/grpc-js client (one unary Health/Check with hand-written serializers, no
//     protobufjs), bundled by esbuild as the agent is; only when --grpc-js names a directory whose node_modules
//     holds @grpc/grpc-js (`npm install --prefix DIR @grpc/grpc-js`), since it is not a dependency of lifeguard.
// Wall time of each run from spawn to exit, median [min, p90] of --runs (default 15); every run must exit 0.
// Sizes: the agent bundle, and the grpc-js client bundle. Prints a Markdown table; writes bench/results/grpc-client.json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const runs = Number(option('--runs') ?? 15);
const grpcJsDir = option('--grpc-js');
const AGENT = resolve('dist/healthcheck.cjs');

// The server runs in a child of its own: spawnSync below blocks this process's event loop.
const SERVER = `
const s = require('node:http2').createServer();
s.on('stream', (st) => { st.on('data', () => {}); st.on('end', () => {
  st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
  st.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
}); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = Number(String(await new Promise((done) => child.stdout.once('data', done))).trim());

const tmp = mkdtempSync(join(os.tmpdir(), 'lifeguard-bench-grpc-'));
const variants = [
  { name: 'node -e 0 (floor)', argv: ['-e', '0'] },
  { name: 'agent, TCP check', argv: [AGENT, '--check', `tcp://127.0.0.1:${port}`] },
  { name: 'agent, gRPC check', argv: [AGENT, '--check', `grpc://127.0.0.1:${port}`], bytes: statSync(AGENT).size },
];
if (grpcJsDir !== undefined) {
  const source = join(tmp, 'client.cjs');
  writeFileSync(
    source,
    `const grpc = require('@grpc/grpc-js');
const client = new grpc.Client('127.0.0.1:${port}', grpc.credentials.createInsecure());
const serialize = (service) => { const b = Buffer.from(service); return Buffer.concat([Buffer.from([0x0a, b.length]), b]); };
client.makeUnaryRequest('/grpc.health.v1.Health/Check', serialize, (b) => b, '', { deadline: Date.now() + 1000 }, (err, reply) => process.exit(err ? 3 : reply[1] === 1 ? 0 : 4));
`,
  );
  const outfile = join(tmp, 'grpc-js-client.cjs');
  await build({ entryPoints: [source], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning', nodePaths: [join(resolve(grpcJsDir), 'node_modules')] });
  variants.push({ name: '@grpc/grpc-js client (esbuild bundle)', argv: [outfile], bytes: statSync(outfile).size });
}

function once(argv) {
  const started = process.hrtime.bigint();
  const ended = spawnSync(process.execPath, argv, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (ended.status !== 0) throw new Error(`${argv.join(' ')} exited ${ended.status}`);
  return ms;
}

try {
  for (const variant of variants) once(variant.argv); // warm-up: page cache, first-run costs
  const times = new Map(variants.map((v) => [v.name, []]));
  for (let i = 0; i < runs; i++) for (const variant of variants) times.get(variant.name).push(once(variant.argv));
  const floor = median(times.get(variants[0].name));
  const rows = variants.map((variant) => {
    const sorted = [...times.get(variant.name)].sort((a, b) => a - b);
    return { name: variant.name, medianMs: median(sorted), minMs: sorted[0], p90Ms: sorted[Math.floor(sorted.length * 0.9)], overFloorMs: median(sorted) - floor, bytes: variant.bytes ?? null };
  });
  console.log(`| run (${runs} each, interleaved; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}, Node ${process.version}) | wall median [min, p90] | over the floor | bundle |`);
  console.log('|---|---|---|---|');
  for (const row of rows) {
    console.log(`| ${row.name} | ${row.medianMs.toFixed(1)} ms [${row.minMs.toFixed(1)}, ${row.p90Ms.toFixed(1)}] | ${row.overFloorMs.toFixed(1)} ms | ${row.bytes === null ? '' : `${(row.bytes / 1024).toFixed(0)} KB`} |`);
  }
  if (grpcJsDir === undefined) console.log('\n(no --grpc-js DIR: the @grpc/grpc-js row is left out)');
  if (!args.includes('--no-write')) {
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/grpc-client.json', `${JSON.stringify({ runs, node: process.version, cpus: os.cpus().length, load: os.loadavg()[0], rows }, null, 2)}\n`);
  }
} finally {
  child.kill();
  rmSync(tmp, { recursive: true, force: true });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
