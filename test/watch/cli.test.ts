// `lifeguard watch` refuses bad input before it touches an engine: exit 2, nothing on stdout, one line on stderr
// naming the flag (or the file's field) — and an engine it cannot reach is one line too, naming the socket, exit 2.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { run as runCommand } from '../helpers/agent.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ROOT } from '../supervisor/harness.js';

const LIFEGUARD = join(ROOT, 'bin/lifeguard.js');

function watch(args: readonly string[], env: Record<string, string | undefined> = {}) {
  return runCommand(process.execPath, [LIFEGUARD, 'watch', ...args], { killAfterMs: 20_000, env: { DOCKER_HOST: undefined, ...env } });
}

const FLAG_CASES: readonly (readonly [readonly string[], string])[] = [
  [['--interval', '5'], '--interval: expected a Go duration such as 500ms, 2s or 1m30s, above 0, got "5"'],
  [['--retries', '0'], '--retries: expected an integer of at least 1, got 0'],
  [['--retries', 'many'], '--retries: expected an integer of at least 1, got "many"'],
  [['--health', 'maybe'], '--health: expected "engine", "native" or "sidecar"'],
  [['--health', 'native'], '--check: required by health "native"'],
  [['--check', 'http://:8080/health'], '--check: only for health "native" or "sidecar" (the engine runs its own HEALTHCHECK)'],
  [['--health', 'native', '--check', 'http://10.0.0.1:8080/'], "--check: expected no host (the container's address is used)"],
  [['--health', 'native', '--check', 'udp://:53'], "--check: invalid 'udp://:53': expected a URL such as"],
  [['--agent-binary', '/x'], '--agent-binary: only for health "sidecar"'],
  [['--label', 'a=b', '--all'], '--all: give a label or all, not both'],
  [['--label', '=b'], '--label: expected key=value or key, got "=b"'],
  [['--action', 'kill'], '--action: expected "restart" or "stop"'],
  [['--start-grace', '-1s'], '--start-grace: expected a Go duration'],
  [['--log-format', 'xml'], "invalid --log-format 'xml': expected json or text"],
  [['--frobnicate'], "unknown option '--frobnicate'"],
  [['--config', '/nonexistent/watch.json'], "config: cannot read '/nonexistent/watch.json': no such file"],
  [['--socket', 'tcp://127.0.0.1:2375'], "--socket: lifeguard reaches the engine over its unix socket only: a path such as /var/run/docker.sock, or unix:///var/run/docker.sock, not 'tcp://127.0.0.1:2375'"],
  [['--socket', 'ssh://me@host'], '--socket: lifeguard reaches the engine over its unix socket only'],
];

for (const [args, fragment] of FLAG_CASES) {
  t.test(`watch ${args.join(' ')}`, async (t) => {
    const run = await watch(args);
    t.equal(run.code, 2, 'exit 2');
    t.equal(run.stdout, '');
    t.equal(run.stderr.split('\n').length, 2, 'one line');
    t.ok(run.stderr.includes(fragment), `names what is wrong: ${run.stderr.trim()}`);
  });
}

const FILE_CASES: readonly (readonly [unknown, string])[] = [
  [{ apps: [] }, 'expected a JSON or YAML object with "watch"'],
  [{ watch: {}, apps: [] }, 'config: apps: unknown field (a watch file holds only "watch")'],
  [{ watch: { bogus: 1 } }, 'config: watch.bogus: unknown field'],
  [{ watch: { restart: { maxRestarts: -1 } } }, 'config: watch.restart.maxRestarts: expected an integer of at least 0'],
  [{ watch: { restart: { backoffMin: '1m', backoffMax: '1s' } } }, 'config: watch.restart.backoffMax: expected at least backoffMin'],
  [{ watch: { http: { listen: '0.0.0.0:9465' } } }, 'config: watch.http.listen: expected a loopback address'],
  [{ watch: { health: 'native', checks: [{ http_check: { port: 0, path: '/' } }] } }, 'config: watch.checks[0]'],
  [{ watch: [] }, 'config: watch: expected an object'],
];

for (const [json, fragment] of FILE_CASES) {
  t.test(`watch --config ${JSON.stringify(json)}`, async (t) => {
    const file = join(t.testdir(), 'watch.json');
    writeFileSync(file, JSON.stringify(json));
    const run = await watch(['--config', file]);
    t.equal(run.code, 2, 'exit 2');
    t.equal(run.stderr.split('\n').length, 2, 'one line');
    t.ok(run.stderr.includes(fragment), `names the field: ${run.stderr.trim()}`);
  });
}

