/**
 * Train a reward MLP on grouped data (states × candidates × true reward) with TensorFlow.js.
 * The library's autodiff and Adam do the work; this file shapes batches, schedules the learning
 * rate, measures, and hands back the weights ready for ONNX export.
 */
import type { Sequential, Tensor2D } from '@tensorflow/tfjs';
import type { DenseLayer } from '../compress/onnx/build.js';
import { mulberry32, type Rng } from '../sim/rng.js';
import { checkSet, fillBatch, inputDim, rewardNorm, type GroupedSet } from './groups.js';
import { rewardLoss, type LossOptions } from './loss.js';
import { createMlp, denseLayers, mlpFlops, mlpParams, type MlpShape } from './mlp.js';
import type { Tf } from './tf.js';

export interface TrainOptions {
  /** Hidden widths (default [512, 512, 256]). */
  hidden?: number[];
  /** Passes over the training states (default 10). */
  epochs?: number;
  /** States per step (default 32). */
  batchStates?: number;
  /** Candidates per state per step, the true best always among them (default: all). */
  candidatesPerState?: number;
  /** Adam learning rate, cosine-decayed to `lrFinal` (defaults 1e-3, 2e-5). */
  lr?: number;
  lrFinal?: number;
  loss?: Partial<Omit<LossOptions, 'scale'>>;
  seed?: number;
  /** Held-out states scored after every epoch. */
  validation?: GroupedSet;
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochStats) => void;
}

export interface StepProgress {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  huber: number;
  kl: number;
}

export interface EvalStats {
  loss: number;
  huber: number;
  kl: number;
  /** Fraction of states where the model's argmax is the true argmax. */
  top1: number;
  /** Mean over states of true reward of the best candidate minus that of the model's choice. */
  regret: number;
}

export interface EpochStats {
  epoch: number;
  train: { loss: number; huber: number; kl: number };
  validation?: EvalStats;
  seconds: number;
  lr: number;
}

