import { readFileSync } from 'node:fs';

/**
 * Cloud Foundry's `-port` is a string that its Go binary pastes after the address (`10.0.0.5:` + port) and hands
 * to net.Dial, so whatever Go makes of it is what that binary checks: `0080` and `+80` are port 80, `http` is the
 * port /etc/services gives it, an empty port is 0, and `-1` or `65536` fail at the dial, before any packet, with
 * Go's words. This is that resolution (net.SplitHostPort, then net.LookupPort for tcp), so that the CF dialect
 * fails where and as that binary fails: at every check, exit 4, not as a usage error.
 */
export type GoPort = { readonly port: number } | { readonly error: string };

/** `host:port` as Go's net.Dial resolves it; `error` is Go's, as it follows `dial tcp: `. */
export function goDialPort(host: string, text: string): GoPort {
  const hostport = `${host}:${text}`;
  // SplitHostPort on the last colon: any other colon, or a bracket, is in the host part or stray.
  if (text.includes(':')) return { error: `address ${hostport}: too many colons in address` };
  for (const bracket of ['[', ']']) {
    if (text.includes(bracket)) return { error: `address ${hostport}: unexpected '${bracket}' in address` };
  }
  const parsed = parsePort(text);
  const port = parsed ?? SERVICES().get(text.length <= MAX_SERVICE_NAME ? text.toLowerCase() : '');
  if (port === undefined) return { error: `lookup tcp/${text}: unknown port` };
  return port < 0 || port > 65535 ? { error: `address ${text}: invalid port` } : { port };
}

/**
 * Go's parsePort: an optional sign and decimal digits, saturating rather than overflowing; undefined when it is a
 * name to look up. The empty string is port 0 (Go keeps that legacy on purpose).
 */
function parsePort(text: string): number | undefined {
  const signed = /^[+-]/.test(text);
  const digits = signed ? text.slice(1) : text;
  if (!/^\d*$/.test(digits)) return undefined;
  // Go stops at 2^30 and keeps its sign: out of range either way, which is all that matters after.
  const magnitude = Math.min(Number(digits === '' ? 0 : digits), 2 ** 30);
  return text.startsWith('-') ? -magnitude : magnitude;
}

/** Go looks a name up in a buffer this long: a longer one is never found. */
const MAX_SERVICE_NAME = 'mobility-header'.length + 10;

/** /etc/services' tcp names and aliases, read once, on the first name looked up (as Go reads it). */
let services: Map<string, number> | undefined;

function SERVICES(): Map<string, number> {
  services ??= readServices();
  return services;
}

function readServices(): Map<string, number> {
  const map = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync('/etc/services', 'latin1');
  } catch {
    return map; // no file: every name is unknown, as for Go
  }
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
    if (name === undefined || match === null || Number(match[1]) <= 0) continue;
    for (const key of [name, ...aliases]) map.set(key, Number(match[1]));
  }
  return map;
}
