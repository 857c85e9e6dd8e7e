// Percentiles by the nearest-rank method: p99 of 1000 values is the 990th smallest, a value that was observed.

/** `values`: any array-like of numbers (sorted copy made here); `ps`: percentiles 0–100. Nulls when empty. */
export function percentiles(values, ps) {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]));
}

/** The middle value, or the mean of the two middle ones; NaN when empty. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
