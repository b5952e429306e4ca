/**
 * A ring of the most recent decision latencies for the live line and /readyz: p50/p99 over a
 * window without keeping history. Percentiles sort a preallocated scratch copy, so they cost
 * nothing on the hot path (they are read a few times a second, not per tick).
 */
export class LatencyRing {
  private readonly buf: Float64Array;
  private readonly scratch: Float64Array;
  private n = 0;
  private i = 0;
  constructor(size = 1024) {
    this.buf = new Float64Array(size);
    this.scratch = new Float64Array(size);
  }
  push(ms: number): void {
    this.buf[this.i] = ms;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
  }
  get size(): number {
    return this.n;
  }
  /** Percentiles (0..1) of the window, NaN when empty. */
  percentiles(ps: readonly number[]): number[] {
    if (this.n === 0) return ps.map(() => NaN);
    const s = this.scratch.subarray(0, this.n);
    s.set(this.buf.subarray(0, this.n));
    s.sort();
    return ps.map((p) => s[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))]!);
  }
  max(): number {
    let m = NaN;
    for (let k = 0; k < this.n; k++) if (!(this.buf[k]! <= m)) m = this.buf[k]!;
    return m;
  }
}
