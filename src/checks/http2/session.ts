/**
 * The client side of one HTTP/2 connection that carries one request, stream 1, on bytes the caller moves: what
 * to write goes to `write`, what was read comes to push(). It speaks as much of RFC 9113 as a health check's call
 * meets: the preface and SETTINGS (the server's acknowledged and obeyed: frame size, initial window), HEADERS and
 * CONTINUATION both ways, DATA under the server's flow control, WINDOW_UPDATE for what it receives, PING answered,
 * GOAWAY and RST_STREAM reported. Anything else the server does wrong is a connection error: a GOAWAY is sent and
 * `failed` says what it was.
 *
 * Not node:http2: loading it costs the Bun-built agent about 560 page faults and 4 ms at every start of a gRPC
 * check, more than the whole call (README, "gRPC checks").
 */
import {
  CLIENT_PREFACE,
  copyOf,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  encodeFrame,
  ERROR,
  errorName,
  FLAG,
  FRAME,
  type Frame,
  FrameReader,
  joined,
  MAX_WINDOW,
  type Oversized,
  putUint32,
  SETTING,
  uint32,
  utf8,
} from './frames.js';
import { encodeHeaderBlock, type HeaderField, HpackDecoder } from './hpack.js';

const STREAM = 1;
/** SETTINGS_HEADER_TABLE_SIZE, the default we leave it at: the server's encoder may index up to this much. */
const TABLE_SIZE = 4096;
/** A header block, compressed or decoded, larger than this is no reply to a health check (node:http2's 64 KiB). */
const MAX_HEADER_BYTES = 64 * 1024;
/**
 * SETTINGS and PINGs answered on one connection: a server sends one or two; one that keeps sending them would have
 * us queue an answer to each for as long as it does.
 */
const MAX_ANSWERS = 100;

/** A header block's fields by name, a name given more than once joined with ", " (as node:http2 gives them). */
export type Headers = Readonly<Record<string, string>>;

export interface SessionEvents {
  /** The server's SETTINGS came: it speaks HTTP/2, and the request may go. */
  ready(): void;
  /** A header block of the request's stream: the response's headers, then its trailers; `end`: nothing follows. */
  headers(headers: Headers, end: boolean): void;
  /** Bytes of the response's body, valid only during the call. */
  data(bytes: Uint8Array, end: boolean): void;
  /** The server reset the stream (RST_STREAM) with this error code. */
  reset(code: number): void;
  /**
   * The server is closing the connection (GOAWAY) with this error code. `answered`: its last stream is ours or
   * later, so the server still answers the request (RFC 9113 section 6.8) and the stream goes on; else the
   * request was not processed and nothing more comes for it.
   */
  goaway(code: number, answered: boolean): void;
  /** The server broke the protocol: `HTTP/2: <what> (<error code>)`. Nothing more comes. */
  failed(reason: string): void;
}

/** A header block being received: its fragments so far, and whether its HEADERS ended the stream. */
interface HeaderBlock {
  readonly fragments: Uint8Array[];
  bytes: number;
  readonly end: boolean;
}

/** A connection error found in a frame: its RFC 9113 code, and what it was. */
interface ConnectionError {
  readonly code: number;
  readonly detail: string;
}

/**
 * `preface`: waiting for the server's SETTINGS; `open`: the request may go and its reply come; `closed`: failed,
 * nothing more is read.
 */
