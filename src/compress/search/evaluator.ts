/**
 * Hardware in the loop: a candidate student is distilled (for a rung's budget, warm-started from
 * its previous rung), compressed as the candidate says (structured pruning, int8 static
 * quantization calibrated on the data), loaded in onnxruntime-node and measured on this machine —
 * held-out fidelity to the teacher, and latency at the deployment batch timed side by side with
 * the teacher (interleaved runs, medians: machine load hits both alike).
 */
import { EdgeError, describeError } from '../../errors.js';
import type { DenseLayer } from '../onnx/build.js';
import { decodeModel, encodeModel } from '../onnx/model.js';
import type { Dataset } from '../evaluate/data.js';
import { load, type Loaded } from '../evaluate/compare.js';
import { groupedSpearman, top1Agreement } from '../evaluate/metrics.js';
import { latencySideBySide, scoreDataset } from '../evaluate/run.js';
import { applyUnitPlans, planStructured } from '../prune/structured.js';
import { quantizeModel } from '../quantize/index.js';
import { distillStudent, studentOnnx, type DistillOptions } from '../distill/distill.js';
import { fillBatch, inputDim, selectStates, type GroupedSet } from '../../train/groups.js';
import { mlpParams } from '../../train/mlp.js';
import type { Tf } from '../../train/tf.js';
import { candidateKey, effectiveHidden, type Candidate } from './space.js';

export interface Rung {
  /** Share of the training states used (a prefix of a seeded shuffle). */
  fraction: number;
  epochs: number;
}

/** Successive-halving rungs: short training on part of the data first; only the best go on. */
export const DEFAULT_RUNGS: Rung[] = [
  { fraction: 0.1, epochs: 1 },
  { fraction: 0.3, epochs: 1 },
  { fraction: 1, epochs: 1 },
];

export interface Measured {
  key: string;
  candidate: Candidate;
  rung: number;
  /** Held-out top-1 agreement with the teacher (of the compressed model). */
  top1: number;
  spearman: number;
  /**
   * Median ms per scoring call at the deployment batch, load-normalised: the student/teacher
   * ratio of interleaved runs times the teacher's latency measured once when the search began.
   * On a shared machine the raw figure of one evaluation moved by 2× between runs of the same
   * model; the ratio moves far less, because load hits both alike.
   */
  latencyMs: number;
  /** The raw medians of this evaluation (student, teacher). */
  rawLatencyMs: number;
  teacherLatencyMs: number;
  bytes: number;
  params: number;
  trainSeconds: number;
  /** Trained (uncompressed) weights, for the next rung's warm start. */
  layers: DenseLayer[];
  /** The compressed ONNX model measured. */
  model: Uint8Array;
}

export interface EvaluatorOptions {
  tf: Tf;
  train: GroupedSet;
  teacherTrain: Float32Array;
  heldOut: GroupedSet;
  teacherHeldOut: Float32Array;
  teacherModel: Uint8Array;
  io: { input: string; output: string };
  deployBatch?: number;
  latencyRuns?: number;
  rungs?: Rung[];
  distill?: Partial<Pick<DistillOptions, 'loss' | 'batchStates' | 'candidatesPerState' | 'lr' | 'seed' | 'useTruth'>>;
  /** Rows used to calibrate int8 activations (default 32 states × k). */
  calibStates?: number;
}

/** Rows (state-major, all candidates) of some states as a compress Dataset of one named input. */
export function rowsDataset(set: GroupedSet, states: number, input: string, source: string): Dataset {
  const n = Math.min(states, set.states);
  const dim = inputDim(set);
  const data = new Float32Array(n * set.k * dim);
  fillBatch(set, Int32Array.from({ length: n }, (_, i) => i), data, new Float32Array(n * set.k));
  return { rows: n * set.k, inputs: { [input]: { dims: [n * set.k, dim], data } }, source };
}

export interface Evaluator {
  readonly rungs: Rung[];
  /** The teacher's latency at the deployment batch when the search began (the normalisation). */
  readonly teacherRefMs: number;
  readonly deployBatch: number;
  evaluate(c: Candidate, rung: number, warm?: DenseLayer[]): Promise<Measured>;
  /** Compress a trained dense student as a candidate says (also used by the pipeline). */
  compress(c: Candidate, layers: DenseLayer[]): Promise<Uint8Array>;
  release(): Promise<void>;
}