// One loader for run's config and watch's: YAML by its name, JSON otherwise, syntax errors placed at line and column.
t.test('watch --config reads YAML as run does, and places syntax errors', async (t) => {
  const dir = t.testdir();
  const cases: readonly (readonly [string, string, string])[] = [
    ['watch.yaml', 'watch:\n  retries: 0\n', 'config: watch.retries: expected an integer of at least 1, got 0'],
    ['watch.yml', 'watch:\n  restart: { backoffMin: 1m, backoffMax: 1s }\n', 'config: watch.restart.backoffMax: expected at least backoffMin'],
    ['bad.yaml', 'watch:\n  retries: [1\n', `config: ${join(dir, 'bad.yaml')}:3:1: not valid YAML: `],
    ['bad.json', '{"watch": {"retries": 1,}}', `config: ${join(dir, 'bad.json')}:1:`],
  ];
  for (const [name, text, fragment] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const run = await watch(['--config', file]);
    t.equal(run.code, 2, `${name}: exit 2`);
    t.equal(run.stderr.split('\n').length, 2, `${name}: one line`);
    t.ok(run.stderr.startsWith(fragment), `${name}: ${run.stderr.trim()}`);
  }
});

t.test('a flag wins over the file', async (t) => {
  const file = join(t.testdir(), 'watch.json');
  writeFileSync(file, JSON.stringify({ watch: { retries: 'x' } }));
  const run = await watch(['--config', file, '--retries', '0']);
  t.ok(run.stderr.startsWith('--retries: expected an integer of at least 1, got 0'), run.stderr);
});

// Socket paths in a short temporary directory: a checkout's own path (CI's is longer) must not decide the errno.
t.test('an engine that cannot be reached: one line naming the socket, exit 2', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'no.sock');
  const line = `cannot reach the Docker engine at ${sock}: connect ENOENT ${sock} (set --socket (socketPath), or DOCKER_HOST)\n`;
  for (const [how, args, env] of [
    ['--socket PATH', ['--socket', sock], {}],
    ['--socket unix:///PATH, as Docker\'s CLI takes it', ['--socket', `unix://${sock}`], {}],
    ['DOCKER_HOST=unix:///PATH', [], { DOCKER_HOST: `unix://${sock}` }],
  ] as const) {
    const run = await watch(args, env);
    t.same([run.code, run.stdout, run.stderr], [2, '', line], how);
  }
});

t.test('a config file\'s socketPath takes Docker\'s URL form too', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'watch.json');
  writeFileSync(file, JSON.stringify({ watch: { socketPath: `unix://${join(dir, 'no.sock')}` } }));
  const run = await watch(['--config', file]);
  t.same([run.code, run.stderr], [2, `cannot reach the Docker engine at ${join(dir, 'no.sock')}: connect ENOENT ${join(dir, 'no.sock')} (set --socket (socketPath), or DOCKER_HOST)\n`]);
});

// Node's connect cuts a path longer than sockaddr_un holds and tries the cut one: once a directory's (ECONNREFUSED).
t.test('a socket path longer than a unix socket holds is refused in one line, not cut short', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'd'.repeat(Math.max(1, 108 - dir.length - 1)));
  t.equal(Buffer.byteLength(sock), 108, 'one byte over');
  const why = `'${sock}' is 108 bytes long: a unix socket path holds at most 107: use a shorter path, such as a symlink to it\n`;
  const file = join(dir, 'watch.json');
  writeFileSync(file, JSON.stringify({ watch: { socketPath: `unix://${sock}` } }));
  for (const [how, args, env, line] of [
    ['--socket PATH', ['--socket', sock], {}, `--socket: ${why}`],
    ['socketPath in the file', ['--config', file], {}, `config: watch.socketPath: ${why}`],
    ['DOCKER_HOST', [], { DOCKER_HOST: `unix://${sock}` }, `DOCKER_HOST: ${why}`],
  ] as const) {
    const run = await watch(args, env);
    t.same([run.code, run.stdout, run.stderr], [2, '', line], how);
  }
  const fits = join(dir, 'e'.repeat(107 - dir.length - 1));
  const run = await watch(['--socket', fits]);
  t.match(run.stderr, /^cannot reach the Docker engine at .*: connect ENOENT /, '107 bytes is tried');
});

t.test('a DOCKER_HOST Docker\'s CLI would refuse is refused in one line', async (t) => {
  const bare = await watch([], { DOCKER_HOST: '/var/run/docker.sock' });
  t.same([bare.code, bare.stdout, bare.stderr], [2, '', "DOCKER_HOST '/var/run/docker.sock': expected a URL, as Docker's CLI reads it: unix:///var/run/docker.sock\n"]);
  const tcp = await watch([], { DOCKER_HOST: 'tcp://127.0.0.1:2375' });
  t.same([tcp.code, tcp.stderr], [2, "DOCKER_HOST 'tcp://127.0.0.1:2375': lifeguard reaches the engine over its unix socket only: a path such as /var/run/docker.sock, or unix:///var/run/docker.sock\n"]);
});
