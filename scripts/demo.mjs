// `npm run demo`: runs `lifeguard run examples/demo.json --log-format text` for about 30 seconds with its log
// streaming to the terminal, claims a prewarmed instance half-way through over the HTTP endpoint, stops the
// supervisor with SIGTERM, and prints which transitions were seen. Exits non-zero when the supervisor did not
// exit 0 or a transition never showed.
//   LIFEGUARD_DEMO_CONFIG   another config (default examples/demo.json); it must configure http.listen
//   LIFEGUARD_DEMO_SECONDS  how long to run (default 30)
//   LIFEGUARD_DEMO_CLAIM    the prewarm app to claim from (default pool)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { INSTANCE_STATES: STATES } = await import('../dist/shared/transition.js');
// The text log's `<from> -> <to>:` (src/supervisor/serve/transition-log.ts); the app is the instance id's prefix.
const LINE = /\s(\S+)-\d+ (\S+) -> (\S+): /;

const configPath = process.env.LIFEGUARD_DEMO_CONFIG ?? 'examples/demo.json';
const seconds = Number(process.env.LIFEGUARD_DEMO_SECONDS ?? 30);
const claimApp = process.env.LIFEGUARD_DEMO_CLAIM ?? 'pool';
const listen = JSON.parse(readFileSync(new URL(configPath, `file://${ROOT}/`), 'utf8')).http?.listen;
if (typeof listen !== 'string') fail(`${configPath} has no http.listen; the demo claims through the HTTP endpoint`);
const endpoint = new URL(`http://${listen}`);

const seen = new Map(STATES.map((state) => [state, { count: 0, apps: new Set() }]));
const lifeguard = spawn(process.execPath, ['bin/lifeguard.js', 'run', configPath, '--log-format', 'text'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const exited = new Promise((resolve) => lifeguard.once('exit', (code, signal) => resolve({ code, signal })));
createInterface({ input: lifeguard.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const match = LINE.exec(line);
  const entry = match && seen.get(match[3]);
  if (!entry) return;
  entry.count += 1;
  entry.apps.add(match[1]);
});
// Ctrl-C reaches lifeguard too (same process group); either way, let it stop cleanly and still summarize. An
// interrupted demo is not a failed one: the states it did not get to are not missing.
let interrupted;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = signal;
    lifeguard.kill('SIGTERM');
  });
}

say(`running examples for ${seconds}s; the log below is lifeguard's, one line per transition`);
const early = await Promise.race([sleep(seconds * 500).then(() => undefined), exited]);
if (early === undefined) {
  await claimOnce();
  await Promise.race([sleep(seconds * 500), exited]);
  say('stopping lifeguard with SIGTERM');
  lifeguard.kill('SIGTERM');
}
const { code, signal } = await exited;
summarize();
const missing = STATES.filter((state) => seen.get(state).count === 0);
if (code !== 0) fail(`lifeguard exited with ${code ?? signal}`);
if (interrupted !== undefined) {
  say(`interrupted (${interrupted}): lifeguard stopped every instance and exited 0`);
  process.exit(0);
}
if (missing.length > 0) fail(`never seen: ${missing.join(', ')}`);
say('lifeguard exited 0 and every transition appeared');

/** POST /apps/<app>/claim until a prewarmed instance is handed out (503 means none is ready yet). */
async function claimOnce() {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const reply = await post(`/apps/${encodeURIComponent(claimApp)}/claim`).catch((error) => ({ status: 0, body: error.message }));
    if (reply.status === 200) {
      const claim = JSON.parse(reply.body);
      return say(`claimed ${claim.id} (${claim.address}) with POST ${endpoint.origin}/apps/${claimApp}/claim`);
    }
    say(`claim answered ${reply.status || reply.body}; retrying`);
    await sleep(1000);
  }
  say(`no instance of ${claimApp} could be claimed`);
}

function post(path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: endpoint.hostname.replace(/^\[|\]$/g, ''), port: endpoint.port, path, method: 'POST', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function summarize() {
  const rows = STATES.map((state) => [state, String(seen.get(state).count), [...seen.get(state).apps].sort().join(', ') || '(none)']);
  const header = ['transition to', 'count', 'apps'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const format = (row) => row.map((cell, i) => (i === 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  process.stdout.write(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(format).join('\n')}\n\n`);
}

function say(text) {
  process.stdout.write(`demo: ${text}\n`);
}

function fail(text) {
  process.stderr.write(`demo: ${text}\n`);
  process.exit(1);
}