export class Http2Session {
  private state: 'preface' | 'open' | 'closed' = 'preface';
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  private readonly decoder = new HpackDecoder(TABLE_SIZE, MAX_HEADER_BYTES);
  /** Frames to write, sent together once the frames read (or the request) are handled. */
  private out: Uint8Array[] = [];
  private answers = 0;
  private peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  private peerInitialWindow = DEFAULT_WINDOW;
  private connectionWindow = DEFAULT_WINDOW;
  private streamWindow = DEFAULT_WINDOW;
  /** `sent`: the request's HEADERS went, and its stream is open until its reply ends or it is reset. */
  private stream: 'idle' | 'sent' | 'done' = 'idle';
  /** The request's body still to send, held back by flow control. */
  private body: Uint8Array | undefined;
  private block: HeaderBlock | undefined;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly events: SessionEvents,
  ) {}

  /** The preface and our SETTINGS: no server push (a client that does not say so may be sent pushes). */
  start(): void {
    // ASCII, which UTF-8 leaves as it is: one native call, not 24 characters written by the interpreter.
    const preface = utf8(CLIENT_PREFACE);
    // SETTINGS_ENABLE_PUSH (16 bits), 0 (32 bits).
    const settings = new Uint8Array(6);
    settings[1] = SETTING.ENABLE_PUSH;
    this.out.push(preface, encodeFrame(FRAME.SETTINGS, 0, 0, settings));
    this.flush();
  }

  /** Sends the request on stream 1: its header block, then `body` as the stream's last DATA. Once, when ready. */
  request(fields: readonly HeaderField[], body: Uint8Array): void {
    const block = encodeHeaderBlock(fields);
    for (let at = 0, type: number = FRAME.HEADERS; at < block.length || type === FRAME.HEADERS; type = FRAME.CONTINUATION) {
      const fragment = block.subarray(at, at + this.peerMaxFrame);
      at += fragment.length;
      this.out.push(encodeFrame(type, at >= block.length ? FLAG.END_HEADERS : 0, STREAM, fragment));
    }
    this.stream = 'sent';
    this.body = body;
    this.sendBody();
    this.flush();
  }

  /** The caller is done with the connection: nothing more is read or written. */
  close(): void {
    this.state = 'closed';
    this.out = [];
  }

  /** Bytes read from the connection (valid only during the call). */
  push(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    const oversized = this.reader.push(chunk, (frame) => this.onFrame(frame));
    if (oversized !== undefined) this.fail(this.tooLarge(oversized));
    this.flush();
  }

  private tooLarge({ type, length }: Oversized): ConnectionError {
    if (this.state === 'preface' && type !== FRAME.SETTINGS) return NOT_HTTP2;
    return { code: ERROR.FRAME_SIZE_ERROR, detail: `a frame of ${length} bytes, more than the ${DEFAULT_MAX_FRAME_SIZE} allowed` };
  }

  /** True while reading may go on. */
  private onFrame(frame: Frame): boolean {
    const error = this.handle(frame);
    if (error !== undefined) this.fail(error);
    return this.state !== 'closed';
  }

  private handle(frame: Frame): ConnectionError | undefined {
    if (this.state === 'preface' && (frame.type !== FRAME.SETTINGS || (frame.flags & FLAG.ACK) !== 0)) return NOT_HTTP2;
    // A header block is a run of frames that nothing may interrupt.
    if (this.block !== undefined && frame.type !== FRAME.CONTINUATION) return protocolError(`a ${frameName(frame.type)} frame inside a header block`);
    switch (frame.type) {
      case FRAME.SETTINGS:
        return this.onSettings(frame);
      case FRAME.PING:
        return this.onPing(frame);
      case FRAME.HEADERS:
        return this.onHeaders(frame);
      case FRAME.CONTINUATION:
        return this.onContinuation(frame);
      case FRAME.DATA:
        return this.onData(frame);
      case FRAME.WINDOW_UPDATE:
        return this.onWindowUpdate(frame);
      case FRAME.RST_STREAM:
        return this.onReset(frame);
      case FRAME.GOAWAY:
        return this.onGoaway(frame);
      case FRAME.PUSH_PROMISE:
        return protocolError('a PUSH_PROMISE, though push was refused');
      default:
        // PRIORITY, and frame types this client does not know, which RFC 9113 says to ignore.
        return undefined;
    }
  }

  private onSettings({ flags, stream, payload }: Frame): ConnectionError | undefined {
    if (stream !== 0) return protocolError('SETTINGS on a stream');
    if ((flags & FLAG.ACK) !== 0) return payload.length === 0 ? undefined : frameSizeError('a SETTINGS acknowledgement with a payload');
    if (payload.length % 6 !== 0) return frameSizeError(`SETTINGS of ${payload.length} bytes, not a multiple of 6`);
    for (let at = 0; at < payload.length; at += 6) {
      const id = ((payload[at] as number) << 8) | (payload[at + 1] as number);
      const value = uint32(payload, at + 2);
      if (id === SETTING.ENABLE_PUSH && value > 1) return protocolError(`SETTINGS_ENABLE_PUSH ${value}`);
      if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return { code: ERROR.FLOW_CONTROL_ERROR, detail: `SETTINGS_INITIAL_WINDOW_SIZE ${value}` };
        // A new initial window moves the open stream's window by the difference (RFC 9113 section 6.9.2).
        this.streamWindow += value - this.peerInitialWindow;
        this.peerInitialWindow = value;
      }
      if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) return protocolError(`SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.peerMaxFrame = value;
      }
    }
    const calm = this.answer();
    if (calm !== undefined) return calm;
    this.out.push(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
    if (this.state === 'preface') {
      this.state = 'open';
      this.events.ready();
    } else this.sendBody();
    return undefined;
  }

  private onPing({ flags, stream, payload }: Frame): ConnectionError | undefined {
    if (stream !== 0) return protocolError('PING on a stream');
    if (payload.length !== 8) return frameSizeError(`PING of ${payload.length} bytes`);
    if ((flags & FLAG.ACK) !== 0) return undefined;
    return this.answer() ?? void this.out.push(encodeFrame(FRAME.PING, FLAG.ACK, 0, payload));
  }

  /** One more SETTINGS or PING to answer, or the error of one too many. */
  private answer(): ConnectionError | undefined {
    this.answers += 1;
    return this.answers > MAX_ANSWERS ? { code: ERROR.ENHANCE_YOUR_CALM, detail: `more than ${MAX_ANSWERS} SETTINGS and PING frames` } : undefined;
  }

  private onHeaders({ flags, stream, payload }: Frame): ConnectionError | undefined {
    const open = this.openStream(stream, 'HEADERS');
    if (open !== undefined) return open;
    let fragment = unpad(flags, payload);
    if (fragment === undefined) return protocolError('HEADERS with more padding than payload');
    if ((flags & FLAG.PRIORITY) !== 0) {
      if (fragment.length < 5) return frameSizeError('HEADERS too short for its priority');
      fragment = fragment.subarray(5);
    }
    this.block = { fragments: [], bytes: 0, end: (flags & FLAG.END_STREAM) !== 0 };
    return this.onFragment(flags, fragment);
  }

  private onContinuation({ flags, stream, payload }: Frame): ConnectionError | undefined {
    if (this.block === undefined || stream !== STREAM) return protocolError('a CONTINUATION outside a header block');
    return this.onFragment(flags, payload);
  }

  private onFragment(flags: number, fragment: Uint8Array): ConnectionError | undefined {
    const block = this.block as HeaderBlock;
    block.bytes += fragment.length;
    if (block.bytes > MAX_HEADER_BYTES) return frameSizeError(`a header block larger than ${MAX_HEADER_BYTES} bytes`);
    if ((flags & FLAG.END_HEADERS) === 0) {
      // Kept until the block's last fragment: a copy, as the reader's buffer moves on.
      block.fragments.push(copyOf(fragment));
      return undefined;
    }
    this.block = undefined;
    // A block in one frame, as a reply's usually is, is decoded where it lies.
    block.fragments.push(fragment);
    const fields = this.decoder.decode(block.fragments.length === 1 ? fragment : joined(block.fragments));
    if (typeof fields === 'string') return { code: ERROR.COMPRESSION_ERROR, detail: `a header block that does not decode: ${fields}` };
    const headers: Record<string, string> = {};
    for (const [name, value] of fields) headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    if (block.end) this.stream = 'done';
    this.events.headers(headers, block.end);
    return undefined;
  }

  private onData({ flags, stream, payload }: Frame): ConnectionError | undefined {
    const open = this.openStream(stream, 'DATA');
    if (open !== undefined) return open;
    const data = unpad(flags, payload);
    if (data === undefined) return protocolError('DATA with more padding than payload');
    const end = (flags & FLAG.END_STREAM) !== 0;
    // What was received is given back at once: the reply is read whole, and its size is bounded by the caller.
    if (payload.length > 0 && !end) this.out.push(windowUpdate(0, payload.length), windowUpdate(STREAM, payload.length));
    if (end) this.stream = 'done';
    this.events.data(data, end);
    return undefined;
  }

  /** Why a HEADERS or DATA frame may not come on `stream`, if it may not. */
  private openStream(stream: number, type: string): ConnectionError | undefined {
    if (stream === STREAM && this.stream === 'sent') return undefined;
    return stream === STREAM ? { code: ERROR.STREAM_CLOSED, detail: `${type} on a closed stream` } : protocolError(`${type} on stream ${stream}, which the client never opened`);
  }

  private onWindowUpdate({ stream, payload }: Frame): ConnectionError | undefined {
    if (payload.length !== 4) return frameSizeError(`WINDOW_UPDATE of ${payload.length} bytes`);
    const increment = uint32(payload, 0) & 0x7fffffff;
    if (increment === 0) return protocolError('a WINDOW_UPDATE of 0');
    if (stream === 0) this.connectionWindow += increment;
    else if (stream === STREAM) this.streamWindow += increment;
    if (this.connectionWindow > MAX_WINDOW || this.streamWindow > MAX_WINDOW) return { code: ERROR.FLOW_CONTROL_ERROR, detail: 'a window larger than 2^31-1' };
    this.sendBody();
    return undefined;
  }

  private onReset({ stream, payload }: Frame): ConnectionError | undefined {
    if (payload.length !== 4) return frameSizeError(`RST_STREAM of ${payload.length} bytes`);
    if (stream === 0 || (stream === STREAM && this.stream === 'idle')) return protocolError(`RST_STREAM on stream ${stream}, which is not open`);
    if (stream !== STREAM) return undefined;
    this.stream = 'done';
    this.events.reset(uint32(payload, 0));
    return undefined;
  }

  private onGoaway({ stream, payload }: Frame): ConnectionError | undefined {
    if (stream !== 0) return protocolError('GOAWAY on a stream');
    if (payload.length < 8) return frameSizeError(`GOAWAY of ${payload.length} bytes`);
    // The reserved bit is ignored on receipt. A GOAWAY before the request went covers no stream of ours.
    const lastStream = uint32(payload, 0) & 0x7fffffff;
    this.events.goaway(uint32(payload, 4), this.stream === 'sent' && lastStream >= STREAM);
    return undefined;
  }

  /** As much of the body as both windows and the frame size allow; the rest waits for WINDOW_UPDATE or SETTINGS. */
  private sendBody(): void {
    const { body } = this;
    if (body === undefined || this.stream !== 'sent') return;
    let at = 0;
    while (at < body.length) {
      const size = Math.min(body.length - at, this.peerMaxFrame, this.connectionWindow, this.streamWindow);
      if (size <= 0) break;
      at += size;
      this.connectionWindow -= size;
      this.streamWindow -= size;
      this.out.push(encodeFrame(FRAME.DATA, at === body.length ? FLAG.END_STREAM : 0, STREAM, body.subarray(at - size, at)));
    }
    this.body = at === body.length ? undefined : body.subarray(at);
  }

  private fail({ code, detail }: ConnectionError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // The server is told why, as RFC 9113 asks; the caller closes the connection next.
    const goaway = new Uint8Array(8);
    putUint32(goaway, 4, code);
    this.out.push(encodeFrame(FRAME.GOAWAY, 0, 0, goaway));
    this.flush();
    this.events.failed(`HTTP/2: ${detail} (${errorName(code)})`);
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const bytes = this.out.length === 1 ? (this.out[0] as Uint8Array) : joined(this.out);
    this.out = [];
    this.write(bytes);
  }
}

const NOT_HTTP2: ConnectionError = { code: ERROR.PROTOCOL_ERROR, detail: "the server's first frame is not SETTINGS: not an HTTP/2 server?" };

function protocolError(detail: string): ConnectionError {
  return { code: ERROR.PROTOCOL_ERROR, detail };
}

function frameSizeError(detail: string): ConnectionError {
  return { code: ERROR.FRAME_SIZE_ERROR, detail };
}

function frameName(type: number): string {
  return Object.keys(FRAME).find((name) => FRAME[name as keyof typeof FRAME] === type) ?? `type ${type}`;
}

/** A DATA or HEADERS payload without its padding, or undefined when the padding is longer than the payload. */
function unpad(flags: number, payload: Uint8Array): Uint8Array | undefined {
  if ((flags & FLAG.PADDED) === 0) return payload;
  const padding = payload[0];
  if (padding === undefined || padding >= payload.length) return undefined;
  return payload.subarray(1, payload.length - padding);
}

function windowUpdate(stream: number, increment: number): Uint8Array {
  const payload = new Uint8Array(4);
  putUint32(payload, 0, increment);
  return encodeFrame(FRAME.WINDOW_UPDATE, 0, stream, payload);
}
