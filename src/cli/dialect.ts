/**
 * The first single-dash long flag (`-port=8080`, `-uri`), which marks Cloud Foundry's dialect (the native one has
 * none); undefined for a native command line.
 */
export function dialectSelector(argv: readonly string[]): string | undefined {
  return argv.find((arg) => /^-[A-Za-z][\w-]+(=|$)/.test(arg));
}
