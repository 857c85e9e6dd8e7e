/**
 * An agent command line, whichever dialect it is in: parsed into an Invocation, or a usage error thrown.
 * It runs nothing and never exits, so that the entry point and the argv fuzz tests share one path.
 */
import type { ParseArgs } from './invocation.js';

/** A single-dash long flag (`-port=8080`, `-uri`) marks Cloud Foundry's dialect; the native one has none. */
function usesCfDialect(argv: readonly string[]): boolean {
  return argv.some((arg) => /^-[A-Za-z][A-Za-z0-9-]+(=|$)/.test(arg));
}

export const parseAgentArgs: ParseArgs = async (argv, env) => {
  // Each dialect is loaded only when used: its parser library costs start-up time.
  const parse: ParseArgs = usesCfDialect(argv)
    ? (await import('./cf-dialect.js')).parseCfArgs
    : (await import('./healthcheck.js')).parseNativeArgs;
  return parse(argv, env);
};
