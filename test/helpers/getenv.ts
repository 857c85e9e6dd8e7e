import type { Getenv } from '../../src/cli/invocation.js';

/** The environment of a process that has these variables and no other (none by default), as the parsers read it. */
export function getenvOf(variables: Readonly<Record<string, string>> = {}): Getenv {
  return (name) => (Object.hasOwn(variables, name) ? variables[name] : undefined);
}
