import { HEADERS_TOO_LARGE, MAX_HEADER_BYTES, notHttpReason } from './reason.js';

/**
 * What a response head says: its final status; for a redirect, where to (the first Location); the values of the
 * headers the reader was asked to keep (lower-case names); and where the body starts in the chunk that ended the
 * head.
 */
export type HeadOutcome =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly location: string | undefined;
      readonly headers: ReadonlyMap<string, readonly string[]>;
      readonly bodyOffset: number;
    }
  | { readonly kind: 'malformed'; readonly reason: string };

const NO_HEADERS: ReadonlyMap<string, readonly string[]> = new Map();

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');
const LOCATION = 'location:';

/**
 * Reads the head of an HTTP/1.x response from a connection's bytes, chunk by chunk however they are split,
 * up to the blank line that ends the final response's headers. The body is never looked at.
 *
 * - The verdict is on the status line, which is checked strictly: anything but `HTTP/1.x NNN` fails at once,
 *   quoting the line, so that an SSH or database banner is named rather than waited on.
 * - Lines end with CRLF or, as RFC 9112 section 2.2 allows a recipient to accept, a bare LF (llhttp, which
 *   Node's client used, did too): a tiny server answering `HTTP/1.0 200 OK\n\n` is healthy, not malformed.
 * - Interim 1xx responses (100 Continue, 103 Early Hints) are skipped, as HTTP clients do; 101 is final,
 *   since after it the connection no longer speaks HTTP.
 * - Header lines are not validated: only Location is read, and the headers named in `keep` (assertions, body
 *   framing) when a check asks for them.
 * - Every byte before the final head's end, interim heads included, counts against MAX_HEADER_BYTES, so a
 *   server can make us hold at most that much, and an endless stream of 1xx heads ends as one too large.
 */
export class ResponseHeadReader {
  /** The start of a line that has not ended yet; allocated only when a line is split across chunks. */
  private partial: Buffer | undefined;
  private partialLength = 0;
  /** Bytes of complete lines consumed so far. */
  private consumed = 0;
  /** The status of the head being read; 0 while its status line is awaited. */
  private status = 0;
  private location: string | undefined;
  private headers: Map<string, string[]> | undefined;

  /** @param keep lower-case names of the headers whose values the outcome must carry */
  constructor(private readonly keep?: ReadonlySet<string>) {}

  /** Whether any byte of a response has arrived (a close then interrupts a response rather than precedes one). */
  get started(): boolean {
    return this.consumed + this.partialLength > 0;
  }

  /**
   * Takes the next bytes; returns the outcome once the head is complete or known to be bad, undefined while more
   * is needed. `chunk` is not kept (it may be a reused read buffer): what must outlive the call is copied.
   */
  push(chunk: Buffer): HeadOutcome | undefined {
    const { length } = chunk;
    let from = 0;
    // Lines are read where they lie, by offsets: no Buffer view or string is made for a line nobody reads.
    while (from < length) {
      const newline = chunk.indexOf(LF, from);
      const end = newline === -1 ? length : newline;
      const lineBytes = this.partialLength + (end - from);
      if (this.consumed + lineBytes + (end === length ? 0 : 1) > MAX_HEADER_BYTES) {
        return { kind: 'malformed', reason: HEADERS_TOO_LARGE };
      }
      if (end === length) return this.hold(chunk, from, end);
      this.consumed += lineBytes + 1;
      let outcome: HeadOutcome | undefined;
      if (this.partialLength > 0) {
        const partial = this.partial as Buffer;
        chunk.copy(partial, this.partialLength, from, end);
        this.partialLength = 0;
        outcome = this.line(partial, 0, lineBytes, end + 1);
      } else outcome = this.line(chunk, from, end, end + 1);
      if (outcome !== undefined) return outcome;
      from = end + 1;
    }
    return undefined;
  }

  /** Keeps the unfinished end of a chunk; a status line that cannot become `HTTP/1.` fails without waiting. */
  private hold(chunk: Buffer, from: number, end: number): HeadOutcome | undefined {
    this.partial ??= Buffer.allocUnsafe(MAX_HEADER_BYTES);
    chunk.copy(this.partial, this.partialLength, from, end);
    this.partialLength += end - from;
    if (this.status !== 0) return undefined;
    const prefix = Math.min(this.partialLength, HTTP_1.length);
    if (this.partial.compare(HTTP_1, 0, prefix, 0, prefix) === 0) return undefined;
    return { kind: 'malformed', reason: notHttpReason(this.partial.subarray(0, this.partialLength)) };
  }

  /** The line `bytes[start, end)`, its LF left out; `next`: where the chunk goes on after it. */
  private line(bytes: Buffer, start: number, end: number, next: number): HeadOutcome | undefined {
    if (end > start && bytes[end - 1] === CR) end -= 1;
    if (this.status === 0) {
      const status = statusOf(bytes, start, end);
      if (status === 0) return { kind: 'malformed', reason: notHttpReason(bytes.subarray(start, end)) };
      this.status = status;
      return undefined;
    }
    if (end === start) {
      if (this.status >= 200 || this.status === 101) {
        return { kind: 'status', status: this.status, location: this.location, headers: this.headers ?? NO_HEADERS, bodyOffset: next };
      }
      // An interim response: the final one follows on the same connection.
      this.status = 0;
      this.location = undefined;
      this.headers = undefined;
      return undefined;
    }
    if (this.keep !== undefined) this.kept(bytes.toString('latin1', start, end));
    // Only a Location header is read; the first byte spares a string for every other header.
    const first = bytes[start];
    if (this.location === undefined && (first === 0x4c || first === 0x6c) && end - start > LOCATION.length) {
      const text = bytes.toString('latin1', start, end);
      if (text.slice(0, LOCATION.length).toLowerCase() === LOCATION) this.location = text.slice(LOCATION.length).trim();
    }
    return undefined;
  }

  private kept(text: string): void {
    const colon = text.indexOf(':');
    if (colon <= 0) return;
    const name = text.slice(0, colon).trim().toLowerCase();
    if (!this.keep?.has(name)) return;
    this.headers ??= new Map();
    const values = this.headers.get(name);
    const value = text.slice(colon + 1).trim();
    if (values === undefined) this.headers.set(name, [value]);
    else values.push(value);
  }
}

/**
 * The status code of an RFC 9112 status line `HTTP-version SP status-code SP [reason-phrase]` in `bytes[start,
 * end)`, HTTP/1.x only, or 0 when it is not one. The second space may be missing (`HTTP/1.1 200`), as many small
 * servers send it; the reason phrase is free text and never looked at. Read from the bytes: no string per check.
 */
function statusOf(bytes: Buffer, start: number, end: number): number {
  const version = HTTP_1.length;
  // `HTTP/1.` digit SP, three digits of which the first is not 0, then SP or the end.
  if (end - start < version + 5) return 0;
  // Byte by byte: Buffer#compare is a call into C++ that costs more than the seven comparisons (callgrind).
  for (let i = 0; i < version; i++) if (bytes[start + i] !== HTTP_1[i]) return 0;
  const minor = bytes[start + version] as number;
  if (minor < DIGIT_0 || minor > DIGIT_0 + 9 || bytes[start + version + 1] !== SPACE) return 0;
  let status = 0;
  for (let i = start + version + 2; i < start + version + 5; i++) {
    const digit = (bytes[i] as number) - DIGIT_0;
    if (digit < 0 || digit > 9) return 0;
    status = status * 10 + digit;
  }
  const after = start + version + 5;
  return status >= 100 && (after === end || bytes[after] === SPACE) ? status : 0;
}
