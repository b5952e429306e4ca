/**
 * The distillation loss of the seed, `L = α·L_sup + (1−α)·L_KL`, for a reward model:
 *
 * - `L_KL` compares the teacher's and the student's Boltzmann distributions over each state's
 *   candidates, `softmax(r/T)` with the temperature T in reward units: KL(P_teacher ‖ P_student),
 *   averaged over states. At a low T the distribution's mass sits on the few best actions, so the
 *   term spends the student's capacity on the decision;
 * - `L_sup` is the Huber loss against the true reward where the data has it (the simulator's
 *   dataset does), on the normalised scale of training;
 * - an optional reward-regression term `β·Huber(student, teacher)` keeps the reward's scale, which
 *   the KL term alone does not constrain (softmax is shift-invariant).
 *
 * The TF.js version trains; the plain-number versions are the hand-checkable reference (tests).
 */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { LossParts } from '../../train/loss.js';
import type { Tf } from '../../train/tf.js';

export interface DistillLossOptions {
  /** Weight of the supervised term (default 0.1); 1 − α weighs the KL term. */
  alpha: number;
  /** Boltzmann temperature in reward units (default 0.1, the teacher's own listwise temperature). */
  temperature: number;
  /** Weight β of Huber(student, teacher) (default 1; 0 turns it off). */
  regression: number;
  /** Huber threshold on the normalised scale (default 1). */
  delta: number;
  /** The reward scale of the normalisation (so T stays in reward units). */
  scale: number;
}

export const DEFAULT_DISTILL_LOSS: Omit<DistillLossOptions, 'scale'> = { alpha: 0.1, temperature: 0.1, regression: 1, delta: 1 };

/**
 * `pred`, `teacher` and `truth` are `[states, candidates]` on the normalised scale. Without
 * `truth` the supervised term is 0 and α is ignored (all weight on the teacher).
 * Reported parts: `huber` = L_sup, `kl` = L_KL.
 */
export function distillLoss(tf: Tf, pred: Tensor2D, teacher: Tensor2D, truth: Tensor2D | undefined, o: DistillLossOptions): LossParts {
  const k = o.scale / o.temperature;
  const logP = tf.logSoftmax(teacher.mul(k));
  const logQ = tf.logSoftmax(pred.mul(k));
  const kl = tf.mean(tf.sum(tf.exp(logP).mul(logP.sub(logQ)), 1)) as Scalar;
  const sup = truth ? (tf.losses.huberLoss(truth, pred, undefined, o.delta) as Scalar) : (tf.scalar(0) as Scalar);
  const a = truth ? o.alpha : 0;
  let total = kl.mul(1 - a).add(sup.mul(a)) as Scalar;
  if (o.regression > 0) total = total.add((tf.losses.huberLoss(teacher, pred, undefined, o.delta) as Scalar).mul(o.regression)) as Scalar;
  return { total, huber: sup, kl };
}

/** softmax(r/T) of one state's rewards (plain numbers; reference for tests and reports). */
export function boltzmann(r: ArrayLike<number>, temperature: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < r.length; i++) max = Math.max(max, r[i]! / temperature);
  const p = new Float64Array(r.length);
  let z = 0;
  for (let i = 0; i < r.length; i++) z += p[i] = Math.exp(r[i]! / temperature - max);
  for (let i = 0; i < r.length; i++) p[i]! /= z;
  return p;
}

/** KL(p ‖ q) in nats; terms with p = 0 contribute 0. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * Math.log(p[i]! / q[i]!);
  return s;
}

/** Mean Huber loss of `a` against `b` with threshold δ. */
export function huber(a: ArrayLike<number>, b: ArrayLike<number>, delta = 1): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    s += e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
  }
  return a.length ? s / a.length : 0;
}
