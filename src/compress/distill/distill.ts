/**
 * Knowledge distillation of a reward model: a student MLP trained with TensorFlow.js (the
 * teacher's own training library, through src/train's loop) on `α·L_sup + (1−α)·L_KL` against
 * the teacher's scores of the same states, early-stopped on held-out fidelity to the teacher.
 */
import type { Tensor2D } from '@tensorflow/tfjs';
import { buildMlpModel, type DenseLayer } from '../onnx/build.js';
import { groupedSpearman, top1Agreement } from '../evaluate/metrics.js';
import { fillBatch, inputDim, rewardNorm, type GroupedSet } from '../../train/groups.js';
import { mlpParams, type HiddenActivation } from '../../train/mlp.js';
import { trainRewardModel, type EpochStats } from '../../train/train.js';
import type { Tf } from '../../train/tf.js';
import { DEFAULT_DISTILL_LOSS, distillLoss, type DistillLossOptions } from './loss.js';

export interface StudentArch {
  hidden: number[];
  activation: HiddenActivation;
}

export interface DistillOptions {
  train: GroupedSet;
  /** The teacher's rewards for `train` (states × k). */
  teacherTrain: Float32Array;
  /** Held-out states for early stopping (fidelity to the teacher) and their teacher rewards. */
  heldOut: GroupedSet;
  teacherHeldOut: Float32Array;
  arch: StudentArch;
  /** Maximum epochs (default 8). */
  epochs?: number;
  /** Stop after this many epochs without a better held-out score (default 2). */
  patience?: number;
  /** Use the data's true rewards for L_sup (default true; false when the data has none). */
  useTruth?: boolean;
  loss?: Partial<Omit<DistillLossOptions, 'scale'>>;
  /** States per step (default 128: small students are per-step overhead bound in TF.js). */
  batchStates?: number;
  /** Candidates per state per step, the true best always among them (default: all). */
  candidatesPerState?: number;
  lr?: number;
  lrFinal?: number;
  seed?: number;
  /** Warm start (reward units), e.g. the search's weights or a pruned student. */
  init?: DenseLayer[];
  onStep?: (p: { epoch: number; step: number; stepsPerEpoch: number; loss: number }) => void;
  onEpoch?: (e: EpochStats) => void;
}

export interface HeldOutFidelity {
  states: number;
  top1: number;
  spearman: number;
}

export interface DistillResult {
  arch: StudentArch;
  params: number;
  layers: DenseLayer[];
  history: Array<{ epoch: number; loss: number; sup: number; kl: number; top1: number; spearman: number; seconds: number }>;
  bestEpoch: number;
  stoppedEarly: boolean;
  heldOut: HeldOutFidelity;
  seconds: number;
  loss: Omit<DistillLossOptions, 'scale'>;
}

/** The monitor: top-1 agreement with the teacher, Spearman as a small tie-breaker. */
export function monitorScore(f: HeldOutFidelity): number {
  return f.top1 + 0.1 * f.spearman;
}

/** Scores held-out states with a forward pass and compares with the teacher. */
export function heldOutFidelity(predict: (x: Float32Array, rows: number) => Float32Array, set: GroupedSet, teacher: Float32Array, chunk = 128): HeldOutFidelity {
  const dim = inputDim(set);
  const pred = new Float32Array(set.states * set.k);
  const x = new Float32Array(chunk * set.k * dim);
  const r = new Float32Array(chunk * set.k);
  const idx = new Int32Array(chunk);
  for (let s = 0; s < set.states; s += chunk) {
    const b = Math.min(chunk, set.states - s);
    for (let i = 0; i < b; i++) idx[i] = s + i;
    fillBatch(set, idx.subarray(0, b), x, r);
    pred.set(predict(x.subarray(0, b * set.k * dim), b * set.k), s * set.k);
  }
  return { states: set.states, top1: top1Agreement(teacher, pred, set.k), spearman: groupedSpearman(teacher, pred, set.k) };
}

export async function distillStudent(tf: Tf, o: DistillOptions): Promise<DistillResult> {
  const loss = { ...DEFAULT_DISTILL_LOSS, ...o.loss };
  const useTruth = o.useTruth !== false;
  let last: HeldOutFidelity = { states: 0, top1: NaN, spearman: NaN };
  const fids = new Map<number, HeldOutFidelity>();
  // With no true rewards the teacher's scores stand in as the data's rewards (normalisation, batches).
  const train = useTruth ? o.train : { ...o.train, rewards: o.teacherTrain };
  // T is in reward units: the objective needs the scale trainRewardModel normalises by (same function).
  const scale = rewardNorm(train.rewards).scale;
  const res = await trainRewardModel(tf, train, {
    hidden: o.arch.hidden,
    activation: o.arch.activation,
    epochs: o.epochs ?? 8,
    batchStates: o.batchStates ?? 128,
    ...(o.candidatesPerState ? { candidatesPerState: o.candidatesPerState } : {}),
    lr: o.lr ?? 3e-3,
    lrFinal: o.lrFinal ?? 1e-4,
    seed: o.seed ?? 1,
    teacher: o.teacherTrain,
    ...(o.init ? { init: o.init } : {}),
    objective: (tfx, pred, target, teacher) => distillLoss(tfx, pred, teacher as Tensor2D, useTruth ? target : undefined, { ...loss, scale }),
    monitor: (predict, epoch) => {
      last = heldOutFidelity(predict, o.heldOut, o.teacherHeldOut);
      fids.set(epoch, last);
      return monitorScore(last);
    },
    patience: o.patience ?? 2,
    ...(o.onStep ? { onStep: (p) => o.onStep!({ epoch: p.epoch, step: p.step, stepsPerEpoch: p.stepsPerEpoch, loss: p.loss }) } : {}),
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  });
  const layers = res.layers;
  res.dispose();
  const best = fids.get(res.bestEpoch) ?? last;
  return {
    arch: o.arch,
    params: mlpParams({ inDim: inputDim(o.train), hidden: o.arch.hidden }),
    layers,
    history: res.history.map((h) => ({
      epoch: h.epoch,
      loss: h.train.loss,
      sup: h.train.huber,
      kl: h.train.kl,
      top1: fids.get(h.epoch)?.top1 ?? NaN,
      spearman: fids.get(h.epoch)?.spearman ?? NaN,
      seconds: h.seconds,
    })),
    bestEpoch: res.bestEpoch,
    stoppedEarly: res.stoppedEarly,
    heldOut: best,
    seconds: res.seconds,
    loss,
  };
}

/** The student as ONNX with the teacher's input and output names. */
export function studentOnnx(layers: DenseLayer[], io: { input: string; output: string }, doc = ''): Uint8Array {
  return buildMlpModel({ inputName: io.input, outputName: io.output, layers, opset: 17, producer: 'edgereward-distill', docString: doc });
}
