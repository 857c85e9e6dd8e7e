// The options of mimalloc, Bun's allocator, in the runtime the Bun build embeds the agent in (scripts/lib/bun-base.mjs),
// fixed at build time as JavaScriptCore's are (scripts/lib/bun-jsc-options.mjs): the environment no longer reaches them.
//
// mimalloc reads each of its options, at its first use, from MIMALLOC_<option> in any case: from the app's
// environment (which the agent inherits), MIMALLOC_VERBOSE=1 wrote the allocator's diagnostics into the agent's
// stderr. And one setting is the agent's to make: mimalloc hands freed memory back to the kernel after
// `purge_delay` (100 ms), from a thread of its own (`mi-scavenger`) that a start creates as soon as anything is
// freed. A one-shot agent lives about 10 ms: that thread, and the bookkeeping of purges that never come, cost it
// about 10 page faults and 0.3 ms of CPU (`npm run bench:agent`); a long-lived agent's heap is a few MiB, reused
// round after round, and stays committed.
//
// Each option is an entry of mimalloc's table in .data: {long value; int init; int option; char* name; char*
// legacy_name}, init 0 (UNINIT) until the environment has been read. Every entry becomes INITIALIZED (2), with
// its default value or the one baked here, so that mimalloc never reads the environment. The table is found from
// its first option's name and checked entry by entry (the option's index, init 0); a Bun that differs stops the
// build with a message.

/** The options baked with a value of ours; every other keeps its default. */
const BAKED_MIMALLOC_OPTIONS = [['purge_delay', -1]];

import { sections } from './bun-jsc-options.mjs';

const INITIALIZED = 2;
const ENTRY = 32;

/** Bakes every mimalloc option into `binary` (a Buffer, changed in place); returns {name: value} of the table. */
export function bakeMimallocOptions(binary) {
  const s = sections(binary);
  const rodata = s['.rodata'];
  const data = s['.data'];
  if (!rodata || !data) throw new Error('no .rodata or .data section');
  const fail = (what) => new Error(`mimalloc's table of options: ${what}; this Bun differs from the one scripts/lib/bun-mimalloc-options.mjs knows`);
  const nameAt = (address) => {
    if (address < rodata.addr || address >= rodata.addr + rodata.size) return undefined;
    const from = address - rodata.addr + rodata.offset;
    const text = binary.toString('latin1', from, binary.indexOf(0, from));
    return /^[a-z_]{3,40}$/.test(text) ? text : undefined;
  };
  // The table's first entry: option 0, named show_errors.
  const anchor = Buffer.from('\0show_errors\0', 'latin1');
  let table;
  for (let at = binary.indexOf(anchor, rodata.offset); at !== -1 && at < rodata.offset + rodata.size; at = binary.indexOf(anchor, at + 1)) {
    const pointer = Buffer.alloc(8);
    pointer.writeBigUInt64LE(BigInt(at + 1 - rodata.offset + rodata.addr));
    for (let p = binary.indexOf(pointer, data.offset); p !== -1 && p < data.offset + data.size; p = binary.indexOf(pointer, p + 1)) {
      if (binary.readUInt32LE(p - 4) === 0 && binary.readUInt32LE(p - 8) === 0) table = p - 16;
    }
    if (table !== undefined) break;
  }
  if (table === undefined) throw fail('not found');
  const options = {};
  for (let i = 0, e = table; ; i++, e += ENTRY) {
    const name = nameAt(Number(binary.readBigUInt64LE(e + 16)));
    if (name === undefined) break;
    if (binary.readUInt32LE(e + 12) !== i || binary.readUInt32LE(e + 8) !== 0) throw fail(`entry ${i} (${name}) is not as expected`);
    options[name] = e;
  }
  if (Object.keys(options).length < 20 || !('verbose' in options)) throw fail('fewer entries than expected');
  const baked = {};
  for (const [name, value] of BAKED_MIMALLOC_OPTIONS) {
    if (!(name in options)) throw fail(`no option ${name}`);
    binary.writeBigInt64LE(BigInt(value), options[name]);
  }
  for (const [name, e] of Object.entries(options)) {
    binary.writeUInt32LE(INITIALIZED, e + 8);
    baked[name] = Number(binary.readBigInt64LE(e));
  }
  return baked;
}
