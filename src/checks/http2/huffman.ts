/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only: servers may send any header string Huffman-coded, and
 * the check sends its own as plain literals.
 *
 * Appendix B is a canonical Huffman code: codes of one length are consecutive and in symbol order, and each length's
 * first code follows the last code of the length before, shifted. So the symbols in code order, with how many codes
 * each length has, determine it (test/checks/http2-hpack.test.ts derives every code from the RFC's `len` column and
 * decodes it). The table is written out rather than derived at run time: ordering 257 symbols by length cost a
 * gRPC one-shot about 0.3 M instructions of its interpreter, a tenth of what it spends above a TCP check.
 */

/** Appendix B's symbols (0-255, and EOS: 256) in code order: by code length, and within a length by symbol. */
const SYMBOLS = [
  48, 49, 50, 97, 99, 101, 105, 111, 115, 116, // 5 bits
  32, 37, 45, 46, 47, 51, 52, 53, 54, 55, 56, 57, 61, 65, 95, 98, 100, 102, 103, 104, 108, 109, 110, 112, 114, 117, // 6 bits
  58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89, 106, 107, 113, 118, 119, 120, 121, 122, // 7 bits
  38, 42, 44, 59, 88, 90, // 8 bits
  33, 34, 40, 41, 63, // 10 bits
  39, 43, 124, // 11 bits
  35, 62, // 12 bits
  0, 36, 64, 91, 93, 126, // 13 bits
  94, 125, // 14 bits
  60, 96, 123, // 15 bits
  92, 195, 208, // 19 bits
  128, 130, 131, 162, 184, 194, 224, 226, // 20 bits
  153, 161, 167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, // 21 bits
  129, 132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170, 173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232, 233, // 22 bits
  1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165, 166, 168, 174, 175, 180, 182, 183, 188, 191, 197, 231, 239, // 23 bits
  9, 142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237, // 24 bits
  199, 207, 234, 235, // 25 bits
  192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255, // 26 bits
  203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254, // 27 bits
  2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 220, 249, // 28 bits
  10, 13, 22, 256, // 30 bits
] as const;

/** How many codes each length from 0 to 30 bits has (Appendix B's `len` column, counted). */
const COUNT = [0, 0, 0, 0, 0, 10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3, 0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4] as const;

const EOS = 256;
const MAX_LENGTH = 30;
/** No code is shorter. */
const MIN_LENGTH = 5;

/**
 * For each length, its first code and the index in SYMBOLS of its first symbol. A code of length L read so far is
 * a symbol when `code - first[L] < COUNT[L]`.
 */
interface Canonical {
  readonly first: Int32Array;
  readonly offset: Int32Array;
}

let canonical: Canonical | undefined;

function table(): Canonical {
  if (canonical !== undefined) return canonical;
  const first = new Int32Array(MAX_LENGTH + 1);
  const offset = new Int32Array(MAX_LENGTH + 1);
  // Index loops, not for-of or forEach: an array builtin's first run costs every start page faults.
  for (let length = 1, code = 0, index = 0; length <= MAX_LENGTH; length += 1) {
    code = (code + COUNT[length - 1]) << 1;
    first[length] = code;
    offset[length] = index;
    index += COUNT[length];
  }
  canonical = { first, offset };
  return canonical;
}

/**
 * A Huffman-coded string's bytes, or undefined when they are not a valid coding: the EOS symbol inside, or padding
 * longer than 7 bits or not made of 1s (RFC 7541 section 5.2 makes both decoding errors).
 *
 * Symbol by symbol: its first 5 bits at once (no code is shorter), then one bit more until a code of that length
 * matches. Bit by bit from the first, a reply's few dozen characters cost the interpreter twice as much.
 */
export function huffmanDecode(coded: Uint8Array): Uint8Array | undefined {
  const { first, offset } = table();
  const end = coded.length * 8;
  // Every symbol takes at least 5 bits.
  const out = new Uint8Array(Math.ceil(end / MIN_LENGTH));
  let written = 0;
  for (let at = 0; at < end; ) {
    // The next 5 bits (fewer at the end), from the two bytes they lie in.
    let length = end - at < MIN_LENGTH ? end - at : MIN_LENGTH;
    const byte = at >> 3;
    const pair = ((coded[byte] as number) << 8) | (byte + 1 < coded.length ? (coded[byte + 1] as number) : 0);
    let code = (pair >>> (16 - (at & 7) - length)) & ((1 << length) - 1);
    // A complete code: every string of bits long enough begins with one.
    while (code - (first[length] as number) >= COUNT[length]) {
      // The string ends inside a code: padding, which must be at most 7 bits, all 1s.
      if (at + length === end) return length <= 7 && code === (1 << length) - 1 ? out.subarray(0, written) : undefined;
      const next = at + length;
      code = (code << 1) | (((coded[next >> 3] as number) >> (7 - (next & 7))) & 1);
      length += 1;
    }
    const symbol = SYMBOLS[(offset[length] as number) + code - (first[length] as number)] as number;
    if (symbol === EOS) return undefined;
    out[written++] = symbol;
    at += length;
  }
  return out.subarray(0, written);
}
