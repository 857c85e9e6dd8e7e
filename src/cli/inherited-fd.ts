/**
 * `--heartbeat-fd`: only a descriptor the caller handed over may be written to. The runtime opens descriptors of
 * its own before any of our code runs (epoll and eventfd instances, the self-pipes its event loop and signal
 * handling wake up through, files it read), and a line written into one of those corrupts the runtime: writing
 * into Node's signal pipe crashes it with SIGSEGV. Nothing marks a descriptor as inherited (Node even sets
 * close-on-exec on the first ones it finds open), so the runtime's kinds are recognised instead, from /proc:
 * anonymous inodes, and pipes whose other end this process holds too. What is left must be open for writing.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { invalidValue, parseInteger } from '../checks/parse.js';

const HANDED_OVER = 'a descriptor handed over by the parent, open for writing';
/** O_ACCMODE of the `flags:` line in /proc/self/fdinfo (octal): 0 is read-only. */
const ACCESS_MODE = 0o3;

export function parseInheritedFd(name: string, text: string): number {
  const fd = parseInteger(name, text, 0);
  let target: string;
  let flags: number;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
    flags = Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8);
  } catch {
    if (!procMounted()) return invalidValue(name, text, `${HANDED_OVER}, which needs /proc to tell`);
    return invalidValue(name, text, `${HANDED_OVER}; ${fd} is not open`);
  }
  if (target.startsWith('anon_inode:')) return invalidValue(name, text, `${HANDED_OVER}; ${fd} is the runtime's own ${target}`);
  if (target.startsWith('pipe:') && pipeEnds(target) > 1) {
    return invalidValue(name, text, `${HANDED_OVER}; ${fd} is one end of the runtime's own ${target}`);
  }
  if (!((flags & ACCESS_MODE) > 0)) return invalidValue(name, text, `${HANDED_OVER}; ${fd} is open for reading only`);
  return fd;
}

/** How many of this process's descriptors are ends of that pipe: both ends here make it a self-pipe. */
function pipeEnds(target: string): number {
  let ends = 0;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) ends += 1;
    } catch {
      // closed meanwhile (the directory's own descriptor, for one)
    }
  }
  return ends;
}

function procMounted(): boolean {
  try {
    readlinkSync('/proc/self/exe');
    return true;
  } catch {
    return false;
  }
}
