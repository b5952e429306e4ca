/** Order statistics for benchmarks: pure functions on arrays of samples. */

/** The q-quantile (0..1) by linear interpolation between order statistics (NumPy's default). */
export function quantile(samples: ArrayLike<number>, q: number): number {
  const n = samples.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(samples).sort();
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (samples: ArrayLike<number>): number => quantile(samples, 0.5);

export function mean(samples: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < samples.length; i++) t += samples[i]!;
  return samples.length ? t / samples.length : NaN;
}

/** Round to `digits` significant digits, for printing figures without false precision. */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}
