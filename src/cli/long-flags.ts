/**
 * The native dialect's flag syntax: `--name value`, `--name=value`, `--flag`, `-h`/`--help`, `-V`/`--version`,
 * no positional arguments. Written here rather than taken from a library because this parser runs at every start
 * of a one-shot agent, where each kilobyte of code loaded costs page faults (`npm run bench:agent`): commander,
 * which parsed these flags before, was about 45 KB of the agent's start. The messages are commander's, which users
 * and scripts already know.
 *
 * Values are taken as text; what they mean is checked by the dialect (src/cli/healthcheck.ts).
 */
import { nearMiss } from '../checks/near-miss.js';
import { LifeguardFailure, usageError } from '../checks/errors.js';

export interface LongFlag {
  /** Without its dashes: `port`. */
  readonly name: string;
  /** The value's placeholder in help (`<port>`); absent for a flag that takes none. */
  readonly value?: string;
  readonly help: string;
  /** The text taken when the flag is absent. */
  readonly fallback?: string;
  /** Each occurrence adds a value; any other flag given twice is a usage error. */
  readonly repeatable?: true;
}

/** What was given: text for a valued flag, a list for a repeatable one, true for a flag without value. */
export type LongFlagValues = Readonly<Record<string, string | readonly string[] | true | undefined>>;

export type LongFlagsParse =
  | { readonly kind: 'values'; readonly values: LongFlagValues }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

const fail = (message: string): never => {
  throw new LifeguardFailure(usageError(message));
};

export function parseLongFlags(flags: readonly LongFlag[], argv: readonly string[]): LongFlagsParse {
  // One pass, plain loops: no Map, closure or array builtin (map, filter...) on the way of a valid command line, as
  // each runs for the first time in every start of a one-shot agent and costs it page faults (bench:agent).
  const values: Record<string, string | string[] | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-V' || arg === '--version') return { kind: 'version' };
    if (!arg.startsWith('-') || arg === '-') fail(`too many arguments: expected none, got '${arg}'${/^[a-z][\w-]*=/.test(arg) ? ` (a flag is written with two dashes: --${arg})` : ''}`);
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    const flag = arg.startsWith('--') ? named(flags, name) : undefined;
    if (flag === undefined) return fail(`unknown option '${equals === -1 ? arg : arg.slice(0, equals)}'${suggestion(flags, arg)}`);
    let value: string | true = true;
    if (flag.value === undefined) {
      if (equals !== -1) fail(`option '--${name}' takes no value, got '${arg.slice(equals + 1)}'`);
    } else if (equals !== -1) {
      value = arg.slice(equals + 1);
    } else {
      // As commander: the next argument is the value, whatever it looks like.
      if (i + 1 >= argv.length) fail(`option '--${name} ${flag.value}' argument missing`);
      value = argv[++i] as string;
    }
    const before = values[name];
    if (flag.repeatable) {
      if (before === undefined) values[name] = [value as string];
      else (before as string[]).push(value as string);
      continue;
    }
    if (before !== undefined) givenTwice(flags, name, before as string | true, value);
    values[name] = value;
  }
  for (const flag of flags) if (flag.fallback !== undefined && values[flag.name] === undefined) values[flag.name] = flag.fallback;
  return { kind: 'values', values };
}

function named(flags: readonly LongFlag[], name: string): LongFlag | undefined {
  for (const flag of flags) if (flag.name === name) return flag;
  return undefined;
}

function givenTwice(flags: readonly LongFlag[], name: string, first: string | true, then: string | true): never {
  const quoted = first !== true && then !== true ? ` ('${first}', then '${then}')` : '';
  const repeatable = flags.filter((flag) => flag.repeatable).map((flag) => `--${flag.name}`);
  return fail(`--${name} given more than once${quoted}; only ${repeatable.slice(0, -1).join(', ')} and ${repeatable.at(-1)} may repeat`);
}

/** ` (Did you mean --port?)` for a near miss of a known flag (at most two edits away), else nothing. */
function suggestion(flags: readonly LongFlag[], arg: string): string {
  const typed = arg.replace(/^-+/, '').split('=')[0] as string;
  const best = nearMiss(typed, [...flags.map((flag) => flag.name), 'help', 'version']);
  return best === undefined ? '' : ` (Did you mean --${best}?)`;
}

/** Help in commander's layout: usage, description, one line per flag (with its default), then `after`. */
export function formatLongFlagsHelp(command: string, description: string, flags: readonly LongFlag[], after: string): string {
  const rows: [string, string][] = [
    ['-V, --version', 'print the version'],
    ...flags.map((flag): [string, string] => [
      `--${flag.name}${flag.value === undefined ? '' : ` ${flag.value}`}`,
      `${flag.help}${flag.fallback === undefined ? '' : ` (default: "${flag.fallback}")`}`,
    ]),
    ['-h, --help', 'print this help'],
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
  return `Usage: ${command} [options]\n\n${description}\n\nOptions:\n${lines.join('\n')}\n${after}\n`;
}
