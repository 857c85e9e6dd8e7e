/**
 * `table[key]` when the table itself holds `key`, never what its prototype holds (`constructor`, `toString`,
 * `__proto__`): the lookup of a key that comes from outside, such as a flag's name or value. Not Object.hasOwn,
 * whose first call costs every start of the agent about 9 page faults (`npm run bench:agent`).
 */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.getOwnPropertyDescriptor(table, key)?.value as T | undefined;
}
