/**
 * HPACK (RFC 7541), as one HTTP/2 request needs it: the request's header block encoded as literal fields without
 * indexing (nothing of ours enters the server's dynamic table, so the encoder keeps no state and never resizes), and
 * the server's header blocks decoded whole: static and dynamic tables, table size updates, Huffman-coded strings.
 */
import { latin1Of, putLatin1, utf8 } from './frames.js';
import { huffmanDecode } from './huffman.js';

export type HeaderField = readonly [name: string, value: string];

/** RFC 7541 Appendix A: indexes 1 to 61. */
const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** Each entry's size in the dynamic table: its octets plus 32 (RFC 7541 section 4.1). */
function entrySize([name, value]: HeaderField): number {
  return name.length + value.length + 32;
}

/** Why a header block cannot be decoded: a COMPRESSION_ERROR for the whole connection. */
class HpackError extends Error {}

/**
 * The decoding side of one connection: its dynamic table lives from block to block. The table may hold at most
 * `maxTableSize` octets (the SETTINGS_HEADER_TABLE_SIZE we announce: the default, 4096), and a block may decode to
 * at most `maxListSize` octets (counted as the table counts them), so that a few bytes of indexes cannot expand to
 * megabytes.
 */
export class HpackDecoder {
  /** Newest first: index 62 is dynamic[0]. */
  private readonly dynamic: HeaderField[] = [];
  private tableSize = 0;
  private capacity: number;

  constructor(
    private readonly maxTableSize: number,
    private readonly maxListSize: number,
  ) {
    this.capacity = maxTableSize;
  }

  /** The block's fields in order, or why it cannot be decoded. */
  decode(block: Uint8Array): HeaderField[] | string {
    try {
      return this.fields(block);
    } catch (err) {
      if (err instanceof HpackError) return err.message;
      throw err;
    }
  }

  private fields(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    let listSize = 0;
    let at = 0;
    const integer = (prefixBits: number): number => {
      if (at >= block.length) throw new HpackError('a field cut short');
      const max = (1 << prefixBits) - 1;
      let value = (block[at++] as number) & max;
      if (value < max) return value;
      for (let shift = 0; ; shift += 7) {
        if (at >= block.length) throw new HpackError('an integer cut short');
        // Four continuation bytes reach 2^28 past the prefix: anything larger is no size or index a peer needs.
        if (shift > 21) throw new HpackError('an integer too large');
        const byte = block[at++] as number;
        value += (byte & 0x7f) * 2 ** shift;
        if ((byte & 0x80) === 0) return value;
      }
    };
    const string = (): string => {
      const huffman = ((block[at] as number) & 0x80) !== 0;
      const length = integer(7);
      if (at + length > block.length) throw new HpackError('a string cut short');
      const from = at;
      at += length;
      if (!huffman) return latin1Of(block, from, at);
      const bytes = huffmanDecode(block.subarray(from, at));
      if (bytes === undefined) throw new HpackError('an invalid Huffman-coded string');
      return latin1Of(bytes, 0, bytes.length);
    };
    const name = (index: number): string => (index === 0 ? string() : this.entry(index)[0]);
    while (at < block.length) {
      const first = block[at] as number;
      let field: HeaderField;
      if (first & 0x80) {
        const index = integer(7);
        if (index === 0) throw new HpackError('index 0');
        field = this.entry(index);
      } else if (first & 0x40) {
        field = [name(integer(6)), string()];
        this.insert(field);
      } else if (first & 0x20) {
        // A size update belongs at the start of a block, and cannot go past what we announced.
        const size = integer(5);
        if (fields.length > 0) throw new HpackError('a table size update after a header field');
        if (size > this.maxTableSize) throw new HpackError(`a table size of ${size} octets, more than the ${this.maxTableSize} allowed`);
        this.capacity = size;
        this.evict(0);
        continue;
      } else {
        // Without indexing (0000) or never indexed (0001): the same to a decoder.
        field = [name(integer(4)), string()];
      }
      listSize += entrySize(field);
      if (listSize > this.maxListSize) throw new HpackError(`headers larger than ${this.maxListSize} bytes`);
      fields.push(field);
    }
    return fields;
  }

  private entry(index: number): HeaderField {
    const field = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.dynamic[index - STATIC_TABLE.length - 1];
    if (field === undefined) throw new HpackError(`index ${index} is not in the table`);
    return field;
  }

  /** An entry larger than the whole table empties it, and is not added (RFC 7541 section 4.4). */
  private insert(field: HeaderField): void {
    const size = entrySize(field);
    this.evict(size);
    if (size > this.capacity) return;
    this.dynamic.unshift(field);
    this.tableSize += size;
  }

  /** Oldest entries out until `room` more octets fit. */
  private evict(room: number): void {
    while (this.dynamic.length > 0 && this.tableSize + room > this.capacity) {
      this.tableSize -= entrySize(this.dynamic.pop() as HeaderField);
    }
  }
}

/**
 * A header block of literal fields without indexing (RFC 7541 section 6.2.2), each name by its index in the static
 * table when it is there (`staticName`), else literal, each string its length then its octets (no Huffman coding).
 * Names and values are latin1: the callers refuse anything else.
 *
 * The block is made as a string of octets and encoded by one native call: written octet by octet from JavaScript, a
 * gRPC call's 190 characters cost its start twice the instructions (0.19 M against 0.09 M). TextEncoder writes
 * UTF-8, in which an octet below 0x80 is itself: a block with a larger octet (obs-text in a value, a length's
 * continuation) comes out longer, and is written octet by octet instead.
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Uint8Array {
  let octets = '';
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i] as HeaderField;
    const index = staticName(field[0]);
    // The first octet 0000, then the name's index on 4 bits (0: a literal name follows).
    octets += index === 0 ? `\0${literal(field[0])}` : integer(index, 4);
    octets += literal(field[1]);
  }
  const encoded = utf8(octets);
  if (encoded.length === octets.length) return encoded;
  const out = new Uint8Array(octets.length);
  putLatin1(out, 0, octets);
  return out;
}

/**
 * The static table's index of the names our requests send that it holds (RFC 7541 Appendix A), 0 for any other:
 * a switch of constants, not a lookup built from STATIC_TABLE at every start.
 */
function staticName(name: string): number {
  switch (name) {
    case ':authority':
      return 1;
    case ':method':
      return 2;
    case ':path':
      return 4;
    case ':scheme':
      return 6;
    case 'content-type':
      return 31;
    case 'user-agent':
      return 58;
    default:
      return 0;
  }
}

/** A string without Huffman coding: its length as an integer with a 7-bit prefix, its octets. */
function literal(text: string): string {
  return integer(text.length, 7) + text;
}

/** An integer with an N-bit prefix (RFC 7541 section 5.1), the prefix's first octet's other bits 0. */
function integer(value: number, prefixBits: number): string {
  const max = (1 << prefixBits) - 1;
  if (value < max) return String.fromCharCode(value);
  let octets = String.fromCharCode(max);
  let rest = value - max;
  for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) octets += String.fromCharCode((rest % 0x80) | 0x80);
  return octets + String.fromCharCode(rest);
}
