/**
 * A value made at its first read, then kept: for the tables that only a failure, a signal or another dialect
 * reads. Every start of the agent loads their modules, and its interpreter charges about 1 K instructions for each
 * property of an object literal it evaluates (README, "How fast and how small"); a passing start reads none of them.
 */
export function lazily<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
