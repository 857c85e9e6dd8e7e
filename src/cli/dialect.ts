/**
 * The first single-dash long flag (`-port=8080`, `-uri`), which marks Cloud Foundry's dialect (the native one has
 * none); undefined for a native command line.
 */
export function dialectSelector(argv: readonly string[]): string | undefined {
  // A loop, not argv.find, and the regular expression for single-dash arguments only (a native command line has
  // none): every start runs this, and an array builtin's or a regular expression's first run costs it page faults.
  for (const arg of argv) if (arg[0] === '-' && arg[1] !== '-' && /^-[A-Za-z][\w-]+(=|$)/.test(arg)) return arg;
  return undefined;
}
