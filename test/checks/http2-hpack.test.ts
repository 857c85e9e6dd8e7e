// HPACK decoding against RFC 7541's own examples (Appendix C: literal forms, requests and responses with and
// without Huffman coding, a 256-octet table that evicts), Appendix B's Huffman code by its rows, and the blocks a
// server must not send.
import t from 'tap';
import { encodeHeaderBlock, type HeaderField, HpackDecoder } from '../../src/checks/http2/hpack.js';
import { huffmanDecode } from '../../src/checks/http2/huffman.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const decoder = (tableSize = 4096) => new HpackDecoder(tableSize, 64 * 1024);

/** The dynamic table as the RFC lists it, newest first: every index from 62 until one is not in the table. */
function table(d: HpackDecoder): HeaderField[] | string {
  const entries: HeaderField[] = [];
  for (let index = 62; ; index += 1) {
    const got = d.decode(Buffer.from([0x80 | index]));
    if (typeof got === 'string') return got === `index ${index} is not in the table` ? entries : got;
    entries.push(...got);
  }
}

t.test('C.2: each literal form, and what it does to the dynamic table', async (t) => {
  const incremental = decoder();
  t.same(incremental.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
  t.same(table(incremental), [['custom-key', 'custom-header']], 'C.2.1 enters the table');
  const without = decoder();
  t.same(without.decode(hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
  t.same(table(without), [], 'C.2.2 does not');
  const never = decoder();
  t.same(never.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), [['password', 'secret']]);
  t.same(table(never), [], 'C.2.3 does not');
  t.same(decoder().decode(hex('82')), [[':method', 'GET']], 'C.2.4: a static entry');
});

const REQUESTS: HeaderField[][] = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];
const REQUEST_TABLES: HeaderField[][] = [
  [[':authority', 'www.example.com']],
  [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
];

t.test('C.3 and C.4: three requests on one connection, without and with Huffman coding', async (t) => {
  for (const [section, blocks] of [
    ['C.3', ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865', '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65']],
    ['C.4', ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf']],
  ] as const) {
    const d = decoder();
    blocks.forEach((block, i) => {
      t.same(d.decode(hex(block)), REQUESTS[i], `${section}.${i + 1}`);
      t.same(table(d), REQUEST_TABLES[i], `${section}.${i + 1}: the table after it`);
    });
  }
});

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const URL = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSES: HeaderField[][] = [
  [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', URL]],
  [[':status', '307'], ['cache-control', 'private'], ['date', DATE1], ['location', URL]],
  [[':status', '200'], ['cache-control', 'private'], ['date', DATE2], ['location', URL], ['content-encoding', 'gzip'], ['set-cookie', COOKIE]],
];
const RESPONSE_TABLES: HeaderField[][] = [
  [['location', URL], ['date', DATE1], ['cache-control', 'private'], [':status', '302']],
  [[':status', '307'], ['location', URL], ['date', DATE1], ['cache-control', 'private']],
  [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]],
];

t.test('C.5 and C.6: three responses in a 256-octet table, entries evicted, without and with Huffman coding', async (t) => {
  for (const [section, blocks] of [
    [
      'C.5',
      [
        '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        '4803 3330 37c1 c0bf',
        '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
      ],
    ],
    [
      'C.6',
      [
        '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
        '4883 640e ffc1 c0bf',
        '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
      ],
    ],
  ] as const) {
    const d = decoder(256);
    blocks.forEach((block, i) => {
      t.same(d.decode(hex(block)), RESPONSES[i], `${section}.${i + 1}`);
      t.same(table(d), RESPONSE_TABLES[i], `${section}.${i + 1}: the table after it`);
    });
  }
});

t.test("Appendix B: symbols decoded from the RFC's codes; EOS and bad padding refused", async (t) => {
  /** A code of `length` bits, padded with 1s to a whole byte, as an encoder ends a string. */
  const coded = (code: number, length: number): Uint8Array => {
    const bits = code.toString(2).padStart(length, '0').padEnd(Math.ceil(length / 8) * 8, '1');
    return Uint8Array.from(bits.match(/.{8}/g) ?? [], (byte) => parseInt(byte, 2));
  };
  // Rows of the table: (sym) code as hex [len].
  for (const [symbol, code, length] of [
    [0, 0x1ff8, 13], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5], [97, 0x3, 5], [122, 0x7b, 7],
    [127, 0xffffffc, 28], [128, 0xfffe6, 20], [192, 0x3ffffe0, 26], [200, 0x3ffffe2, 26], [252, 0x7ffffee, 27], [254, 0x7fffff0, 27], [255, 0x3ffffee, 26],
  ] as const) {
    t.same([...(huffmanDecode(coded(code, length)) ?? [])], [symbol], `symbol ${symbol}`);
  }
  t.equal(huffmanDecode(coded(0x3fffffff, 30)), undefined, 'EOS inside a string');
  // 'a' is 00011: three bits of padding are right, eleven are not, and padding must be 1s.
  t.same([...(huffmanDecode(Uint8Array.of(0x1f)) ?? [])], [97]);
  t.equal(huffmanDecode(Uint8Array.of(0x1f, 0xff)), undefined, 'padding longer than 7 bits');
  t.equal(huffmanDecode(Uint8Array.of(0x1e)), undefined, 'padding with a 0 in it');
  t.same([...(huffmanDecode(new Uint8Array(0)) ?? [1])], [], 'the empty string');
});

/** Appendix B's `len` column: each symbol's code length in bits, symbols 0-255 and EOS (256) in order. */
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

t.test("Appendix B, every symbol: its code derived from the RFC's len column decodes to it, alone and between others", async (t) => {
  // A canonical code: codes of one length consecutive in symbol order, each length's first following the shorter's last.
  const codes: { symbol: number; code: number; length: number }[] = [];
  let code = 0;
  for (let length = 1; length <= 30; length += 1) {
    for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol += 1) {
      if (CODE_LENGTHS[symbol] !== length) continue;
      codes.push({ symbol, code, length });
      code += 1;
    }
    code <<= 1;
  }
  t.equal(codes.length, 257);
  /** Bits as a string of 0s and 1s, padded with 1s to whole bytes. */
  const packed = (bits: string): Uint8Array =>
    Uint8Array.from(bits.padEnd(Math.ceil(bits.length / 8) * 8, '1').match(/.{8}/g) ?? [], (byte) => parseInt(byte, 2));
  const bitsOf = ({ code, length }: { code: number; length: number }) => code.toString(2).padStart(length, '0');
  const a = bitsOf(codes.find((c) => c.symbol === 97) as { code: number; length: number });
  // 254: 27 bits, 26 of them 1s, after which a code read one bit too long or too short decodes to something else.
  const ones = bitsOf(codes.find((c) => c.symbol === 254) as { code: number; length: number });
  for (const entry of codes) {
    if (entry.symbol === 256) {
      t.equal(huffmanDecode(packed(a + bitsOf(entry) + a)), undefined, 'EOS inside a string');
      continue;
    }
    t.same([...(huffmanDecode(packed(bitsOf(entry))) ?? [])], [entry.symbol], `symbol ${entry.symbol} alone`);
    // At every bit offset: after 'a' (5 bits), its own code repeated, then 254's.
    t.same([...(huffmanDecode(packed(a + bitsOf(entry) + bitsOf(entry) + ones + a)) ?? [])], [97, entry.symbol, entry.symbol, 254, 97], `symbol ${entry.symbol} between others`);
  }
});

t.test('table size updates: at the start of a block, up to the size we announced; 0 empties the table', async (t) => {
  t.same(decoder().decode(hex('3fe11f')), [], 'to 4096, the limit');
  t.equal(decoder().decode(hex('3fe21f')), 'a table size of 4097 octets, more than the 4096 allowed');
  t.equal(decoder().decode(hex('8220')), 'a table size update after a header field');
  const d = decoder();
  d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  t.equal(d.decode(hex('20be')), 'index 62 is not in the table');
  const small = decoder(256);
  small.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  // `a: bbb…` (256 b), 289 octets with its 32.
  t.same(small.decode(Buffer.from([0x40, 0x01, 0x61, 0x7f, 0x81, 0x01, ...Buffer.alloc(256, 0x62)])), [['a', 'b'.repeat(256)]]);
  t.same(table(small), [], 'an entry larger than the table empties it, and is not added');
});

t.test('blocks a server must not send: why, in one line', async (t) => {
  t.equal(decoder().decode(hex('80')), 'index 0');
  t.equal(decoder().decode(hex('41')), 'a field cut short');
  t.equal(decoder().decode(hex('410561')), 'a string cut short');
  t.equal(decoder().decode(hex('7fffffffff0f')), 'an integer too large');
  t.equal(decoder().decode(hex('01811e')), 'an invalid Huffman-coded string');
  const fields: HeaderField[] = [['a', 'x'.repeat(40)], ['b', 'y'.repeat(40)]];
  t.equal(new HpackDecoder(4096, 100).decode(encodeHeaderBlock(fields)), 'headers larger than 100 bytes', 'each field counted with its 32 octets');
});

t.test('our request blocks: literals without indexing, any length, decoded as sent', async (t) => {
  const fields: HeaderField[] = [[':method', 'POST'], ['x-'.padEnd(200, 'n'), 'v'.repeat(40_000)], ['empty', ''], ['obs-text', 'caf\xe9']];
  const block = encodeHeaderBlock(fields);
  t.same([...block.subarray(0, 6)], [0x02, 0x04, 0x50, 0x4f, 0x53, 0x54], ':method by its index in the static table, its value literal');
  t.equal(block[6], 0, 'a name not in the static table: literal');
  const d = decoder();
  t.same(d.decode(block), fields);
  t.same(table(d), [], "nothing enters the server's table");
});

t.test("our request blocks: the names in the static table by their index, as a gRPC call's", async (t) => {
  const fields: HeaderField[] = [
    [':method', 'POST'], [':scheme', 'http'], [':path', '/grpc.health.v1.Health/Check'], [':authority', '127.0.0.1:50051'],
    ['content-type', 'application/grpc'], ['te', 'trailers'], ['grpc-timeout', '999m'], ['user-agent', 'grpc_health_probe'],
  ];
  const block = encodeHeaderBlock(fields);
  t.same(decoder().decode(block), fields, 'decoded as sent');
  // Each field: 0000 then its name's index in RFC 7541 Appendix A on 4 bits (31 and 58 past 15), or 0 and the name.
  const literal = (text: string): number[] => [text.length, ...Buffer.from(text, 'latin1')];
  t.same([...block], [
    0x02, ...literal('POST'), 0x06, ...literal('http'), 0x04, ...literal('/grpc.health.v1.Health/Check'),
    0x01, ...literal('127.0.0.1:50051'), 0x0f, 0x10, ...literal('application/grpc'), 0x00, ...literal('te'),
    ...literal('trailers'), 0x00, ...literal('grpc-timeout'), ...literal('999m'), 0x0f, 0x2b, ...literal('grpc_health_probe'),
  ]);
});
