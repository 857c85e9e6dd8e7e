// Gives an x86-64 ELF executable a DT_RUNPATH without moving its dynamic section, for dist/cf-assets/healthcheck/
// (scripts/build-binary.mjs). `patchelf --set-rpath` has to grow .dynamic to add the entry and moves it; Bun's
// executable then crashes while it is relocated (patchelf 0.14: SIGSEGV before main). Changing the interpreter
// alone (patchelf --set-interpreter) works, and leaves the first page, which now holds the new .interp, mostly
// empty. So the run path is written into that page, just after the interpreter's name, and the DT_DEBUG entry,
// which only a debugger reads, becomes DT_RUNPATH pointing at it. A dynamic string is found at DT_STRTAB + d_val
// (computed in 64-bit unsigned arithmetic, so a string placed before the table is reached by wrapping around).
import { readFileSync, writeFileSync } from 'node:fs';

const PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;
const DT_NULL = 0n, DT_STRTAB = 5n, DT_RPATH = 15n, DT_DEBUG = 21n, DT_RUNPATH = 29n;
const MASK = (1n << 64n) - 1n;

export function setRunpath(file, runpath) {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file}: not a little-endian ELF64 file`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const headers = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    headers.push({
      type: elf.readUInt32LE(at),
      offset: Number(elf.readBigUInt64LE(at + 8)),
      vaddr: elf.readBigUInt64LE(at + 16),
      filesz: Number(elf.readBigUInt64LE(at + 32)),
    });
  }
  const interp = headers.find((h) => h.type === PT_INTERP);
  const dynamic = headers.find((h) => h.type === PT_DYNAMIC);
  if (!interp || !dynamic) throw new Error(`${file}: no PT_INTERP or PT_DYNAMIC (a static executable?)`);

  const text = Buffer.from(`${runpath}\0`, 'utf8');
  const at = (interp.offset + interp.filesz + 7) & ~7;
  const load = headers.find((h) => h.type === PT_LOAD && h.offset <= at && at + text.length <= h.offset + h.filesz);
  if (!load) throw new Error(`${file}: no loaded room after the interpreter's name (run patchelf --set-interpreter first)`);
  // The bytes must be free: past the program headers and the interpreter's name, and zero.
  const overlaps = headers.some((h) => h !== load && h.filesz > 0 && at < h.offset + h.filesz && h.offset < at + text.length);
  if (overlaps || at < phoff + phnum * phentsize || elf.subarray(at, at + text.length).some((b) => b !== 0)) {
    throw new Error(`${file}: the bytes after the interpreter's name are in use`);
  }

  let strtab, debugAt;
  for (let p = dynamic.offset; p < dynamic.offset + dynamic.filesz; p += 16) {
    const tag = elf.readBigInt64LE(p);
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtab = elf.readBigUInt64LE(p + 8);
    if (tag === DT_DEBUG) debugAt = p;
    if (tag === DT_RUNPATH || tag === DT_RPATH) throw new Error(`${file}: already has a run path`);
  }
  if (strtab === undefined || debugAt === undefined) throw new Error(`${file}: no DT_STRTAB or DT_DEBUG entry`);

  text.copy(elf, at);
  const vaddr = load.vaddr + BigInt(at - load.offset);
  elf.writeBigInt64LE(DT_RUNPATH, debugAt);
  elf.writeBigUInt64LE((vaddr - strtab) & MASK, debugAt + 8);
  writeFileSync(file, elf);
}
