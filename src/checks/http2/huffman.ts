/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only: servers may send any header string Huffman-coded, and
 * the check sends its own as plain literals.
 *
 * Appendix B is a canonical Huffman code: codes of one length are consecutive and in symbol order, and each length's
 * first code follows the last code of the length before, shifted. So the symbols in code order, with where each
 * length's codes end, determine it (test/checks/http2-hpack.test.ts derives every code from the RFC's `len` column and
 * decodes it). The tables are written out rather than derived at run time: ordering 257 symbols by length cost a
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

const EOS = 256;
/** No code is shorter. */
const MIN_LENGTH = 5;
/**
 * Decoding looks at the next 24 bits at once, a window that every code up to 24 bits long fits in: 186 of the
 * 257, every printable character's among them.
 */
const WINDOW = 24;
const WINDOW_MASK = 0xffffff;

/*
 * The code's shape, by length in bits. Derived from each length's count of codes at every start, it cost a gRPC
 * one-shot 70 K instructions, more than decoding a reply's headers; a wrong entry fails the test's decoding of some
 * code.
 */

/**
 * For lengths 5 to 24: the window that follows every code of that length or shorter, so that a window below it
 * begins with one of them; and last, a window above every window, where the search for a short code stops.
 */
const LIMIT = [
  0, 0, 0, 0, 0, 0x500000, 0xb80000, 0xf80000, 0xfe0000, 0xfe0000, 0xff4000, 0xffa000, 0xffc000, 0xfff000, 0xfff800,
  0xfffe00, 0xfffe00, 0xfffe00, 0xfffe00, 0xfffe60, 0xfffee0, 0xffff48, 0xffffb0, 0xffffea, 0xfffff6, 0x1000000,
] as const;

/** For lengths 5 to 30: what a code of that length less is its symbol's index in SYMBOLS. */
const BASE = [
  0, 0, 0, 0, 0, 0x0, 0xa, 0x38, 0xb4, 0x1b2, 0x3ae, 0x7ab, 0xfa8, 0x1fa4, 0x3fa2, 0x7fa0, 0xff9f, 0x1ff9d, 0x3ff99,
  0x7ff91, 0xfff84, 0x1fff72, 0x3fff5b, 0x7fff47, 0xffff3c, 0x1ffff32, 0x3ffff22, 0x7ffff11, 0xfffff02, 0x1fffff01,
  0x3ffffeff,
] as const;

/** For lengths 24 to 30: the code after the last of that length (a code of that many bits read so far is one below it). */
const LONG_END = [0xfffff6, 0x1fffff0, 0x3ffffef, 0x7fffff1, 0xfffffff, 0x1ffffffe, 0x40000000] as const;

/**
 * A Huffman-coded string's bytes, or undefined when they are not a valid coding: the EOS symbol inside, or padding
 * longer than 7 bits or not made of 1s (RFC 7541 section 5.2 makes both decoding errors).
 *
 * The bits not yet decoded are kept in `bits`, refilled a byte at a time up to the window; each symbol's length is
 * the first whose `limit` is above the window, and its index in SYMBOLS is the window's first bits less `base`. Its
 * interpreter runs every operation of this loop for each character of a reply's headers, which is why it is lean
 * (local copies of the tables, no variable declared inside it): it runs less than half the operations of a 5-bit
 * read then one bit at a time.
 */
export function huffmanDecode(coded: Uint8Array): Uint8Array | undefined {
  const symbols = SYMBOLS;
  const limit = LIMIT;
  const base = BASE;
  const size = coded.length;
  // Every symbol takes at least 5 bits.
  const out = new Uint8Array(((size * 8) / MIN_LENGTH) | 0);
  let written = 0;
  /** The next bits to decode, `count` of them, at the low end (those above are decoded already). */
  let bits = 0;
  let count = 0;
  let next = 0;
  let window = 0;
  let length = 0;
  for (;;) {
    while (count < WINDOW && next < size) {
      bits = (bits << 8) | (coded[next] as number);
      next += 1;
      count += 8;
    }
    if (count >= WINDOW) window = (bits >>> (count - WINDOW)) & WINDOW_MASK;
    else {
      // The string's last bits, followed by 1s. Up to 7 1s are its padding; 0 bits are no padding at all.
      window = ((bits << (WINDOW - count)) | ((1 << (WINDOW - count)) - 1)) & WINDOW_MASK;
      if (count <= 7 && window === WINDOW_MASK) return out.subarray(0, written);
    }
    length = MIN_LENGTH;
    while (window >= (limit[length] as number)) length += 1;
    if (length > WINDOW) {
      // A long code (most bytes above 0x7f, controls, EOS): its bits past the window, one at a time. The string
      // ending inside it is no padding: that is more than 7 bits.
      if (count < WINDOW) return undefined;
      let at = next * 8 - count + WINDOW;
      let code = window;
      for (length = WINDOW; code >= (LONG_END[length - WINDOW] as number); length += 1, at += 1) {
        if (at === size * 8) return undefined;
        code = (code << 1) | (((coded[at >> 3] as number) >> (7 - (at & 7))) & 1);
      }
      const symbol = symbols[code - (base[length] as number)] as number;
      if (symbol === EOS) return undefined;
      out[written] = symbol;
    } else {
      // A code that the string's end cuts short, its bits not all 1s or more than 7: not valid padding.
      if (length > count) return undefined;
      out[written] = symbols[(window >>> (WINDOW - length)) - (base[length] as number)] as number;
    }
    written += 1;
    // A long code may take more bits than were read: its last ones come from the bytes after.
    while (length > count) {
      count += 8;
      bits = coded[next] as number;
      next += 1;
    }
    count -= length;
  }
}