export interface TrainResult {
  shape: MlpShape;
  params: number;
  /** The exported network predicts the reward itself: y·scale + shift of the trained output. */
  norm: { shift: number; scale: number };
  layers: DenseLayer[];
  history: EpochStats[];
  seconds: number;
  /** Candidate rows through forward+backward per second. */
  rowsPerSecond: number;
  /** Estimated training GFLOP/s (3 × forward FLOPs per row). */
  gflops: number;
  options: Required<Omit<TrainOptions, 'validation' | 'onStep' | 'onEpoch' | 'loss'>> & { loss: Omit<LossOptions, 'scale'> };
  /** The network's forward pass in TF.js on `rows × inDim` inputs, in reward units (parity tests). */
  predict(x: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Fills `cand` (b × m) with the true best candidate then m−1 others drawn without replacement. */
function sampleCandidates(s: GroupedSet, states: Int32Array, b: number, m: number, rng: Rng, cand: Int32Array, pool: Int32Array): void {
  const k = s.k;
  for (let i = 0; i < b; i++) {
    const st = states[i]!;
    let best = 0;
    for (let c = 1; c < k; c++) if (s.rewards[st * k + c]! > s.rewards[st * k + best]!) best = c;
    for (let c = 0; c < k; c++) pool[c] = c;
    pool[best] = k - 1;
    pool[k - 1] = best;
    cand[i * m] = best;
    for (let j = 1; j < m; j++) {
      const r = j - 1 + Math.floor(rng() * (k - 1 - (j - 1)));
      const t = pool[r]!;
      pool[r] = pool[j - 1]!;
      pool[j - 1] = t;
      cand[i * m + j] = t;
    }
  }
}

/** Scores a set with a model (forward only, chunks of states) and compares with the true rewards. */
export function evaluateSet(tf: Tf, model: Sequential, s: GroupedSet, norm: { shift: number; scale: number }, loss: LossOptions, chunk = 256): EvalStats {
  const dim = inputDim(s);
  const x = new Float32Array(chunk * s.k * dim);
  const r = new Float32Array(chunk * s.k);
  const idx = new Int32Array(chunk);
  let sums = { loss: 0, huber: 0, kl: 0, top1: 0, regret: 0 };
  for (let start = 0; start < s.states; start += chunk) {
    const b = Math.min(chunk, s.states - start);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    fillBatch(s, idx.subarray(0, b), x, r);
    const out = tf.tidy(() => {
      const xs = tf.tensor2d(x.subarray(0, b * s.k * dim), [b * s.k, dim]);
      const pred = (model.apply(xs) as Tensor2D).reshape([b, s.k]) as Tensor2D;
      const t = tf.tensor2d(r.subarray(0, b * s.k), [b, s.k]).sub(norm.shift).div(norm.scale) as Tensor2D;
      const l = rewardLoss(tf, pred, t, loss);
      return { pred: pred.dataSync() as Float32Array, parts: [l.total.dataSync()[0]!, l.huber.dataSync()[0]!, l.kl.dataSync()[0]!] };
    });
    sums.loss += out.parts[0]! * b;
    sums.huber += out.parts[1]! * b;
    sums.kl += out.parts[2]! * b;
    for (let i = 0; i < b; i++) {
      let bt = 0;
      let bm = 0;
      for (let c = 1; c < s.k; c++) {
        if (r[i * s.k + c]! > r[i * s.k + bt]!) bt = c;
        if (out.pred[i * s.k + c]! > out.pred[i * s.k + bm]!) bm = c;
      }
      if (bt === bm) sums.top1++;
      sums.regret += r[i * s.k + bt]! - r[i * s.k + bm]!;
    }
  }
  const n = Math.max(1, s.states);
  sums = { loss: sums.loss / n, huber: sums.huber / n, kl: sums.kl / n, top1: sums.top1 / n, regret: sums.regret / n };
  return sums;
}

export async function trainRewardModel(tf: Tf, data: GroupedSet, opts: TrainOptions = {}): Promise<TrainResult> {
  checkSet(data);
  const o = {
    hidden: opts.hidden ?? [512, 512, 256],
    epochs: opts.epochs ?? 10,
    batchStates: opts.batchStates ?? 32,
    candidatesPerState: Math.min(opts.candidatesPerState ?? data.k, data.k),
    lr: opts.lr ?? 1e-3,
    lrFinal: opts.lrFinal ?? 2e-5,
    seed: opts.seed ?? 1,
    loss: { delta: 1, listwise: 1, temperature: 0.1, ...opts.loss },
  };
  const shape: MlpShape = { inDim: inputDim(data), hidden: o.hidden };
  const norm = (() => {
    const n = rewardNorm(data.rewards);
    return { shift: n.mean, scale: n.scale };
  })();
  const lossOpts: LossOptions = { ...o.loss, scale: norm.scale };
  const model = createMlp(tf, shape, o.seed);
  const optimizer = tf.train.adam(o.lr);
  const setLr = (lr: number): void => {
    // AdamOptimizer reads its learningRate field on every applyGradients.
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  const rng = mulberry32(o.seed);
  const b = o.batchStates;
  const m = o.candidatesPerState;
  const dim = shape.inDim;
  const x = new Float32Array(b * m * dim);
  const r = new Float32Array(b * m);
  const cand = new Int32Array(b * m);
  const pool = new Int32Array(data.k);
  const order = new Int32Array(data.states);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const stepsPerEpoch = Math.floor(data.states / b);
  if (stepsPerEpoch < 1) throw new RangeError(`${data.states} states is fewer than one batch of ${b}`);
  const totalSteps = stepsPerEpoch * o.epochs;
  const history: EpochStats[] = [];
  const t0 = performance.now();
  let rows = 0;
  let step = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const te = performance.now();
    shuffle(order, rng);
    const acc = { loss: 0, huber: 0, kl: 0 };
    let lr = o.lr;
    for (let s = 0; s < stepsPerEpoch; s++, step++) {
      lr = o.lrFinal + 0.5 * (o.lr - o.lrFinal) * (1 + Math.cos((Math.PI * step) / totalSteps));
      setLr(lr);
      const batch = order.subarray(s * b, (s + 1) * b);
      if (m < data.k) {
        sampleCandidates(data, batch, b, m, rng, cand, pool);
        fillBatch(data, batch, x, r, cand, m);
      } else {
        fillBatch(data, batch, x, r);
      }
      let parts: number[] = [];
      tf.tidy(() => {
        const xs = tf.tensor2d(x, [b * m, dim]);
        const t = tf.tensor2d(r, [b, m]).sub(norm.shift).div(norm.scale) as Tensor2D;
        optimizer.minimize(() => {
          const pred = (model.apply(xs, { training: true }) as Tensor2D).reshape([b, m]) as Tensor2D;
          const l = rewardLoss(tf, pred, t, lossOpts);
          parts = [l.huber.dataSync()[0]!, l.kl.dataSync()[0]!];
          return l.total;
        });
      });
      rows += b * m;
      const [hub, kl] = parts as [number, number];
      const loss = hub + o.loss.listwise * kl;
      acc.loss += loss;
      acc.huber += hub;
      acc.kl += kl;
      opts.onStep?.({ epoch, step: s + 1, stepsPerEpoch, loss, huber: hub, kl });
      // Let timers and progress bars run between steps.
      if (s % 8 === 7) await new Promise<void>((res) => setImmediate(res));
    }
    const stats: EpochStats = {
      epoch,
      train: { loss: acc.loss / stepsPerEpoch, huber: acc.huber / stepsPerEpoch, kl: acc.kl / stepsPerEpoch },
      seconds: (performance.now() - te) / 1000,
      lr,
    };
    if (opts.validation) stats.validation = evaluateSet(tf, model, opts.validation, norm, lossOpts);
    history.push(stats);
    opts.onEpoch?.(stats);
  }
  const seconds = (performance.now() - t0) / 1000;
  const trainSeconds = history.reduce((a, h) => a + h.seconds, 0);
  optimizer.dispose();
  const layers = denseLayers(model, { scale: norm.scale, shift: norm.shift });
  return {
    shape,
    params: mlpParams(shape),
    norm,
    layers,
    history,
    seconds,
    rowsPerSecond: rows / Math.max(1e-9, trainSeconds),
    gflops: (rows * 3 * mlpFlops(shape)) / Math.max(1e-9, trainSeconds) / 1e9,
    options: o,
    predict(xr: Float32Array, n: number): Float32Array {
      return tf.tidy(() => {
        const y = (model.apply(tf.tensor2d(xr, [n, dim])) as Tensor2D).mul(norm.scale).add(norm.shift);
        return new Float32Array(y.dataSync());
      });
    },
    dispose(): void {
      model.dispose();
    },
  };
}
