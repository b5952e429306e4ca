/**
 * Decision fidelity of a reward model on a dataset: how often it picks what a reference picks
 * (the teacher, or the true reward = the oracle), how it ranks each state's candidates, and what
 * its different picks cost in true reward. The arithmetic is src/compress/evaluate/metrics.ts;
 * this adds the true-reward regret and the scoring of dataset states through the engine.
 */
import { absErrors, argmax, groupedSpearman, top1Agreement } from '../compress/evaluate/metrics.js';
import { EdgeError } from '../errors.js';
import type { Scorer } from '../runtime/engine/scorer.js';
import { fillBatch, inputDim, type GroupedSet } from './groups.js';

export interface DecisionFidelity {
  states: number;
  candidates: number;
  /** Share of states where test and reference pick the same candidate. */
  top1Agreement: number;
  /** Mean Spearman rank correlation over each state's candidates. */
  spearman: number;
  /** Mean over states of true[reference's pick] − true[test's pick]. */
  regret: number;
  maxAbsErr: number;
  meanAbsErr: number;
}

/** `ref`, `test` and `truth` hold `states × k` rewards, state-major. */
export function decisionFidelity(ref: Float32Array, test: Float32Array, truth: Float32Array, k: number): DecisionFidelity {
  if (ref.length !== test.length || ref.length !== truth.length) throw new RangeError(`reward arrays differ in length (${ref.length}, ${test.length}, ${truth.length})`);
  if (ref.length % k !== 0) throw new RangeError(`${ref.length} rewards do not split into groups of ${k}`);
  const states = ref.length / k;
  let regret = 0;
  for (let s = 0; s < states; s++) {
    const o = s * k;
    regret += truth[o + argmax(ref, o, o + k)]! - truth[o + argmax(test, o, o + k)]!;
  }
  const e = absErrors(ref, test);
  return {
    states,
    candidates: k,
    top1Agreement: top1Agreement(ref, test, k),
    spearman: groupedSpearman(ref, test, k),
    regret: states ? regret / states : NaN,
    maxAbsErr: e.max,
    meanAbsErr: e.mean,
  };
}

/**
 * Every candidate of every state of `set` scored by `scorer` (input rows = observation features
 * then action columns, as the dataset's feature map): chunks of `chunk` states, one batched run each.
 */
export async function scoreSet(scorer: Scorer, set: GroupedSet, chunk = 64, onProgress?: (states: number) => void): Promise<Float32Array> {
  const dim = inputDim(set);
  const inputs = scorer.inputs;
  const width = inputs[0]?.shape[inputs[0].shape.length - 1];
  if (inputs.length !== 1 || (typeof width === 'number' && width !== dim)) {
    throw new EdgeError('E_FIDELITY_INPUT', `model ${scorer.id} takes ${inputs.length} input(s) of width ${String(width)}, but the dataset's rows have ${dim} features; compare models trained on this dataset's feature map`);
  }
  const out = new Float32Array(set.states * set.k);
  const idx = new Int32Array(chunk);
  const r = new Float32Array(chunk * set.k);
  for (let start = 0; start < set.states; start += chunk) {
    const b = Math.min(chunk, set.states - start);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    const [x] = scorer.inputBuffers(b * set.k);
    fillBatch(set, idx.subarray(0, b), x!, r);
    out.set(await scorer.scoreBuffers(b * set.k), start * set.k);
    onProgress?.(start + b);
  }
  return out;
}

export interface FidelityReport {
  data: { file: string; states: number; candidates: number };
  model: string;
  teacher: string;
  /** The model against the teacher (regret in true reward: teacher's pick − model's pick). */
  vsTeacher: DecisionFidelity;
  /** Each against the oracle (the true reward): how good the picks are. */
  modelVsOracle: { top1Agreement: number; regret: number };
  teacherVsOracle: { top1Agreement: number; regret: number };
}

/**
 * `eval fidelity`: score every state of a dataset with a model and its teacher (bundles or .onnx
 * files whose input is the dataset's feature vector) and compare their decisions.
 */
export async function fidelityReport(o: { model: string; teacher: string; data: string; trust?: string; maxStates?: number }): Promise<FidelityReport> {
  const { readDataset } = await import('../sim/dataset.js');
  const { groupedFromDataset } = await import('./data.js');
  const { selectStates } = await import('./groups.js');
  const { manifestFeatures } = await import('./export.js');
  const { openScorer } = await import('../runtime/engine/open.js');
  const trust = o.trust ? (await import('../runtime/bundle/keys.js')).loadTrustStore(o.trust) : undefined;
  const ds = await readDataset(o.data);
  let set = groupedFromDataset(ds);
  if (o.maxStates !== undefined && o.maxStates < set.states) set = selectStates(set, Array.from({ length: o.maxStates }, (_, i) => i));
  const want = JSON.stringify(manifestFeatures(ds.meta.featureMap)[0]!.columns);
  const truth = set.rewards;
  const scores: Float32Array[] = [];
  const ids: string[] = [];
  for (const path of [o.model, o.teacher]) {
    const { scorer } = await openScorer(path, { trust, intraOpThreads: 1, warmupRuns: 0 });
    try {
      const f = scorer.manifest?.features;
      if (f && (f.length !== 1 || JSON.stringify(f[0]!.columns) !== want)) {
        throw new EdgeError('E_FIDELITY_FEATURES', `model ${scorer.id} reads a different feature map than the dataset ${o.data} was made with; compare it on data generated for its features`);
      }
      scores.push(await scoreSet(scorer, set));
      ids.push(scorer.id);
    } finally {
      await scorer.release();
    }
  }
  const [model, teacher] = scores as [Float32Array, Float32Array];
  const mo = decisionFidelity(truth, model, truth, set.k);
  const to = decisionFidelity(truth, teacher, truth, set.k);
  return {
    data: { file: o.data, states: set.states, candidates: set.k },
    model: ids[0]!,
    teacher: ids[1]!,
    vsTeacher: decisionFidelity(teacher, model, truth, set.k),
    modelVsOracle: { top1Agreement: mo.top1Agreement, regret: mo.regret },
    teacherVsOracle: { top1Agreement: to.top1Agreement, regret: to.regret },
  };
}

export function formatFidelity(r: FidelityReport): string {
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const v = r.vsTeacher;
  return [
    `model             ${r.model}`,
    `teacher           ${r.teacher}`,
    `data              ${r.data.file}: ${r.data.states} states × ${r.data.candidates} candidates`,
    `top-1 agreement   ${p(v.top1Agreement)} (model's pick = teacher's pick)`,
    `Spearman          ${v.spearman.toFixed(4)} (mean over states' candidates)`,
    `mean regret       ${v.regret.toFixed(4)} (true reward of the teacher's pick − the model's)`,
    `abs reward error  max ${v.maxAbsErr.toFixed(4)}, mean ${v.meanAbsErr.toFixed(4)}`,
    `vs oracle         model top-1 ${p(r.modelVsOracle.top1Agreement)}, regret ${r.modelVsOracle.regret.toFixed(4)}; teacher top-1 ${p(r.teacherVsOracle.top1Agreement)}, regret ${r.teacherVsOracle.regret.toFixed(4)}`,
  ].join('\n');
}
