// The processes of a benchmark run — the fixture and the supervisor runner — started, spoken to and stopped, with
// proof that nothing outlives the run. Every wait here is bounded.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { alive } from './proc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Node through prlimit(1), which sets the open-file limit of the process it execs: thousands of listening ports
 * or sockets in flight need more than a shell's default. Root may raise the hard limit too.
 */
function node(script, args, stdio, nofile) {
  const limit = Math.min(nofile, hardFileLimit());
  return spawn('prlimit', [`--nofile=${limit}:${limit}`, '--', process.execPath, join(HERE, script), ...args], { stdio });
}

/** An executable on PATH (haproxy, strace), or undefined. */
export function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The hard open-file limit this process may raise its children to (a container may forbid more, even to root). */
export function hardFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? Infinity : Number(hard);
}

/**
 * The JSON lines of a stream, read by one reader for good (a second reader could lose the rest of a chunk):
 * `on(fn)` sees every message from then on; `next(pick)` waits, bounded, for the first one `pick` accepts.
 */
function jsonLines(stream) {
  const listeners = new Set();
  createInterface({ input: stream }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // the last line of a process killed mid-write
    }
    for (const listener of listeners) listener(message);
  });
  return {
    on: (fn) => listeners.add(fn),
    next: (pick, timeoutMs, what) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no ${what} within ${timeoutMs}ms`));
        }, timeoutMs);
        const listener = (message) => {
          const picked = pick(message);
          if (picked === undefined) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(picked);
        };
        listeners.add(listener);
      }),
  };
}

export async function startFixture({ count, readyMaxMs, seed, nofile }) {
  const child = node('fixture.mjs', [String(count), String(readyMaxMs), String(seed)], ['pipe', 'pipe', 'inherit'], nofile);
  const out = jsonLines(child.stdout);
  const { ports } = await out.next((m) => (m.ports ? m : undefined), 180_000, 'fixture ports');
  return {
    child,
    ports,
    /** Starts every app now; resolves with each port's ready moment (epoch ms). */
    go() {
      const moments = out.next((m) => (m.readyAt ? m : undefined), 10_000, 'ready moments');
      child.stdin.write('go\n');
      return moments;
    },
    /** The 200s answered so far, by client address: {address: n}. */
    served() {
      const answer = out.next((m) => m.served, 10_000, 'served counts');
      child.stdin.write('served\n');
      return answer;
    },
  };
}

/**
 * The runtime's floor for bench:steady (scripts/floor/steady.mjs), checking `ports` every `intervalMs`: `mark()`
 * starts its counts, `stats()` resolves with {checks, failures} since the mark.
 */
export function startFloor({ intervalMs, ports, nofile }) {
  const child = node('../floor/steady.mjs', [String(intervalMs), ...ports.map(String)], ['pipe', 'pipe', 'inherit'], nofile);
  const out = jsonLines(child.stdout);
  return {
    child,
    mark: () => child.stdin.write('mark\n'),
    stats() {
      const answer = out.next((m) => (m.checks === undefined ? undefined : m), 10_000, 'floor stats');
      child.stdin.write('stats\n');
      return answer;
    },
  };
}

export async function startRunner(plan, nofile) {
  const child = node('supervisor-runner.mjs', [JSON.stringify(plan)], ['pipe', 'pipe', 'inherit', 'pipe'], nofile);
  const events = jsonLines(child.stdio[3]);
  const log = jsonLines(child.stdout);
  await events.next((m) => (m.e === 'ready' ? m : undefined), 60_000, 'runner start');
  return {
    child,
    /** The runner's own events (launch, stats). */
    events,
    /** The transition log the supervisor writes. */
    log,
    send: (line) => child.stdin.write(`${line}\n`),
    /** The runner's check count and lateness percentiles since its last "mark". */
    stats() {
      const answer = events.next((m) => (m.e === 'stats' ? m : undefined), 30_000, 'runner stats');
      child.stdin.write('stats\n');
      return answer;
    },
  };
}

/**
 * SIGTERM, then SIGKILL if the process has not exited within `graceMs`; then every process in `seen` (pid → start
 * time of the descendants observed during the run) that still lives is killed and named; the start time keeps a
 * pid the kernel has since reused from being taken for one of ours. Resolves with the leftovers' pids.
 */
export async function stopAndVerify(child, seen, graceMs) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  const leftovers = [...seen].filter(([pid, started]) => alive(pid, started)).map(([pid]) => pid);
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return leftovers;
}
