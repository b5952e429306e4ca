/**
 * Training input shaped by decision: the candidates of one state form a group, because the loss
 * compares them (listwise) and a decision picks among them. A set stores each state's observation
 * columns once and the candidates' action columns once (the grid is the same for every state), and
 * batches are assembled on the fly as `[states, candidates, features]` rows — the full
 * `states × 65 × 39` float matrix would be 200 MB for 20k states.
 *
 * Pure functions on typed arrays; no TensorFlow here.
 */

export interface GroupedSet {
  /** Number of states (groups). */
  states: number;
  /** Candidates per state. */
  k: number;
  /** Observation columns per state (model input columns before the action columns). */
  obsDim: number;
  /** Action columns per candidate (after scaling: the model's input values). */
  actDim: number;
  /** `states × obsDim`, row-major. */
  obs: Float32Array;
  /** `k × actDim`, row-major: the candidates' action columns as the model sees them. */
  act: Float32Array;
  /** `states × k`: the true reward of each candidate. */
  rewards: Float32Array;
}

/** Model input width: observation columns then action columns (the sim's feature order). */
export function inputDim(s: Pick<GroupedSet, 'obsDim' | 'actDim'>): number {
  return s.obsDim + s.actDim;
}

/** Throws a RangeError naming the first inconsistent array. */
export function checkSet(s: GroupedSet): void {
  if (s.obs.length !== s.states * s.obsDim) throw new RangeError(`obs has ${s.obs.length} values, expected ${s.states}×${s.obsDim}`);
  if (s.act.length !== s.k * s.actDim) throw new RangeError(`act has ${s.act.length} values, expected ${s.k}×${s.actDim}`);
  if (s.rewards.length !== s.states * s.k) throw new RangeError(`rewards has ${s.rewards.length} values, expected ${s.states}×${s.k}`);
}

/**
 * Writes the input rows of `states` (indices into the set) into `x` as `[states.length, m, dim]`,
 * and their rewards into `r` as `[states.length, m]`. With `cand` (`states.length × m` candidate
 * indices) only those candidates are written, in that order; without it all `k` (m = k).
 */
export function fillBatch(
  s: GroupedSet,
  states: ArrayLike<number>,
  x: Float32Array,
  r: Float32Array,
  cand?: Int32Array,
  m: number = s.k,
): void {
  const dim = s.obsDim + s.actDim;
  const { obsDim, actDim, k } = s;
  for (let b = 0; b < states.length; b++) {
    const st = states[b]!;
    const obsRow = s.obs.subarray(st * obsDim, st * obsDim + obsDim);
    for (let j = 0; j < m; j++) {
      const c = cand ? cand[b * m + j]! : j;
      const o = (b * m + j) * dim;
      x.set(obsRow, o);
      for (let a = 0; a < actDim; a++) x[o + obsDim + a] = s.act[c * actDim + a]!;
      r[b * m + j] = s.rewards[st * k + c]!;
    }
  }
}

/** A subset of the states (a view when contiguous is not needed: copies the selected rows). */
export function selectStates(s: GroupedSet, idx: ArrayLike<number>): GroupedSet {
  const obs = new Float32Array(idx.length * s.obsDim);
  const rewards = new Float32Array(idx.length * s.k);
  for (let i = 0; i < idx.length; i++) {
    const st = idx[i]!;
    obs.set(s.obs.subarray(st * s.obsDim, (st + 1) * s.obsDim), i * s.obsDim);
    rewards.set(s.rewards.subarray(st * s.k, (st + 1) * s.k), i * s.k);
  }
  return { ...s, states: idx.length, obs, rewards };
}

/** Robust location and scale of the rewards: median and interquartile range / 1.349 (≈ σ for a
 * normal). Collision penalties are a large, rare mode; mean and standard deviation would let them
 * set the scale and squash the small differences between safe actions that decide the choice. */
export function rewardNorm(rewards: Float32Array): { mean: number; scale: number } {
  const step = Math.max(1, Math.floor(rewards.length / 200_000));
  const sample: number[] = [];
  for (let i = 0; i < rewards.length; i += step) sample.push(rewards[i]!);
  sample.sort((a, b) => a - b);
  const q = (p: number): number => sample[Math.min(sample.length - 1, Math.floor(p * sample.length))] ?? 0;
  const iqr = q(0.75) - q(0.25);
  return { mean: q(0.5), scale: iqr > 1e-6 ? iqr / 1.349 : 1 };
}

/** Two sets of the same shape as one (copies): e.g. the original data plus on-policy states. */
export function concatSets(a: GroupedSet, b: GroupedSet): GroupedSet {
  if (a.k !== b.k || a.obsDim !== b.obsDim || a.actDim !== b.actDim || !a.act.every((v, i) => v === b.act[i])) {
    throw new RangeError('sets differ in candidates or feature layout');
  }
  const obs = new Float32Array(a.obs.length + b.obs.length);
  obs.set(a.obs);
  obs.set(b.obs, a.obs.length);
  const rewards = new Float32Array(a.rewards.length + b.rewards.length);
  rewards.set(a.rewards);
  rewards.set(b.rewards, a.rewards.length);
  return { ...a, states: a.states + b.states, obs, rewards };
}
