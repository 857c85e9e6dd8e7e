import { lifeguardError, type LifeguardError } from './errors.js';
import { lazily } from './lazily.js';
import { ownValue } from './own-value.js';

/**
 * Turns a Node socket error into the `<reason>` of the error table.
 *
 * The form follows Go's net errors, which the Cloud Foundry binary prints and operators grep for:
 * `<syscall>: <strerror, lower case>`, e.g. `connect: connection refused`, `read: connection reset by peer`.
 * Node only gives the errno's name (ECONNREFUSED), and Node 20 has no strerror, hence the table.
 * An errno missing from the table is reported by its name rather than guessed at. This table and the TLS phrases are
 * made at the first failure that needs them (lazily.ts): a passing check reads neither.
 */
const errnoPhrases = lazily((): Readonly<Record<string, string>> => ({
  ECONNREFUSED: 'connection refused',
  ECONNABORTED: 'software caused connection abort',
  EHOSTUNREACH: 'no route to host',
  EHOSTDOWN: 'host is down',
  ENETUNREACH: 'network is unreachable',
  ENETDOWN: 'network is down',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ENOBUFS: 'no buffer space available',
}));

/**
 * A failed name lookup, in Go's words (`lookup db.internal: no such host`), which kubelet and the CF binary print.
 */
export function lookupErrorReason(name: string, thrown: unknown): string {
  const code = (thrown as NodeSocketError | undefined)?.code;
  const phrase = code === 'ENOTFOUND' || code === 'EAI_NODATA' || code === 'EAI_NONAME' ? 'no such host'
    : code === 'EAI_AGAIN' ? 'temporary failure in name resolution'
    : code ?? String(thrown);
  return `lookup ${name}: ${phrase}`;
}

/** OpenSSL's verification results and alerts, as an operator would say them. */
const tlsPhrases = lazily((): Readonly<Record<string, string>> => ({
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by an unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate signed by an unknown authority',
  CERT_REVOKED: 'certificate revoked',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS (wrong version number)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the server refused our client certificate (unknown CA)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server refused our client certificate (bad certificate)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate',
  // BoringSSL's name for the same alert (the Bun build), met by its reason below.
  ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake failure alert from the server',
}));

/**
 * A failed TLS handshake, named by its cause: `tls: certificate has expired`, `tls: self-signed certificate`,
 * `tls: hostname mismatch: Host: example.test. is not in the cert's altnames: DNS:localhost`.
 */
export function tlsErrorReason(thrown: unknown): string {
  const err = thrown as NodeSocketError & { reason?: string };
  const code = err?.code;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: hostname mismatch: ${err.reason ?? err.message}`;
  const phrase = code === undefined ? undefined : ownValue(tlsPhrases(), code);
  if (phrase !== undefined) return `tls: ${phrase}`;
  // BoringSSL (the Bun build) gives no code, only `error:1000045c:SSL routines:OPENSSL_internal:<REASON>`.
  const reason = /OPENSSL_internal:([A-Z0-9_]+)/.exec(err instanceof Error ? err.message : '')?.[1];
  const named = reason === undefined ? undefined : ownValue(tlsPhrases(), `ERR_SSL_${reason}`);
  if (named !== undefined) return `tls: ${named}`;
  // A FIN or a reset: node:tls says ECONNRESET for both ("socket disconnected before secure TLS connection was
  // established"), so no build can tell which it was, and the words say what is true of both.
  if (code === 'ECONNRESET' || code === 'EPIPE') return TLS_CLOSED;
  const message = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(thrown);
  return `tls: ${message}`;
}

/** The response head limit, so that a server trickling headers cannot grow our memory. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How much of a non-HTTP answer is quoted: enough to recognise `SSH-2.0-OpenSSH_9.6`, not a page of binary. */
const QUOTED_BYTES = 64;

interface NodeSocketError extends Error {
  code?: string;
  syscall?: string;
}

/** An error of TLS's (an alert, a verification result) rather than of the socket under it. */
export function isTlsError(thrown: unknown): boolean {
  const code = (thrown as NodeSocketError | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'));
}

export function socketErrorReason(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const err = thrown as NodeSocketError;
  const code = err.code;
  if (code === undefined) return err.message;
  // A TLS alert can come after the handshake (TLS 1.3 servers refuse a client certificate with the first read).
  if (isTlsError(err)) return tlsErrorReason(err);
  if (code === 'ECONNRESET' || code === 'EPIPE') return RESET_BY_PEER;
  const phrase = errnoPhrases()[code] ?? code;
  return err.syscall === undefined ? phrase : `${err.syscall}: ${phrase}`;
}

/**
 * A reset, in one form whichever call of the checker saw it: connect (the handshake was done, then reset before the
 * checker looked), write or read, as ECONNRESET or as EPIPE (a later call on a socket whose reset was already
 * reported). Which call sees it is a race on the checker's side, not news about the app, and the two builds run
 * different event loops: the words must not change from one run to the next.
 */
const RESET_BY_PEER = 'read: connection reset by peer';
const TLS_CLOSED = 'tls: the server closed the connection during the handshake';

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

/**
 * What is cancelled reports — a check, a round, a loop, an agent: one outcome (`cancelled`, exit 143, as a process
 * ended by SIGTERM). It carries no facts; never a verdict on the app, never an internal error. Made when asked, as
 * every error is (errors.ts makes its table at the first).
 */
export function checkCancelled(): LifeguardError {
  return lifeguardError('cancelled', undefined);
}

/** Text from a peer made fit for a one-line message: controls folded to spaces, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const line = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
