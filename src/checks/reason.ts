import { lifeguardError } from './errors.js';

/**
 * Turns a Node socket or parser error into the `<reason>` of the error table.
 *
 * The form follows Go's net errors, which the Cloud Foundry binary prints and operators grep for:
 * `<syscall>: <strerror, lower case>`, e.g. `connect: connection refused`, `read: connection reset by peer`.
 * Node only gives the errno's name (ECONNREFUSED), and Node 20 has no strerror, hence the table.
 * An errno missing from the table is reported by its name rather than guessed at.
 */

const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'software caused connection abort',
  EHOSTUNREACH: 'no route to host',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network is unreachable',
  ENETDOWN: 'network is down',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ENOBUFS: 'no buffer space available',
};

/** The response header limit, set explicitly so that a server trickling headers cannot grow our memory. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How much of a non-HTTP answer is quoted: enough to recognise `SSH-2.0-OpenSSH_9.6`, not a page of binary. */
const QUOTED_BYTES = 64;

interface NodeSocketError extends Error {
  code?: string;
  syscall?: string;
  reason?: string;
  rawPacket?: Buffer;
}

export function socketErrorReason(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const err = thrown as NodeSocketError;
  const code = err.code;
  if (code === undefined) return err.message;
  if (code.startsWith('HPE_')) return parserReason(err, code);
  // Node reports a peer that closes before any response as ECONNRESET "socket hang up", with no syscall;
  // that is an orderly close, not a reset, and saying "reset" would send the operator the wrong way.
  if (code === 'ECONNRESET' && err.syscall === undefined) return 'connection closed before a response was received';
  const phrase = STRERROR[code] ?? code;
  return err.syscall === undefined ? phrase : `${err.syscall}: ${phrase}`;
}

function parserReason(err: NodeSocketError, code: string): string {
  if (code === 'HPE_HEADER_OVERFLOW') return `malformed HTTP response: headers larger than ${MAX_HEADER_BYTES} bytes`;
  const what = err.reason ?? err.message;
  const raw = err.rawPacket;
  if (raw === undefined || raw.length === 0) return `malformed HTTP response: ${what}`;
  return `malformed HTTP response: ${what}; received ${JSON.stringify(firstLine(raw))}`;
}

function firstLine(raw: Buffer): string {
  const text = raw.toString('latin1', 0, Math.min(raw.length, QUOTED_BYTES));
  const end = text.search(/[\r\n]/);
  return end === -1 ? text : text.slice(0, end);
}

/** What a cancelled check reports; shared because it carries no facts. Never a verdict on the app. */
export const CHECK_CANCELLED = lifeguardError('internal', { detail: 'check cancelled' });
