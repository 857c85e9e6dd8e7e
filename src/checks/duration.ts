/**
 * Durations in Go's syntax (`500ms`, `2s`, `1m30s`), as Cloud Foundry's flags and Diego's specs use them.
 * A bare number other than 0 is refused: `5` could mean seconds or milliseconds, and guessing wrong
 * turns a 5s timeout into a 5ms one.
 */

/** Each unit's length in ms; the units of two characters come first, as a term is read with the longest it has. */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Milliseconds, or undefined when `text` is not a non-negative Go duration: terms of a decimal number (`1`, `1.5`,
 * `1.`, `.5`) and a unit. Read character by character: every start parses --timeout, and a regular expression's
 * first use costs it page faults (bench:agent).
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    const start = at;
    let digits = 0;
    let points = 0;
    for (; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === POINT) points += 1;
      else if (code >= DIGIT_0 && code <= DIGIT_9) digits += 1;
      else break;
    }
    const unit = unitAt(text, at);
    if (digits === 0 || points > 1 || unit === undefined) return undefined;
    total += Number(text.slice(start, at)) * (UNIT_MS[unit] as number);
    at += unit.length;
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * Go's time.ParseDuration, sign included (`+1s`, `-1s`), as the Go binaries whose flags the dialects take read
 * them: milliseconds, or undefined for Go's parse error.
 */
export function goDuration(text: string): number | undefined {
  const negative = text[0] === '-';
  const ms = parseDuration(negative || text[0] === '+' ? text.slice(1) : text);
  return ms === undefined || !negative ? ms : -ms;
}

const POINT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** The unit that starts at `at`, the longest first (`ms` before `m`, as UNIT_MS lists them). */
function unitAt(text: string, at: number): string | undefined {
  for (const unit in UNIT_MS) if (text.startsWith(unit, at)) return unit;
  return undefined;
}

/** Go's String() form, for messages that quote a duration the way the CF binary does (`1m30s`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${trim(seconds)}s`;
}

function trim(n: number): string {
  return Number(n.toFixed(3)).toString();
}
