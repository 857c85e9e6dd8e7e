// The runtime the Bun build embeds the agent in: a copy of the bun of @oven/bun-linux-x64 in which every name of
// the environment the runtime reads, BUN_<NAME>, is renamed LGD_<NAME>. The agent inherits the app's environment
// (Cloud Foundry, Docker HEALTHCHECK), and Bun 1.4.5 reads about a hundred such names, some of which steer a
// compiled executable from outside, for instance:
//   BUN_OPTIONS    extra runtime flags (--preload FILE, --inspect, --smol...), Bun's NODE_OPTIONS, which Bun
//                  applies to compiled executables too: `--require /app/otel.js` from an app's environment would
//                  make the agent exit 1 with `preload not found`, before any of its code runs;
//   BUN_BE_BUN     turns the executable into the plain bun CLI;
//   BUN_INSPECT*   (and _CONNECT_TO, _NOTIFY, _PRELOAD) an inspector; with `?break=1` the agent hangs for good;
//   BUN_BYTECODE_ORDER_OUT, BUN_BYTECODE_ORDER_NAMES_OUT, BUN_BYTECODE_DIGEST_OUT  a file the runtime writes at exit,
//                  wherever the variable says (about 100 KB for the order);
//   BUN_CONFIG_MAX_HTTP_REQUESTS=0 a warning in the agent's stderr; BUN_GC_TIMER_DISABLE, BUN_GARBAGE_COLLECTOR_LEVEL,
//                  BUN_FEATURE_FLAG_* (IPv4, IPv6, epoll_pwait2, orphans...) how the runtime runs.
// A list of the dangerous ones was kept here until a name off the list was found to reach the agent: every name is
// renamed instead, so that a Bun that reads a new one cannot bring it in. The names are where the runtime's code
// holds them (.rodata: getenv's arguments, the tables of names it looks up, the messages that name them) and,
// in the runtime's built-in JavaScript (.bun_builtins), where that code reads an environment (`env.BUN_...`); they
// are replaced in place, byte for byte, and the new names are ours, so that an operator debugging the agent can
// still say LGD_OPTIONS=--inspect.
// Of Node's names, which Bun reads too, one is renamed the same way, NODE_TLS_REJECT_UNAUTHORIZED to
// LGDN_TLS_REJECT_UNAUTHORIZED: the checks set rejectUnauthorized themselves, so `0` from an app's environment changed
// nothing but wrote Node's warning that certificate verification is disabled (it is not) into the agent's stderr.
// The others were each set alone and changed nothing, except NODE_EXTRA_CA_CERTS, which is kept as an operator's
// trust setting (as SSL_CERT_FILE, which CF's Go binary honours too); README, "The single executable".
// BUN_JSC_* (JavaScriptCore's options) is not a name but a prefix, tested in code: that loop is replaced by the
// options the agent runs with, fixed at build time (scripts/lib/bun-jsc-options.mjs).
// MIMALLOC_* (the options of mimalloc, Bun's allocator, in any case: MIMALLOC_VERBOSE=1 printed its diagnostics
// into the agent's stderr) is never read: each option is fixed at build time (scripts/lib/bun-mimalloc-options.mjs).
// scripts/lib/bun-compile.mjs compiles against this copy (compile.executablePath); test/binary/environment.test.ts
// sets every BUN_ name the bun holds at once (to 1, then to 0) and checks that the agent behaves as in a clean
// environment.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { bakeJscOptions, sections } from './bun-jsc-options.mjs';
import { bakeMimallocOptions } from './bun-mimalloc-options.mjs';

/** Names this step must find: a Bun without them would mean it no longer knows what the runtime reads. */
const KNOWN = ['BUN_OPTIONS', 'BUN_BE_BUN', 'BUN_INSPECT', 'BUN_BYTECODE_ORDER_OUT', 'BUN_CONFIG_MAX_HTTP_REQUESTS', 'BUN_GC_TIMER_DISABLE'];

const PREFIX = Buffer.from('BUN_', 'latin1');
const RENAMED = Buffer.from('LGD_', 'latin1');
const isUpperOrDigit = (byte) => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39);

/**
 * Where a BUN_ in a section is a name of the environment. In .rodata, any BUN_ before a capital or a digit, unless
 * it is the inside of another identifier (`__BUN_DATA__`); names there are often packed end to end
 * (`..._INTERVALBUN_CONFIG_...`). In the built-in JavaScript, only a read of an environment object.
 */
const NAME_AT = {
  '.rodata': (binary, at) => binary[at - 1] !== 0x5f,
  '.bun_builtins': (binary, at) => binary.toString('latin1', at - 4, at) === 'env.',
};

/** Node's names renamed in full (same length: the bytes are replaced in place), and what they become. */
const NODE_NAMES = [['NODE_TLS_REJECT_UNAUTHORIZED', 'LGDN_TLS_REJECT_UNAUTHORIZED']];

/** Renames, in place, every name of the environment in `binary`'s runtime. */
function renameEnvironmentNames(binary) {
  renameNodeNames(binary);
  for (const name of KNOWN) {
    if (binary.indexOf(name, 0, 'latin1') === -1) throw new Error(`this Bun holds no ${name}: check which variables it reads (scripts/lib/bun-base.mjs)`);
  }
  const all = sections(binary);
  for (const [name, isName] of Object.entries(NAME_AT)) {
    const section = all[name];
    if (section === undefined) throw new Error(`this Bun has no ${name} section (scripts/lib/bun-base.mjs)`);
    const end = section.offset + section.size;
    for (let at = binary.indexOf(PREFIX, section.offset); at !== -1 && at < end; at = binary.indexOf(PREFIX, at + PREFIX.length)) {
      if (!isUpperOrDigit(binary[at + PREFIX.length]) || !isName(binary, at)) continue;
      RENAMED.copy(binary, at);
    }
  }
}

/**
 * Node's names, wherever the runtime holds them: .rodata (the tables its environment loader looks names up in) and
 * the built-in JavaScript (`process.env.NODE_...` reads, and the environment object's own special cases).
 */
function renameNodeNames(binary) {
  for (const [name, renamed] of NODE_NAMES) {
    const from = Buffer.from(name, 'latin1');
    const to = Buffer.from(renamed, 'latin1');
    let count = 0;
    for (let at = binary.indexOf(from); at !== -1; at = binary.indexOf(from, at + from.length)) {
      to.copy(binary, at);
      count += 1;
    }
    if (count === 0) throw new Error(`this Bun holds no ${name}: check which variables it reads (scripts/lib/bun-base.mjs)`);
  }
}

/** Writes the renamed copy of `bun`, its JSC and mimalloc options baked, to `out`. */
export function writeBunBase(bun, out) {
  const binary = readFileSync(bun);
  renameEnvironmentNames(binary);
  bakeMimallocOptions(binary);
  bakeJscOptions(binary);
  writeFileSync(out, binary);
  chmodSync(out, 0o755);
}
