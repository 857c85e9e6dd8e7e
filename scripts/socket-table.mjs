// Re-runs issue 26's table: an HTTP check (`--host 127.0.0.1 --port P --uri /h --timeout 1s`) against loopback
// servers that reset or close at each stage, N runs each (default 20), with both builds side by side: the Bun
// executable dist/healthcheck and the Node build bin/healthcheck.cjs. With --all, every case of the socket layer's
// conformance table (test/helpers/socket-cases.ts, the list the tests run) with its own arguments, and a third
// column: the Node build on node:net (NODE_PENDING_DEPRECATION=1), its fallback from libuv's TCP handle.
// Prints the table (each cell: how many runs ended how) and writes it as JSON.
//
//   npm run socket-table [-- --all] [--only TEXT] [--runs N] [--json FILE]   (--only: the cases whose `protocol: name` has TEXT)
//   (= npm run build:binary && node --import tsx scripts/socket-table.mjs ...)
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedKeys, runCase, SOCKET_CASES, SocketLab } from '../test/helpers/socket-cases.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const all = args.includes('--all');
const runs = Number(option('--runs', '20'));
const jsonFile = resolve(option('--json', join(root, 'dist/socket-table.json')));
if (!Number.isInteger(runs) || runs < 1) {
  console.error('socket-table: --runs must be a positive integer');
  process.exit(2);
}

const node = [process.execPath, join(root, 'bin/healthcheck.cjs')];
const builds = [
  { name: 'dist/healthcheck (Bun)', command: [join(root, 'dist/healthcheck')] },
  { name: 'bin/healthcheck.cjs (Node)', command: node },
  // The Node build's other socket layer: node:net, where libuv's TCP handle is not to be had (connection-handle.ts).
  ...(all ? [{ name: 'bin/healthcheck.cjs, node:net', command: node, env: { NODE_PENDING_DEPRECATION: '1' } }] : []),
];
for (const { command } of builds) {
  const file = command.at(-1);
  if (!existsSync(file)) {
    console.error(`socket-table: ${file} is missing: run npm run build:binary`);
    process.exit(2);
  }
}

const teardowns = [];
const lab = new SocketLab({ teardown: (fn) => teardowns.push(fn) });
const only = option('--only', '');
const cases = (all ? SOCKET_CASES : SOCKET_CASES.filter((c) => c.issueRow !== undefined)).filter((c) => `${c.protocol}: ${c.name}`.includes(only));
const rows = [];
try {
  for (const c of cases) {
    const port = await lab.serve(c);
    // The issue's own command line for its rows; the case's arguments for the others.
    const argv = all ? undefined : ['--host', '127.0.0.1', '--port', String(port), '--uri', '/h', '--timeout', '1s'];
    const expected = expectedKeys(c, port);
    const row = { server: c.issueRow ?? `${c.protocol}: ${c.name}`, expected: expected.map((k) => k.replace(`:${port}`, ':P')), builds: {} };
    for (const build of builds) {
      const tally = await runCase(lab, c, port, build.command, runs, argv, build.env);
      row.builds[build.name] = {
        right: [...tally].filter(([key]) => expected.includes(key)).reduce((n, [, count]) => n + count, 0),
        runs,
        ended: Object.fromEntries([...tally].map(([key, count]) => [key.replace(`:${port}`, ':P'), count])),
      };
    }
    rows.push(row);
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
}

const cell = (b) => `${b.right}/${b.runs}${b.right === b.runs ? '' : ' ✗'} ${Object.entries(b.ended).map(([key, n]) => `exit ${short(key)} ×${n}`).join(', ')}`;
function short(key) {
  // "5 failed to make HTTP request to '/h' on 127.0.0.1:P: read: connection reset by peer" -> "5 (read: connection ...)"
  const [code, ...rest] = key.split(' ');
  const line = rest.join(' ');
  const reason = line.replace(/^.*?127\.0\.0\.1:P: /, '');
  return reason === '' ? code : `${code} (${reason})`;
}
console.log(`| server | ${builds.map((b) => `\`${b.name}\``).join(' | ')} |`);
console.log(`|---|${builds.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.server} | ${builds.map((b) => cell(row.builds[b.name])).join(' | ')} |`);
writeFileSync(jsonFile, `${JSON.stringify({ runs, all, rows }, null, 2)}\n`);
console.log(`\n${rows.length} rows, ${runs} runs each per build; JSON: ${jsonFile}`);
const wrong = rows.filter((row) => builds.some((b) => row.builds[b.name].right !== runs));
if (wrong.length > 0) {
  console.log(`${wrong.length} row(s) not ${runs}/${runs}`);
  process.exitCode = 1;
}
