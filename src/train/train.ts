/**
 * Train a reward MLP on grouped data (states × candidates × true reward) with TensorFlow.js.
 * The library's autodiff and Adam do the work; this file shapes batches, schedules the learning
 * rate, measures, and hands back the weights ready for ONNX export.
 */
import type { Sequential, Tensor, Tensor2D } from '@tensorflow/tfjs';
import type { DenseLayer } from '../compress/onnx/build.js';
import { mulberry32, type Rng } from '../sim/rng.js';
import { checkSet, fillBatch, inputDim, rewardNorm, type GroupedSet } from './groups.js';
import { rewardLoss, type LossOptions, type LossParts } from './loss.js';
import { createMlp, denseLayers, mlpFlops, mlpParams, type HiddenActivation, type MlpShape } from './mlp.js';
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
  /** Hidden activation (default 'relu'). */
  activation?: HiddenActivation;
  /**
   * Distillation: a teacher's rewards for every candidate of every state (`states × k`, aligned
   * with `data.rewards`), normalised like the true rewards and handed to `objective`.
   */
  teacher?: Float32Array;
  /**
   * The loss to minimise instead of `rewardLoss` (Huber + listwise KL to the true reward):
   * `pred`, `target` (true reward) and `teacher` are `[states, candidates]` on the normalised
   * scale. Its `huber` and `kl` parts are reported as the two parts of the loss.
   */
  objective?: (tf: Tf, pred: Tensor2D, target: Tensor2D, teacher: Tensor2D | undefined) => LossParts;
  /** Warm start from these layers (reward units, as exported; the shape and activation follow them). */
  init?: DenseLayer[];
  /**
   * Called after every epoch with the network's forward pass (reward units); returns a score to
   * maximise (e.g. held-out top-1 agreement with a teacher). With `patience`, training stops when
   * the score has not improved for that many epochs; with a monitor the best epoch's weights are
   * the ones returned.
   */
  monitor?: (predict: (x: Float32Array, rows: number) => Float32Array, epoch: number) => number;
  patience?: number;
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
  /** The `monitor` score after this epoch. */
  monitor?: number;
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
  options: Required<Omit<TrainOptions, 'validation' | 'onStep' | 'onEpoch' | 'loss' | 'activation' | 'teacher' | 'objective' | 'init' | 'monitor' | 'patience'>> & { loss: Omit<LossOptions, 'scale'> };
  /** The epoch whose weights were kept (the best `monitor` score; else the last). */
  bestEpoch: number;
  /** Training stopped early (patience ran out). */
  stoppedEarly: boolean;
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
    hidden: opts.init ? opts.init.slice(0, -1).map((l) => l.outDim) : (opts.hidden ?? [512, 512, 256]),
    epochs: opts.epochs ?? 10,
    batchStates: opts.batchStates ?? 32,
    candidatesPerState: Math.min(opts.candidatesPerState ?? data.k, data.k),
    lr: opts.lr ?? 1e-3,
    lrFinal: opts.lrFinal ?? 2e-5,
    seed: opts.seed ?? 1,
    loss: { delta: 1, listwise: 1, temperature: 0.1, ...opts.loss },
  };
  const initAct = opts.init?.[0]?.activation;
  const activation: HiddenActivation = initAct === 'tanh' || initAct === 'sigmoid' || initAct === 'relu' ? initAct : (opts.activation ?? 'relu');
  const shape: MlpShape = { inDim: inputDim(data), hidden: o.hidden, ...(activation !== 'relu' ? { activation } : {}) };
  if (opts.teacher && opts.teacher.length !== data.rewards.length) throw new RangeError(`teacher has ${opts.teacher.length} rewards, expected ${data.rewards.length}`);
  const norm = (() => {
    const n = rewardNorm(data.rewards);
    return { shift: n.mean, scale: n.scale };
  })();
  const lossOpts: LossOptions = { ...o.loss, scale: norm.scale };
  const model = createMlp(tf, shape, o.seed);
  if (opts.init) setLayers(tf, model, opts.init, norm);
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
  const tr = opts.teacher ? new Float32Array(b * m) : undefined;
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
  let bestScore = -Infinity;
  let bestEpoch = 0;
  let stoppedEarly = false;
  let best: Tensor[] = [];
  const predict = (xr: Float32Array, n: number): Float32Array =>
    tf.tidy(() => {
      const y = (model.apply(tf.tensor2d(xr, [n, dim])) as Tensor2D).mul(norm.scale).add(norm.shift);
      return new Float32Array(y.dataSync());
    });
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
      if (tr) {
        for (let i = 0; i < b; i++) for (let j = 0; j < m; j++) tr[i * m + j] = opts.teacher![batch[i]! * data.k + (m < data.k ? cand[i * m + j]! : j)]!;
      }
      let parts: number[] = [];
      tf.tidy(() => {
        const xs = tf.tensor2d(x, [b * m, dim]);
        const t = tf.tensor2d(r, [b, m]).sub(norm.shift).div(norm.scale) as Tensor2D;
        const tt = tr ? (tf.tensor2d(tr, [b, m]).sub(norm.shift).div(norm.scale) as Tensor2D) : undefined;
        optimizer.minimize(() => {
          const pred = (model.apply(xs, { training: true }) as Tensor2D).reshape([b, m]) as Tensor2D;
          const l = opts.objective ? opts.objective(tf, pred, t, tt) : rewardLoss(tf, pred, t, lossOpts);
          parts = [l.huber.dataSync()[0]!, l.kl.dataSync()[0]!, l.total.dataSync()[0]!];
          return l.total;
        });
      });
      rows += b * m;
      const [hub, kl, total] = parts as [number, number, number];
      const loss = opts.objective ? total : hub + o.loss.listwise * kl;
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
    if (opts.monitor) {
      stats.monitor = opts.monitor(predict, epoch);
      if (!(stats.monitor <= bestScore)) {
        bestScore = stats.monitor;
        bestEpoch = epoch;
        for (const w of best) w.dispose();
        best = model.getWeights().map((w) => w.clone());
      }
    } else {
      bestEpoch = epoch;
    }
    history.push(stats);
    opts.onEpoch?.(stats);
    if (opts.monitor && opts.patience !== undefined && epoch - bestEpoch >= opts.patience) {
      stoppedEarly = true;
      break;
    }
  }
  if (best.length) {
    model.setWeights(best);
    for (const w of best) w.dispose();
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
    bestEpoch,
    stoppedEarly,
    predict,
    dispose(): void {
      model.dispose();
    },
  };
}

/** Loads exported layers (reward units) into a model trained on the normalised scale. */
function setLayers(tf: Tf, model: Sequential, init: DenseLayer[], norm: { shift: number; scale: number }): void {
  if (init.length !== model.layers.length) throw new RangeError(`init has ${init.length} layers, the model ${model.layers.length}`);
  const ws: Tensor[] = [];
  init.forEach((l, i) => {
    const last = i === init.length - 1;
    const w = last ? l.weight.map((v) => v / norm.scale) : l.weight;
    const bias = last ? l.bias.map((v) => (v - norm.shift) / norm.scale) : l.bias;
    ws.push(tf.tensor2d(w, [l.inDim, l.outDim]), tf.tensor1d(bias));
  });
  model.setWeights(ws);
  for (const w of ws) w.dispose();
}
