/**
 * Milliseconds on a monotonic clock, for latencies, deadlines and ticks within one process.
 *
 * Not `performance.now()`: its first use loads perf_hooks and the rest of Node's performance timeline (about ten
 * internal modules, ~0.5 ms), which a `once` agent pays at every start. process.hrtime is already loaded.
 * The origin is arbitrary, so only differences between two readings mean anything.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
