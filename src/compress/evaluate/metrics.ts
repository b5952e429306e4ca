/**
 * Fidelity metrics on typed arrays, shared by compression reports, `eval fidelity`, replay and
 * distillation. Scores are laid out as consecutive groups of candidates: rows [g·size, (g+1)·size)
 * are the candidates of one state. No allocation beyond small scratch arrays per call.
 */

type Num = ArrayLike<number>;

function check(a: Num, b: Num): void {
  if (a.length !== b.length) throw new RangeError(`arrays differ in length (${a.length} vs ${b.length})`);
}

/** Fractional ranks (1-based; ties get the mean of the ranks they span). */
export function ranks(x: Num, out: Float64Array = new Float64Array(x.length)): Float64Array {
  const n = x.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => x[i]! - x[j]!);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = r;
    i = j + 1;
  }
  return out;
}

/** Pearson correlation; NaN when either side is constant. */
export function pearson(a: Num, b: Num): number {
  check(a, b);
  const n = a.length;
  if (n === 0) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/**
 * Spearman rank correlation with ties (Pearson of fractional ranks). When both sides are
 * constant the rankings agree trivially: 1; when only one is, NaN.
 */
export function spearman(a: Num, b: Num): number {
  check(a, b);
  const ra = ranks(a);
  const rb = ranks(b);
  const ca = ra.every((v) => v === ra[0]);
  const cb = rb.every((v) => v === rb[0]);
  if (ca && cb) return 1;
  return pearson(ra, rb);
}

/** Index of the largest value (first one on ties). */
export function argmax(x: Num, from = 0, to = x.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (x[i]! > x[best]!) best = i;
  return best - from;
}

function groupsOf(n: number, groupSize: number): number {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`"groupSize" must be a positive integer (got ${groupSize})`);
  if (n % groupSize !== 0) throw new RangeError(`${n} scores do not split into groups of ${groupSize}`);
  return n / groupSize;
}

/** Mean Spearman over candidate groups (groups where it is undefined are skipped). */
export function groupedSpearman(ref: Num, test: Num, groupSize: number): number {
  check(ref, test);
  const g = groupsOf(ref.length, groupSize);
  let sum = 0;
  let count = 0;
  for (let k = 0; k < g; k++) {
    const a = Array.prototype.slice.call(ref, k * groupSize, (k + 1) * groupSize) as number[];
    const b = Array.prototype.slice.call(test, k * groupSize, (k + 1) * groupSize) as number[];
    const s = spearman(a, b);
    if (Number.isFinite(s)) {
      sum += s;
      count++;
    }
  }
  return count ? sum / count : NaN;
}

/** Share of groups where both pick the same best candidate. */
export function top1Agreement(ref: Num, test: Num, groupSize: number): number {
  check(ref, test);
  const g = groupsOf(ref.length, groupSize);
  let same = 0;
  for (let k = 0; k < g; k++) {
    if (argmax(ref, k * groupSize, (k + 1) * groupSize) === argmax(test, k * groupSize, (k + 1) * groupSize)) same++;
  }
  return g ? same / g : NaN;
}

/** Mean over groups of ref[best by ref] − ref[best by test] (≥ 0; 0 when the picks agree). */
export function regret(ref: Num, test: Num, groupSize: number): number {
  check(ref, test);
  const g = groupsOf(ref.length, groupSize);
  let sum = 0;
  for (let k = 0; k < g; k++) {
    const o = k * groupSize;
    sum += ref[o + argmax(ref, o, o + groupSize)]! - ref[o + argmax(test, o, o + groupSize)]!;
  }
  return g ? sum / g : NaN;
}

export function absErrors(ref: Num, test: Num): { max: number; mean: number } {
  check(ref, test);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(ref[i]! - test[i]!);
    if (e > max || Number.isNaN(e)) max = e;
    sum += e;
  }
  return { max, mean: ref.length ? sum / ref.length : 0 };
}

export interface Fidelity {
  rows: number;
  groupSize: number;
  maxAbsErr: number;
  meanAbsErr: number;
  /** Spearman over candidate groups (over all rows when groupSize ≥ rows). */
  spearman: number;
  top1Agreement: number;
  regret: number;
}

/**
 * All fidelity figures at once. When the rows do not split into groups of `groupSize`, the
 * trailing partial group is dropped (and `rows` says how many were used).
 */
export function fidelity(ref: Num, test: Num, groupSize: number): Fidelity {
  check(ref, test);
  const gs = Math.max(1, Math.min(groupSize, ref.length));
  const used = ref.length - (ref.length % gs);
  const r = Array.prototype.slice.call(ref, 0, used) as number[];
  const t = Array.prototype.slice.call(test, 0, used) as number[];
  const e = absErrors(ref, test);
  return {
    rows: used,
    groupSize: gs,
    maxAbsErr: e.max,
    meanAbsErr: e.mean,
    spearman: groupedSpearman(r, t, gs),
    top1Agreement: top1Agreement(r, t, gs),
    regret: regret(r, t, gs),
  };
}
