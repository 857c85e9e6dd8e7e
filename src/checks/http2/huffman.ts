/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only: servers may send any header string Huffman-coded, and
 * the check sends its own as plain literals.
 *
 * Appendix B is a canonical Huffman code (codes of one length are consecutive, in symbol order, and each length's
 * first code follows the last code of the length before, shifted), so the table's `len` column alone determines it;
 * test/checks/http2-hpack.test.ts holds the codes it yields against rows of the RFC's own `code as hex` column.
 */

/** Code length in bits of each symbol 0-255 and of EOS (256), Appendix B's `len` column in symbol order. */
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32-47
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48-63
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64-79
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80-95
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96-111
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112-127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
  30, // EOS
] as const;

const EOS = 256;
const MAX_LENGTH = 30;

/**
 * The canonical code's decoding table: for each length, its first code and how many codes it has, and the symbols
 * in code order. A code of length L read so far is a symbol when `code - first[L] < count[L]`.
 */
interface Canonical {
  readonly first: Int32Array;
  readonly count: Int32Array;
  /** Index in `symbols` of each length's first symbol. */
  readonly offset: Int32Array;
  readonly symbols: Uint16Array;
}

let canonical: Canonical | undefined;

function table(): Canonical {
  if (canonical !== undefined) return canonical;
  const count = new Int32Array(MAX_LENGTH + 1);
  // Index loops, not for-of or forEach: an array builtin's first run costs every start page faults.
  for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol += 1) count[CODE_LENGTHS[symbol] as number] += 1;
  const first = new Int32Array(MAX_LENGTH + 1);
  const offset = new Int32Array(MAX_LENGTH + 1);
  for (let length = 1, code = 0, index = 0; length <= MAX_LENGTH; length += 1) {
    code = (code + (count[length - 1] as number)) << 1;
    first[length] = code;
    offset[length] = index;
    index += count[length] as number;
  }
  const symbols = new Uint16Array(CODE_LENGTHS.length);
  const next = offset.slice();
  for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol += 1) {
    const length = CODE_LENGTHS[symbol] as number;
    symbols[next[length] as number] = symbol;
    next[length] = (next[length] as number) + 1;
  }
  canonical = { first, count, offset, symbols };
  return canonical;
}

/**
 * A Huffman-coded string's bytes, or undefined when they are not a valid coding: the EOS symbol inside, or padding
 * longer than 7 bits or not made of 1s (RFC 7541 section 5.2 makes both decoding errors).
 */
export function huffmanDecode(coded: Uint8Array): Uint8Array | undefined {
  const { first, count, offset, symbols } = table();
  // Every symbol takes at least 5 bits.
  const out = new Uint8Array(Math.ceil((coded.length * 8) / 5));
  let written = 0;
  let code = 0;
  let length = 0;
  for (let at = 0; at < coded.length; at += 1) {
    const byte = coded[at] as number;
    for (let bit = 7; bit >= 0; bit -= 1) {
      code = (code << 1) | ((byte >> bit) & 1);
      length += 1;
      const index = code - (first[length] as number);
      if (index < (count[length] as number)) {
        const symbol = symbols[(offset[length] as number) + index] as number;
        if (symbol === EOS) return undefined;
        out[written++] = symbol;
        code = 0;
        length = 0;
      } else if (length === MAX_LENGTH) return undefined;
    }
  }
  return length <= 7 && code === (1 << length) - 1 ? out.subarray(0, written) : undefined;
}
