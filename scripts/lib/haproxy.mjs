// HAProxy as the benchmarks' anchor for health checking: Debian's haproxy, one backend whose servers are the
// fixture's ports, checked the way bench:steady's supervisor checks them (HTTP GET /health, status 200, the same
// interval), on one thread. Its checks leave from a source address of their own (127.0.0.2), so that the fixture
// can count them and the TIME_WAIT sockets they leave can be told from ours.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { hardFileLimit } from './processes.mjs';

export const HAPROXY_SOURCE = '127.0.0.2';

/**
 * Starts haproxy in the foreground with a configuration written to `dir`: every port a server of one backend,
 * `check inter` at `intervalMs`, a 1 s check timeout like the supervisor's. Resolves once its stats socket answers.
 */
export async function startHaproxy({ executable, ports, intervalMs, dir, nofile }) {
  const socket = join(dir, 'haproxy.sock');
  const config = join(dir, 'haproxy.cfg');
  // haproxy raises its own limit, as far as the hard one allows (a container may hold it below `nofile`).
  const limit = Math.min(nofile, hardFileLimit());
  const lines = [
    'global',
    '  nbthread 1',
    `  ulimit-n ${limit}`,
    // haproxy wants two descriptors per connection and one per server's check (and a few) under its limit.
    `  maxconn ${Math.max(100, Math.floor((limit - ports.length - 256) / 2))}`,
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout server 1s',
    '  timeout client 1s',
    '  timeout check 1s',
    'backend fleet',
    '  option httpchk GET /health',
    '  http-check expect status 200',
    `  source ${HAPROXY_SOURCE}`,
    `  default-server check inter ${intervalMs}`,
    ...ports.map((port, i) => `  server s${i} 127.0.0.1:${port}`),
    '',
  ];
  writeFileSync(config, lines.join('\n'));
  const child = spawn(executable, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const bound = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}): ${stderr.split('\n').find((line) => line.includes('ALERT')) ?? stderr.trim()}`);
    try {
      await command(socket, 'show info');
      break;
    } catch (err) {
      if (Date.now() > bound) throw new Error(`haproxy's stats socket did not answer within 30s: ${err.message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    child,
    /** Per server: its status (UP, DOWN…) and its failed checks so far. */
    async servers() {
      const csv = await command(socket, 'show stat -1 4 -1');
      const [header, ...rows] = csv.split('\n').filter((line) => line !== '');
      const names = header.replace(/^# /, '').split(',');
      const at = (name) => names.indexOf(name);
      const [status, chkfail] = [at('status'), at('chkfail')];
      return rows.map((row) => {
        const cells = row.split(',');
        return { status: cells[status], checkFailures: Number(cells[chkfail]) };
      });
    },
  };
}

/** One command on haproxy's stats socket, its whole answer (bounded). */
function command(path, text) {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to "${text}" within 10s`)), 10_000);
    socket.on('connect', () => socket.write(`${text}\n`));
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
