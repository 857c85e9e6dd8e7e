// The TCP ports a process listens on, from its descriptors and the kernel's socket tables: how a test sees that
// no inspector (Node's 127.0.0.1:9229 on SIGUSR1) or other listener was opened by a process that should have none.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** LISTEN sockets (IPv4 and IPv6) among `pid`'s open descriptors, by port; empty for a process that is gone. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is the tenth field.
      if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) ports.push(parseInt((fields[1] ?? '').split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
