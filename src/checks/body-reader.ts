/** How much of a body an HTTP check reads at most: enough for any health page, never a download. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A chunk-size line longer than this is not HTTP; without the bound a server could make us hold any amount. */
const MAX_CHUNK_LINE = 1024;

export type BodyOutcome =
  | { readonly kind: 'body'; readonly body: Buffer; readonly truncated: boolean }
  | { readonly kind: 'malformed'; readonly reason: string };

/** How the body's end is known (RFC 9112 §6.3): chunked coding, Content-Length, or the close of the connection. */
export type Framing = { readonly kind: 'chunked' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'close' };

/** Framing from the head's Transfer-Encoding and Content-Length (lower-case names), or why it is unusable. */
export function framingOf(headers: ReadonlyMap<string, readonly string[]>): Framing | string {
  const coding = headers.get('transfer-encoding');
  if (coding !== undefined) {
    const last = coding.join(',').split(',').at(-1)?.trim().toLowerCase();
    // Chunked last means chunked framing; any other coding runs to the close (gzip and the like are never asked for).
    return last === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  const lengths = headers.get('content-length');
  if (lengths === undefined) return { kind: 'close' };
  const values = new Set(lengths.join(',').split(',').map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) {
    return `malformed HTTP response: Content-Length ${JSON.stringify(lengths.join(', '))}`;
  }
  return { kind: 'length', length: Number(only) };
}

/**
 * Reads a response body, de-chunked, up to MAX_BODY_BYTES; what is past the limit is never held. push() answers
 * once the body is complete or the limit is reached, end() when the connection closes first (the body is then
 * what arrived: a check judges what it could read).
 */
export class BodyReader {
  private readonly body: Buffer;
  private length = 0;
  /** Chunked: the state of the decoder; `size` reads the size line, `data` a chunk, `crlf` the line end after it. */
  private chunk: 'size' | 'data' | 'crlf' = 'size';
  private sizeLine = '';
  private remaining: number;

  constructor(private readonly framing: Framing) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.body = Buffer.allocUnsafe(Math.min(MAX_BODY_BYTES, framing.kind === 'length' ? framing.length : MAX_BODY_BYTES));
  }

  push(bytes: Buffer): BodyOutcome | undefined {
    if (this.framing.kind === 'chunked') return this.dechunk(bytes);
    if (this.framing.kind === 'length') {
      const taken = bytes.subarray(0, this.remaining);
      this.remaining -= taken.length;
      const full = this.keep(taken);
      return full ?? (this.remaining === 0 ? this.done(false) : undefined);
    }
    return this.keep(bytes);
  }

  end(): BodyOutcome {
    return this.done(false);
  }

  /** Copies what fits; reaching the limit ends the body there. */
  private keep(bytes: Buffer): BodyOutcome | undefined {
    const room = MAX_BODY_BYTES - this.length;
    this.length += bytes.copy(this.body, this.length, 0, Math.min(room, bytes.length));
    return bytes.length >= room && this.length === MAX_BODY_BYTES ? this.done(true) : undefined;
  }

  private done(truncated: boolean): BodyOutcome {
    return { kind: 'body', body: this.body.subarray(0, this.length), truncated };
  }

  private dechunk(bytes: Buffer): BodyOutcome | undefined {
    let at = 0;
    while (at < bytes.length) {
      if (this.chunk === 'size') {
        const newline = bytes.indexOf(0x0a, at);
        const end = newline === -1 ? bytes.length : newline;
        this.sizeLine += bytes.toString('latin1', at, end);
        if (this.sizeLine.length > MAX_CHUNK_LINE) return { kind: 'malformed', reason: 'malformed HTTP response: chunk size line too long' };
        if (newline === -1) return undefined;
        at = newline + 1;
        const match = /^([0-9a-fA-F]{1,12})(?:;.*)?\r?$/.exec(this.sizeLine);
        this.sizeLine = '';
        if (match === null) return { kind: 'malformed', reason: 'malformed HTTP response: bad chunk size' };
        this.remaining = parseInt(match[1] as string, 16);
        // The last chunk: trailers, if any, say nothing a check needs.
        if (this.remaining === 0) return this.done(false);
        this.chunk = 'data';
      } else if (this.chunk === 'data') {
        const taken = bytes.subarray(at, at + this.remaining);
        at += taken.length;
        this.remaining -= taken.length;
        const full = this.keep(taken);
        if (full !== undefined) return full;
        if (this.remaining === 0) this.chunk = 'crlf';
      } else {
        const newline = bytes.indexOf(0x0a, at);
        if (newline === -1) return undefined;
        at = newline + 1;
        this.chunk = 'size';
      }
    }
    return undefined;
  }
}
