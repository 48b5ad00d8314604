/**
 * Tiny statistics helpers for bench results (nearest-rank percentiles, rounding).
 */

/** Nearest-rank percentile (p in 0..100) of the first n values; sorts a copy. */
export function percentiles(values: Float64Array, n: number, ps: readonly number[]): number[] {
  if (n <= 0) return ps.map(() => Number.NaN);
  const sorted = values.slice(0, n).sort();
  return ps.map((p) => {
    const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
    return sorted[rank - 1] ?? Number.NaN;
  });
}

/** Rounds to a fixed number of decimals, keeping it a number (for JSON output). */
export function round(value: number, decimals = 1): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
