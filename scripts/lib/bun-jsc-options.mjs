// JavaScriptCore's options in the runtime the Bun build embeds the agent in (scripts/lib/bun-base.mjs), fixed at
// build time: the environment no longer reaches them.
//
// Bun hands every environment variable named BUN_JSC_<option>=<value> to JavaScriptCore at start, before any of
// the agent's code runs. From the app's environment (which the agent inherits in Cloud Foundry and under a Docker
// HEALTHCHECK) that steers the agent (BUN_JSC_useJIT=0), prints into its output (BUN_JSC_dumpOptions=1), or ends it
// with exit 1 (`BUN_JSC_useJIT=abc`: "invalid JSC environment variable"). And some settings are the agent's to make:
// a one-shot agent runs a few kilobytes of code once, so JavaScriptCore's JIT and its warm-up thread, which
// pre-touches heap blocks, cost it page faults and gain it nothing (measured by `npm run bench:agent`: about 230
// of the agent's minor faults and 60 of the empty executable's; in liveness, CPU per check within the noise of
// the JIT's, whose tier-up threshold was set 1000 times JavaScriptCore's, and the same Private_Dirty).
//
// So the loop over the environment in Bun's JSC start-up is replaced, in the copy of bun, by stores of the baked
// options:
//   test r15, r15 ; jne LOOP        (the loop's entry, when the environment is not empty)
// becomes a jump, always taken, to the loop's first instructions, which become
//   mov byte [option], value ...    (one per baked option)
//   jmp AFTER_LOOP
// Where each option lives comes from JavaScriptCore's own table of options (name, type, offset in the options'
// storage) and from the stores Bun's start-up already makes to them (it sets useJIT=1, useWasm=1 ...): the one
// storage address that places those stores on boolean options. Every step checks what it finds; a Bun that differs
// stops the build with a message rather than a guess.

/** The options baked into the executable: [name, value]; booleans only. */
const BAKED_JSC_OPTIONS = [
  ['useJIT', false],
  ['useWarmUpMarkedBlocks', false],
];

