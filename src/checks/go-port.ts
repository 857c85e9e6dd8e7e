import { isDigits } from './parse.js';

/**
 * Cloud Foundry's `-port` is a string that its Go binary pastes after the address (`10.0.0.5:` + port) and hands
 * to net.Dial, so whatever Go makes of it is what that binary checks: `0080` and `+80` are port 80, `http` is the
 * port /etc/services gives it, an empty port is 0, and `-1` or `65536` fail at the dial, before any packet, with
 * Go's words. This is that resolution (net.SplitHostPort, then net.LookupPort for tcp), so that the CF dialect
 * fails where and as that binary fails: at every check, exit 4, not as a usage error.
 */
export type GoPort = { readonly port: number } | { readonly error: string };

/**
 * `host:port` as Go's net.Dial resolves it; `error` is Go's, as it follows `dial tcp: `. `service` answers for a
 * name what /etc/services gives it (servicePorts), as Go looks it up.
 */
export function goDialPort(host: string, text: string, service: (name: string) => number | undefined): GoPort {
  const hostport = `${host}:${text}`;
  // SplitHostPort on the last colon: any other colon, or a bracket, is in the host part or stray.
  if (text.includes(':')) return { error: `address ${hostport}: too many colons in address` };
  for (const bracket of ['[', ']']) {
    if (text.includes(bracket)) return { error: `address ${hostport}: unexpected '${bracket}' in address` };
  }
  const parsed = parsePort(text);
  // Go looks a name up lower-cased, in a buffer of 25 bytes: a longer one is never found.
  const port = parsed ?? (text.length <= 'mobility-header'.length + 10 ? service(text.toLowerCase()) : undefined);
  if (port === undefined) return { error: `lookup tcp/${text}: unknown port` };
  return port < 0 || port > 65535 ? { error: `address ${text}: invalid port` } : { port };
}

/**
 * Go's parsePort: an optional sign and decimal digits, saturating rather than overflowing; undefined when it is a
 * name to look up. The empty string is port 0 (Go keeps that legacy on purpose).
 */
function parsePort(text: string): number | undefined {
  const signed = text[0] === '+' || text[0] === '-';
  const digits = signed ? text.slice(1) : text;
  if (digits !== '' && !isDigits(digits)) return undefined;
  // Go stops at 2^30 and keeps its sign: out of range either way, which is all that matters after.
  const magnitude = Math.min(Number(digits === '' ? 0 : digits), 2 ** 30);
  return text.startsWith('-') ? -magnitude : magnitude;
}

/**
 * /etc/services' tcp names and aliases and their ports, from its text, as Go reads that file (once per process:
 * the CF dialect reads it when -port is a name, loading node:fs only then).
 */
export function servicePorts(text: string): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
    if (name === undefined || match === null || Number(match[1]) <= 0) continue;
    for (const key of [name, ...aliases]) map.set(key, Number(match[1]));
  }
  return map;
}

/** Whether Go would look -port's text up as a service name (it is not a signed decimal). */
export function isServiceName(text: string): boolean {
  return parsePort(text) === undefined;
}
