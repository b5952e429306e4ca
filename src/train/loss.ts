/**
 * The reward-model loss: regression that keeps the reward's scale plus a listwise term that gets
 * the decision right.
 *
 *   L = huber(pred, target; δ) + λ · KL(softmax(target·s/τ) ‖ softmax(pred·s/τ))   per state group
 *
 * `target` is the normalised true reward ((r − shift) / s), `pred` the model's output on the same
 * scale, and τ a temperature in reward units: the Boltzmann distribution of the true reward over a
 * state's candidates puts its mass on the few best actions, so the KL term spends the model's
 * capacity where the argmax is decided, which plain MSE does not (a 0.05 error on a safe action
 * matters; the same error on a −15 collision does not).
 */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from './tf.js';

export interface LossOptions {
  /** Huber threshold on the normalised reward (default 1). */
  delta: number;
  /** Weight of the listwise term (default 1). */
  listwise: number;
  /** Boltzmann temperature in reward units (default 0.1). */
  temperature: number;
  /** The reward scale s of the normalisation, so τ stays in reward units. */
  scale: number;
}

export interface LossParts {
  total: Scalar;
  huber: Scalar;
  kl: Scalar;
}

/** `pred` and `target` are `[states, candidates]`. */
export function rewardLoss(tf: Tf, pred: Tensor2D, target: Tensor2D, o: LossOptions): LossParts {
  const huber = tf.losses.huberLoss(target, pred, undefined, o.delta) as Scalar;
  const k = o.scale / o.temperature;
  const logP = tf.logSoftmax(target.mul(k));
  const logQ = tf.logSoftmax(pred.mul(k));
  const kl = tf.mean(tf.sum(tf.exp(logP).mul(logP.sub(logQ)), 1)) as Scalar;
  const total = huber.add(kl.mul(o.listwise)) as Scalar;
  return { total, huber, kl };
}
