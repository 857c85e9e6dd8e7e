// The runtime the Bun build embeds the agent in: a copy of the bun of @oven/bun-linux-x64 in which the names of
// the environment variables that would steer a compiled executable from outside are renamed, BUN_ -> LGD_:
//   BUN_OPTIONS    extra runtime flags (--preload FILE, --inspect, --smol...), Bun's NODE_OPTIONS, which Bun
//                  applies to compiled executables too: `--require /app/otel.js` from an app's environment would
//                  make the agent exit 1 with `preload not found`, before any of its code runs;
//   BUN_BE_BUN     turns the executable into the plain bun CLI;
//   BUN_INSPECT*   (and _CONNECT_TO, _NOTIFY, _PRELOAD) an inspector; with `?break=1` the agent hangs for good;
//   BUN_BYTECODE_ORDER_OUT, BUN_BYTECODE_ORDER_NAMES_OUT, BUN_BYTECODE_DIGEST_OUT  a file the runtime writes at exit,
//                  wherever the variable says (about 100 KB for the order).
// The agent inherits the app's environment (Cloud Foundry, Docker HEALTHCHECK), so none of these may reach it.
// BUN_JSC_* (JavaScriptCore's options) is not a name but a prefix, tested in code: that loop is replaced by the
// options the agent runs with, fixed at build time (scripts/lib/bun-jsc-options.mjs).
// MIMALLOC_* (the options of mimalloc, Bun's allocator, in any case: MIMALLOC_VERBOSE=1 printed its diagnostics
// into the agent's stderr) is never read: each option is fixed at build time (scripts/lib/bun-mimalloc-options.mjs).
// The names are replaced in place, byte for byte, wherever the binary holds them (its environment table, its
// messages); the new names are ours, so that an operator debugging the agent can still say LGD_OPTIONS=--inspect.
// scripts/lib/bun-compile.mjs compiles against this copy (compile.executablePath); test/binary/environment.test.ts
// checks that each variable is ignored.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { bakeJscOptions } from './bun-jsc-options.mjs';
import { bakeMimallocOptions } from './bun-mimalloc-options.mjs';

const RENAMED = ['BUN_OPTIONS', 'BUN_BE_BUN', 'BUN_INSPECT', 'BUN_BYTECODE_ORDER_OUT', 'BUN_BYTECODE_ORDER_NAMES_OUT', 'BUN_BYTECODE_DIGEST_OUT'];

/** Writes the renamed copy of `bun`, its JSC options baked, to `out`; returns how many times each name was replaced. */
export function writeBunBase(bun, out) {
  const binary = readFileSync(bun);
  const counts = {};
  for (const name of RENAMED) {
    const from = Buffer.from(name, 'latin1');
    const to = Buffer.from(`LGD_${name.slice(4)}`, 'latin1');
    let count = 0;
    for (let at = binary.indexOf(from); at !== -1; at = binary.indexOf(from, at + from.length)) {
      to.copy(binary, at);
      count++;
    }
    // A bun without the name would mean this step no longer knows what the runtime reads: stop, do not guess.
    if (count === 0) throw new Error(`${bun} holds no ${name}: check which variables this Bun version reads`);
    counts[name] = count;
  }
  bakeMimallocOptions(binary);
  bakeJscOptions(binary);
  writeFileSync(out, binary);
  chmodSync(out, 0o755);
  return counts;
}

