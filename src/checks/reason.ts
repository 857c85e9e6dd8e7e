import { lifeguardError } from './errors.js';

/**
 * Turns a Node socket error into the `<reason>` of the error table.
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

/** The response head limit, so that a server trickling headers cannot grow our memory. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How much of a non-HTTP answer is quoted: enough to recognise `SSH-2.0-OpenSSH_9.6`, not a page of binary. */
const QUOTED_BYTES = 64;

interface NodeSocketError extends Error {
  code?: string;
  syscall?: string;
}

export function socketErrorReason(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const err = thrown as NodeSocketError;
  const code = err.code;
  if (code === undefined) return err.message;
  const phrase = STRERROR[code] ?? code;
  return err.syscall === undefined ? phrase : `${err.syscall}: ${phrase}`;
}

/** The peer closed the connection (an orderly close, not a reset) before a single byte of a response. */
export const CLOSED_BEFORE_RESPONSE = 'connection closed before a response was received';
/** The peer closed the connection after part of a response head: not the same news as no answer at all. */
export const CLOSED_IN_HEADERS = 'connection closed before the end of the response headers';
export const HEADERS_TOO_LARGE = `malformed HTTP response: headers larger than ${MAX_HEADER_BYTES} bytes`;

/** An answer that does not start with an HTTP/1.x status line, quoted so that the operator sees what answered. */
export function notHttpReason(raw: Buffer): string {
  return `malformed HTTP response: expected an HTTP/1.x status line; received ${JSON.stringify(firstLine(raw))}`;
}

function firstLine(raw: Buffer): string {
  const text = raw.toString('latin1', 0, Math.min(raw.length, QUOTED_BYTES));
  const end = text.search(/[\r\n]/);
  return end === -1 ? text : text.slice(0, end);
}

/** What a cancelled check reports; shared because it carries no facts. Never a verdict on the app. */
export const CHECK_CANCELLED = lifeguardError('internal', { detail: 'check cancelled' });
