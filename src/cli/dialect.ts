/**
 * The first single-dash long flag (`-port=8080`, `-uri`), which marks Cloud Foundry's dialect (the native one has
 * none); undefined for a native command line.
 */
export function dialectSelector(argv: readonly string[]): string | undefined {
  // Loops, not argv.find or a regular expression: every start runs this, and an array builtin's or a regular
  // expression's first run costs it page faults (a Cloud Foundry start then runs none).
  for (const arg of argv) if (isSingleDashLongFlag(arg)) return arg;
  return undefined;
}

/** `-` then a letter, then one or more letters, digits, `_` or `-`, up to the end or an `=`. */
function isSingleDashLongFlag(arg: string): boolean {
  if (arg[0] !== '-' || !isLetter(arg.charCodeAt(1))) return false;
  const equals = arg.indexOf('=');
  const end = equals === -1 ? arg.length : equals;
  if (end < 3) return false;
  for (let i = 2; i < end; i++) {
    const code = arg.charCodeAt(i);
    if (!isLetter(code) && !(code >= 0x30 && code <= 0x39) && code !== 0x5f && code !== 0x2d) return false;
  }
  return true;
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
