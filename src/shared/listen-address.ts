/**
 * The HTTP server's `listen` address: `host:port`, IPv6 hosts bracketed (`[::1]:9464`), judged here alone and
 * refused in the same words wherever it is given: by the config check (so that a bad address is reported with its
 * field path before anything starts), by the server itself (so that a library user who skips the config layer
 * is held to the same rule) and by `lifeguard status --endpoint`.
 */
import { BlockList, isIP } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const FORM = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/** What a listen address must look like; `localhost`: that name is taken for loopback too. */
export function expectedListenAddress(localhost = false): string {
  return `expected an IP address${localhost ? ' (or localhost)' : ''} and port such as 127.0.0.1:9464 or [::1]:9464`;
}

/**
 * The address an HTTP server may listen on, or why not in one line: not an IP literal and port, or not loopback
 * while `allowNonLoopback` is not set.
 */
export function checkListenAddress(text: string, allowNonLoopback: boolean): ListenAddress | { readonly problem: string } {
  const address = parseListenAddress(text);
  if (address === undefined) return { problem: expectedListenAddress() };
  if (!isLoopback(address.host) && !allowNonLoopback) return { problem: 'expected a loopback address (127.0.0.0/8, ::1) or allowNonLoopback' };
  return address;
}

/** The address, or undefined when `text` is not an IP literal and a port 0–65535 (0 = any free port). */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = FORM.exec(text);
  if (match === null) return undefined;
  const host = (match[1] ?? match[2]) as string;
  const port = Number(match[3]);
  // Bracketed hosts must be IPv6 and bare ones IPv4, as in a URL; a host name would need a resolver to vet.
  const family = match[1] !== undefined ? 6 : 4;
  if (isIP(host) !== family || port > 65535) return undefined;
  return { host, port };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8 and ::1, in any spelling (BlockList also matches IPv4-mapped IPv6). */
function isLoopback(host: string): boolean {
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
