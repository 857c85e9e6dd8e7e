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
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');
/**
 * RFC 9112 `HTTP-version SP status-code SP [reason-phrase]`, HTTP/1.x only. The second space may be missing
 * (`HTTP/1.1 200`), as many small servers send it; the reason phrase is free text and never looked at.
 */
const STATUS_LINE = /^HTTP\/1\.[0-9] ([1-9][0-9]{2})(?: |$)/;
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
    while (from < length) {
      const newline = chunk.indexOf(LF, from);
      const end = newline === -1 ? length : newline;
      const lineBytes = this.partialLength + (end - from);
      if (this.consumed + lineBytes + (end === length ? 0 : 1) > MAX_HEADER_BYTES) {
        return { kind: 'malformed', reason: HEADERS_TOO_LARGE };
      }
      if (end === length) return this.hold(chunk, from, end);
      let line = chunk.subarray(from, end);
      if (this.partialLength > 0) {
        line.copy(this.partial as Buffer, this.partialLength);
        line = (this.partial as Buffer).subarray(0, lineBytes);
        this.partialLength = 0;
      }
      this.consumed += lineBytes + 1;
      const outcome = this.line(line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line, end + 1);
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

  private line(line: Buffer, next: number): HeadOutcome | undefined {
    if (this.status === 0) {
      const match = STATUS_LINE.exec(line.toString('latin1'));
      if (match === null) return { kind: 'malformed', reason: notHttpReason(line) };
      this.status = Number(match[1]);
      return undefined;
    }
    if (line.length === 0) {
      if (this.status >= 200 || this.status === 101) {
        return { kind: 'status', status: this.status, location: this.location, headers: this.headers ?? NO_HEADERS, bodyOffset: next };
      }
      // An interim response: the final one follows on the same connection.
      this.status = 0;
      this.location = undefined;
      this.headers = undefined;
      return undefined;
    }
    if (this.keep !== undefined) this.kept(line.toString('latin1'));
    // Only a Location header is read; the first byte spares a string for every other header.
    if (this.location === undefined && (line[0] === 0x4c || line[0] === 0x6c) && line.length > LOCATION.length) {
      const text = line.toString('latin1');
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