/** The ELF sections of a 64-bit little-endian executable, by name: {addr, offset, size}. */
export function sections(binary) {
  if (binary.readUInt32BE(0) !== 0x7f454c46 || binary[4] !== 2 || binary[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(binary.readBigUInt64LE(0x28));
  const shentsize = binary.readUInt16LE(0x3a);
  const shnum = binary.readUInt16LE(0x3c);
  const shstrndx = binary.readUInt16LE(0x3e);
  const header = (i) => {
    const at = shoff + i * shentsize;
    return { name: binary.readUInt32LE(at), addr: Number(binary.readBigUInt64LE(at + 0x10)), offset: Number(binary.readBigUInt64LE(at + 0x18)), size: Number(binary.readBigUInt64LE(at + 0x20)) };
  };
  const names = header(shstrndx);
  const out = {};
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const end = binary.indexOf(0, names.offset + h.name);
    out[binary.toString('latin1', names.offset + h.name, end)] = h;
  }
  return out;
}

/** The one place of `pattern` (bytes, null for any byte) in binary[from, to); throws unless there is exactly one. */
function findUnique(binary, pattern, from, to, what) {
  const hits = [];
  const first = pattern[0];
  for (let at = binary.indexOf(first, from); at !== -1 && at + pattern.length <= to; at = binary.indexOf(first, at + 1)) {
    if (pattern.every((b, i) => b === null || binary[at + i] === b)) hits.push(at);
    if (hits.length > 1) break;
  }
  if (hits.length !== 1) throw new Error(`${what}: found ${hits.length === 0 ? 'nowhere' : 'more than once'}; this Bun differs from the one scripts/lib/bun-jsc-options.mjs knows`);
  return hits[0];
}

/**
 * JavaScriptCore's table of options: for each, {name pointer, name length + 1, description pointer, description
 * length, type (0 = bool), availability, offset in the storage}. Returns name -> {type, offset}.
 */
function optionTable(binary, s) {
  const rodata = s['.rodata'];
  const vaddrOfRodata = (offset) => offset - rodata.offset + rodata.addr;
  const anchor = Buffer.from('useWarmUpMarkedBlocks\0', 'latin1');
  // The name may sit alone or as the tail of a longer string (JSC_useWarmUpMarkedBlocks): try each place.
  for (let at = binary.indexOf(anchor, rodata.offset); at !== -1 && at < rodata.offset + rodata.size; at = binary.indexOf(anchor, at + 1)) {
    const pointer = Buffer.alloc(8);
    pointer.writeBigUInt64LE(BigInt(vaddrOfRodata(at)));
    const entry = binary.indexOf(pointer);
    if (entry === -1 || binary.readBigUInt64LE(entry + 8) !== BigInt(anchor.length)) continue;
    const read = (e) => {
      const name = Number(binary.readBigUInt64LE(e));
      const length = Number(binary.readBigUInt64LE(e + 8));
      if (name < rodata.addr || name >= rodata.addr + rodata.size || length < 2 || length > 100) return undefined;
      const from = name - rodata.addr + rodata.offset;
      const text = binary.toString('latin1', from, from + length - 1);
      if (!/^[A-Za-z0-9]+$/.test(text)) return undefined;
      return { name: text, type: binary[e + 32], offset: binary.readUInt16LE(e + 34) };
    };
    let e = entry;
    while (read(e - 40)) e -= 40;
    const table = new Map();
    for (let option = read(e); option; option = read((e += 40))) table.set(option.name, option);
    if (table.size > 100) return table;
  }
  throw new Error("JavaScriptCore's table of options: not found; this Bun differs from the one scripts/lib/bun-jsc-options.mjs knows");
}

/** Bakes BAKED_JSC_OPTIONS into `binary` (a Buffer, changed in place); returns {name: address} of what it set. */
export function bakeJscOptions(binary) {
  const s = sections(binary);
  const text = s['.text'];
  if (!text || !s['.rodata']) throw new Error('no .text or .rodata section');
  const vaddr = (offset) => offset - text.offset + text.addr;
  const rel32 = (from, to) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(to - from);
    return [...b];
  };

  // The prefix test of the loop: cmp byte [r14+i], "BUN_JSC_"[i]; jne NEXT — eight times.
  const prefix = [...'BUN_JSC_'].flatMap((c, i) => (i === 0 ? [0x41, 0x80, 0x3e, c.charCodeAt(0), 0x75, null] : [0x41, 0x80, 0x7e, i, c.charCodeAt(0), 0x75, null]));
  const test = findUnique(binary, prefix, text.offset, text.offset + text.size, 'the BUN_JSC_ loop of Bun\'s start-up');
  const next = test + 6 + binary.readInt8(test + 5);
  // NEXT: dec r15 ; je AFTER_LOOP ; then the loop's body (which loads the next variable and tests it).
  if (binary.readUIntBE(next, 3) !== 0x49ffcf || binary.readUInt16BE(next + 3) !== 0x0f84) throw new Error('the BUN_JSC_ loop: not the expected `dec r15; je` at its head');
  const after = next + 9 + binary.readInt32LE(next + 5);
  const body = next + 9;
  // The entry, just before AFTER_LOOP: test r15, r15 ; jne BODY.
  const entry = after - 9;
  if (binary.readUIntBE(entry, 5) !== 0x4d85ff0f85 || entry + 9 + binary.readInt32LE(entry + 5) !== body) throw new Error('the BUN_JSC_ loop: not the expected `test r15, r15; jne` at its entry');

  // Bun's own stores to options before the loop: mov byte [rip+disp], imm8.
  const stores = [];
  for (let at = entry - 0x400; at < entry; at++) {
    if (binary[at] === 0xc6 && binary[at + 1] === 0x05) stores.push({ address: vaddr(at) + 7 + binary.readInt32LE(at + 2), value: binary[at + 6] });
  }
  const table = optionTable(binary, s);
  const booleans = [...table.values()].filter((o) => o.type === 0);
  const votes = new Map();
  for (const { address } of stores) for (const o of booleans) votes.set(address - o.offset, (votes.get(address - o.offset) ?? 0) + 1);
  const [[storage, count], second] = [...votes].sort((a, b) => b[1] - a[1]);
  const useJit = table.get('useJIT');
  const setsUseJit = useJit && stores.some((st) => st.address === storage + useJit.offset && st.value === 1);
  if (count < 8 || (second && second[1] === count) || !setsUseJit) throw new Error("where JavaScriptCore's options are stored: not found with certainty; this Bun differs from the one scripts/lib/bun-jsc-options.mjs knows");

  const baked = {};
  const code = [];
  let pc = vaddr(body);
  for (const [name, value] of BAKED_JSC_OPTIONS) {
    const option = table.get(name);
    if (!option || option.type !== 0) throw new Error(`JavaScriptCore has no boolean option ${name}`);
    const address = storage + option.offset;
    code.push(0xc6, 0x05, ...rel32(pc + 7, address), value ? 1 : 0);
    pc += 7;
    baked[name] = `0x${address.toString(16)}`;
  }
  code.push(0xe9, ...rel32(pc + 5, vaddr(after)));
  if (body + code.length > test + prefix.length) throw new Error('the baked options do not fit in the loop they replace');
  Buffer.from(code).copy(binary, body);
  // The entry's jne BODY becomes jmp BODY (and a nop): the loop over the environment never runs.
  Buffer.from([0xe9, ...rel32(vaddr(entry + 3) + 5, vaddr(body)), 0x90]).copy(binary, entry + 3);
  return baked;
}
