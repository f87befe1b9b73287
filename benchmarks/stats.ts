// Summaries of measured samples for the benchmark tables.

/** The p-th percentile by the nearest-rank method (p in 0–100); NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0–100, got ${p}`);
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? NaN : samples.reduce((sum, x) => sum + x, 0) / samples.length;
}

/** `met` or `NOT MET`, for the last column of a result table. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'NOT MET';
}