export async function createEvaluator(o: EvaluatorOptions): Promise<Evaluator> {
  const rungs = o.rungs ?? DEFAULT_RUNGS;
  const deployBatch = o.deployBatch ?? 65;
  const k = o.train.k;
  const teacher: Loaded = await load(o.teacherModel, 'the teacher', { threads: 1 });
  const held = rowsDataset(o.heldOut, o.heldOut.states, o.io.input, 'held-out states');
  const teacherRefMs = (await latencySideBySide(teacher, teacher, held, [deployBatch], { runs: 200, warmup: 20 }))[0]!.aMs;
  const calib = rowsDataset(o.train, o.calibStates ?? 32, o.io.input, 'training states (calibration)');
  const subsets = rungs.map((r) => {
    const n = Math.max(Math.min(o.train.states, 2 * (o.distill?.batchStates ?? 128)), Math.round(o.train.states * r.fraction));
    const idx = Array.from({ length: Math.min(n, o.train.states) }, (_, i) => i);
    return r.fraction >= 1 ? { set: o.train, teacher: o.teacherTrain } : { set: selectStates(o.train, idx), teacher: selectStates({ ...o.train, rewards: o.teacherTrain }, idx).rewards };
  });

  async function compress(c: Candidate, layers: DenseLayer[]): Promise<Uint8Array> {
    let bytes = studentOnnx(layers, o.io);
    if (c.sparsity > 0) {
      const m = decodeModel(bytes);
      const p = planStructured(m, { sparsity: c.sparsity });
      if (p.plans.length) {
        applyUnitPlans(m, p.plans, 'remove');
        bytes = encodeModel(m);
      }
    }
    if (c.bits === 8) {
      const q = await quantizeModel(bytes, { mode: 'static', calib, groupSize: k, deployBatch, latencyRuns: 10, threads: 1 });
      bytes = q.bytes;
    }
    return bytes;
  }

  return {
    rungs,
    teacherRefMs,
    deployBatch,
    compress,
    async evaluate(c, rung, warm) {
      const r = rungs[rung];
      if (!r) throw new RangeError(`rung ${rung} does not exist (${rungs.length} rungs)`);
      const sub = subsets[rung]!;
      const t0 = performance.now();
      const d = await distillStudent(o.tf, {
        ...o.distill,
        train: sub.set,
        teacherTrain: sub.teacher,
        heldOut: o.heldOut,
        teacherHeldOut: o.teacherHeldOut,
        arch: { hidden: c.hidden, activation: c.activation },
        epochs: r.epochs,
        patience: r.epochs,
        ...(warm ? { init: warm } : {}),
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      let model: Uint8Array;
      try {
        model = await compress(c, d.layers);
      } catch (e) {
        throw new EdgeError('E_SEARCH_COMPRESS', `candidate ${candidateKey(c)} could not be compressed (${describeError(e).split('\n')[0]})`, { cause: e });
      }
      const s = await load(model, `candidate ${candidateKey(c)}`, { threads: 1 });
      try {
        const pred = await scoreDataset(s.session, s.model, held);
        const lat = await latencySideBySide(teacher, s, held, [deployBatch], { runs: o.latencyRuns ?? 100, warmup: 10 });
        const l = lat[0]!;
        return {
          key: candidateKey(c),
          candidate: c,
          rung,
          top1: top1Agreement(o.teacherHeldOut, pred, k),
          spearman: groupedSpearman(o.teacherHeldOut, pred, k),
          latencyMs: (l.bMs / l.aMs) * teacherRefMs,
          rawLatencyMs: l.bMs,
          teacherLatencyMs: l.aMs,
          bytes: model.length,
          params: mlpParams({ inDim: inputDim(o.train), hidden: effectiveHidden(c) }),
          trainSeconds,
          layers: d.layers,
          model,
        };
      } finally {
        await s.session.release();
      }
    },
    async release() {
      await teacher.session.release();
    },
  };
}
