// What the benchmarks read from /proc about the processes they measure: the process tree, CPU time and memory.
// Linux only, as the benchmarks are.
import { readdirSync, readFileSync } from 'node:fs';

/** utime/stime/cutime/cstime are in clock ticks; 100 a second on every Linux this runs on (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    return { comm: text.slice(text.indexOf('(') + 1, close), rest: text.slice(close + 2).split(' ') };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** Every live descendant of `root` (children, grandchildren…), found through the ppid of every process. */
export function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields === undefined) continue;
    const ppid = Number(fields.rest[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const found = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift();
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * CPU seconds of a process: `own` = utime + stime (all its threads), `reaped` = cutime + cstime, the CPU of the
 * children it has already waited for (and of theirs). A live child is in neither; callers add it themselves.
 */
export function cpuSeconds(pid) {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  // Fields 14–17 of stat; `rest` starts at field 3 (state).
  const [utime, stime, cutime, cstime] = fields.rest.slice(11, 15).map(Number);
  return { own: (utime + stime) / TICKS_PER_SECOND, reaped: (cutime + cstime) / TICKS_PER_SECOND };
}

/** CPU seconds of a process (all its threads) in user space and in the kernel, to clock ticks' precision. */
export function cpuSplit(pid) {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  const [utime, stime] = fields.rest.slice(11, 13).map(Number);
  return { user: utime / TICKS_PER_SECOND, system: stime / TICKS_PER_SECOND };
}

/** Exact CPU time of a process in seconds, from the scheduler's nanosecond counters of all its threads. */
export function cpuSecondsExact(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e9;
}

/** Resident memory of one process in bytes: anonymous (its own) and file-backed (shared with every process mapping the same file). */
export function memory(pid) {
  const fields = statFields(pid);
  try {
    const [, resident, shared] = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ').map(Number);
    return { comm: fields?.comm ?? '?', anon: (resident - shared) * PAGE_BYTES, file: shared * PAGE_BYTES, rss: resident * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

/**
 * Memory of a group of processes together. Summing RSS would count the pages of one executable once per process
 * that maps it (a thousand agents share one copy of their binary's text through the page cache), so the estimate
 * is every process's anonymous memory plus, per program name, the largest file-backed RSS among its processes.
 * The plain RSS sum is returned beside it.
 */
export function groupMemory(pids) {
  let anon = 0;
  let rss = 0;
  const fileByProgram = new Map();
  for (const pid of pids) {
    const m = memory(pid);
    if (m === undefined) continue;
    anon += m.anon;
    rss += m.rss;
    fileByProgram.set(m.comm, Math.max(fileByProgram.get(m.comm) ?? 0, m.file));
  }
  let file = 0;
  for (const bytes of fileByProgram.values()) file += bytes;
  return { bytes: anon + file, rssSum: rss, processes: pids.length };
}

/** A process's start time (clock ticks since boot, stat field 22): with its pid, it names one process for good. */
export function startTime(pid) {
  return statFields(pid)?.rest[19];
}

/** The process `pid` that started at `started` still runs (not gone, not a zombie, not a reused pid). */
export function alive(pid, started) {
  const fields = statFields(pid);
  return fields !== undefined && fields.rest[0] !== 'Z' && fields.rest[19] === started;
}

/** MemAvailable of the machine, in bytes: the benchmarks stop a run before the machine runs out. */
export function memAvailable() {
  const line = readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('MemAvailable:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** The share of the machine's CPU time spent idle over the next `ms` milliseconds (all cores, from /proc/stat). */
export async function idleShare(ms) {
  const sample = () => {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    // idle + iowait over all of user, nice, system, idle, iowait, irq, softirq, steal
    return { idle: ticks[3] + ticks[4], total: ticks.slice(0, 8).reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = sample();
  return b.total === a.total ? 1 : (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Sockets in TIME_WAIT in this network namespace (/proc/net/tcp, state 06) with one end at `server`'s address on
 * one of `ports` (the fixture's): the connections of the checkers of those ports, whichever end kept the
 * TIME_WAIT. Other programs' sockets on the machine are not counted. A checker that closes its checks with a FIN
 * leaves one per check for a minute; one that resets leaves none. Returned per checker: `from` is the other end's
 * address (a checker's source address, 127.0.0.2 for HAProxy's) → the count, `other` for every other address.
 */
export function timeWaitSockets(server, ports, from) {
  const host = ipv4Hex(server);
  const sources = new Map(from.map((address) => [ipv4Hex(address), address]));
  const count = { other: 0, ...Object.fromEntries(from.map((address) => [address, 0])) };
  let text = '';
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return count;
  }
  for (const line of text.split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (state !== '06') continue;
    const [localHost, localPort] = local.split(':');
    const [remoteHost, remotePort] = remote.split(':');
    // The fixture's end is the local one when the fixture kept the TIME_WAIT, the remote one when the checker did.
    const peer = localHost === host && ports.has(Number.parseInt(localPort, 16)) ? remoteHost : remoteHost === host && ports.has(Number.parseInt(remotePort, 16)) ? localHost : undefined;
    if (peer === undefined) continue;
    const source = sources.get(peer) ?? 'other';
    count[source]++;
  }
  return count;
}

/** An IPv4 address as /proc/net/tcp writes it: the hex of its 32 bits in host (little-endian) order. */
function ipv4Hex(address) {
  return Buffer.from(address.split('.').map(Number).reverse()).toString('hex').toUpperCase();
}
