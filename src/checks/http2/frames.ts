/**
 * HTTP/2 framing (RFC 9113 section 4): the frames' numbers, one frame's bytes, and the reader that cuts a
 * connection's byte stream into frames.
 *
 * The gRPC check's bytes are plain Uint8Arrays, read and written by the functions below, not through Buffer's
 * methods: in Bun, Buffer.from, Buffer.concat and Buffer.write are JavaScript whose first runs cost a start page
 * faults, more than these loops. The gRPC check's connection hands plain Uint8Arrays in the executable (connection.ts's
 * Chunks), and Buffers, the Uint8Arrays they are, under Node and through TLS.
 */

/** What a client sends first (RFC 9113 section 3.4), before its SETTINGS. */
export const CLIENT_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** The settings this client acts on (RFC 9113 section 6.5.2); the others it may ignore. */
export const SETTING = { ENABLE_PUSH: 2, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 } as const;

/** RFC 9113 section 7's error codes, by number. */
const ERROR_NAMES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
] as const;

type ErrorName = (typeof ERROR_NAMES)[number];

/** Each error code by name. A plain loop: an array builtin's first run costs every start page faults. */
export const ERROR = {} as Record<ErrorName, number>;
for (let code = 0; code < ERROR_NAMES.length; code += 1) ERROR[ERROR_NAMES[code] as ErrorName] = code;

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error code ${code}`;
}

/** Every frame's payload may be this large until the peer allows more (SETTINGS_MAX_FRAME_SIZE's initial value). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The flow-control window of a connection and of each stream until SETTINGS or WINDOW_UPDATE say otherwise. */
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;

const HEADER_BYTES = 9;

export function encodeFrame(type: number, flags: number, stream: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = payload.length >>> 16;
  frame[1] = payload.length >>> 8;
  frame[2] = payload.length;
  frame[3] = type;
  frame[4] = flags;
  putUint32(frame, 5, stream);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** A frame read; its payload is valid only during the call it is given to (the reader's buffer moves on). */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Uint8Array;
}

/** A frame announced larger than the reader takes: its type and length, read from its header. */
export interface Oversized {
  readonly type: number;
  readonly length: number;
}

/**
 * Cuts bytes into frames. It holds at most one incomplete frame, never more than `maxFrameSize` of payload: a
 * larger frame is refused from its header, before its payload arrives.
 */
export class FrameReader {
  private pending: Uint8Array | undefined;

  constructor(private readonly maxFrameSize: number) {}

  /**
   * Every whole frame in the bytes read so far, to `onFrame` while it returns true; the oversized frame that stops
   * reading, if one comes. `chunk` may be reused by the caller once this returns.
   */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => boolean): Oversized | undefined {
    const bytes = this.pending === undefined ? chunk : joined([this.pending, chunk]);
    this.pending = undefined;
    let at = 0;
    while (bytes.length - at >= HEADER_BYTES) {
      const length = ((bytes[at] as number) << 16) | ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
      const type = bytes[at + 3] as number;
      if (length > this.maxFrameSize) return { type, length };
      if (bytes.length - at < HEADER_BYTES + length) break;
      const frame: Frame = {
        type,
        flags: bytes[at + 4] as number,
        // The reserved bit is ignored on receipt.
        stream: uint32(bytes, at + 5) & 0x7fffffff,
        payload: bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length),
      };
      at += HEADER_BYTES + length;
      if (!onFrame(frame)) return undefined;
    }
    if (at < bytes.length) this.pending = copyOf(bytes.subarray(at));
    return undefined;
  }
}

/** Bytes of one call kept past it. */
export function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** The bytes of `parts`, end to end. */
export function joined(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (let i = 0; i < parts.length; i += 1) length += (parts[i] as Uint8Array).length;
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as Uint8Array;
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One encoder for every string the gRPC check sends as bytes (one native call each, not a loop of the interpreter's). */
const encoder = new TextEncoder();

/** `text` as UTF-8: for ASCII, its characters one byte each. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Writes `text`, whose characters are all latin1, at `at`; returns where it ends. */
export function putLatin1(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i += 1) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** The bytes [from, to) as latin1 characters, one each. */
export function latin1Of(bytes: Uint8Array, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i += 1) text += String.fromCharCode(bytes[i] as number);
  return text;
}

/** The big-endian unsigned 32-bit integer at `at`. */
export function uint32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number)) >>> 0;
}

/** Writes `value` as a big-endian unsigned 32-bit integer at `at`. */
export function putUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}
