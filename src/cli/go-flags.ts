/**
 * Go's flag package as a Go program parses its command line: `-name=value`, `-name value`, `--name` alike; a
 * boolean takes `-name` or `-name=false`, never a separate value; the last of a repeated flag wins unless it
 * collects; parsing stops at the first argument that is not a flag. Errors read as Go's do
 * (`flag provided but not defined: -x`), for dialects that replace a Go binary.
 */

import { ownValue } from '../checks/own-value.js';

export type GoFlagKind = 'string' | 'bool' | 'list';

export interface GoFlagsResult {
  /** Each flag given: its last value, `'true'`/`'false'` for a boolean, every value in order for a list. */
  readonly values: ReadonlyMap<string, string | readonly string[]>;
  /** What followed the first non-flag argument. */
  readonly rest: readonly string[];
  readonly help: boolean;
}

/** Go's strconv.ParseBool. */
const BOOLS: Readonly<Record<string, boolean>> = {
  '1': true, t: true, T: true, TRUE: true, true: true, True: true,
  '0': false, f: false, F: false, FALSE: false, false: false, False: false,
};

/** Parses argv against the flags, or returns the error line Go would print. */
export function parseGoFlags(argv: readonly string[], flags: Readonly<Record<string, GoFlagKind>>): GoFlagsResult | { readonly error: string } {
  const values = new Map<string, string | string[]>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg.length < 2 || arg[0] !== '-' || arg === '--') return { values, rest: argv.slice(arg === '--' ? i + 1 : i), help: false };
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body[0] === '-' || body[0] === '=') return { error: `bad flag syntax: ${arg}` };
    const equals = body.indexOf('=');
    const name = equals === -1 ? body : body.slice(0, equals);
    const inline = equals === -1 ? undefined : body.slice(equals + 1);
    // Go stops at the first -h or -help (unless defined): the usage, whatever follows.
    if (name === 'h' || name === 'help') return { values, rest: [], help: true };
    const kind = ownValue(flags, name);
    if (kind === undefined) return { error: `flag provided but not defined: -${name}` };
    if (kind === 'bool') {
      const value = inline === undefined ? true : ownValue(BOOLS, inline);
      if (value === undefined) return { error: `invalid boolean value ${JSON.stringify(inline)} for -${name}: parse error` };
      values.set(name, String(value));
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { error: `flag needs an argument: -${name}` };
      i += 1;
      value = argv[i] as string;
    }
    if (kind === 'list') {
      const prior = values.get(name);
      values.set(name, [...(Array.isArray(prior) ? prior : []), value]);
    } else values.set(name, value);
  }
  return { values, rest: [], help: false };
}
