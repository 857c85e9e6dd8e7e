/**
 * The first single-dash long flag (`-port=8080`, `-uri`), which marks Cloud Foundry's dialect (the native one has
 * none); undefined for a native command line.
 */
export function dialectSelector(argv: readonly string[]): string | undefined {
  // A loop, not argv.find: every start runs this, and an array builtin's first run costs a start page faults.
  for (const arg of argv) if (/^-[A-Za-z][\w-]+(=|$)/.test(arg)) return arg;
  return undefined;
}
