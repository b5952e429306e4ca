/**
 * `compress prune`: magnitude pruning (threshold or target sparsity, global or per layer) or
 * structured pruning of hidden units / channels; optional sparse storage; then the same check on
 * the target as quantization (load, fidelity, side-by-side latency).
 */
import { EdgeError } from '../../errors.js';
import { decodeModel, encodeModel } from '../onnx/model.js';
import { indexGraph } from '../onnx/graph.js';
import { tensorToFloat32, floatTensor, tensorDims } from '../onnx/tensor.js';
import type { Dataset } from '../evaluate/data.js';
import { compare, load } from '../evaluate/compare.js';
import type { RunOptions } from '../evaluate/run.js';
import { buildReport, modelStats, type CompressReport } from '../report.js';
import { findCandidates, type SkippedNode } from '../quantize/common.js';
import { pruneByThreshold, pruneToSparsity } from './magnitude.js';
import { applyUnitPlans, planStructured, type UnitPlan } from './structured.js';
import { toSparseInitializers } from './sparse.js';

export interface PruneOptions extends RunOptions {
  sparsity?: number;
  threshold?: number;
  structured?: boolean;
  perLayer?: boolean;
  sparseStorage?: boolean;
  exclude?: string[];
  /** Data for the fidelity figures (never synthetic). */
  evalData?: Dataset;
  groupSize?: number;
  deployBatch?: number;
  latencyRuns?: number;
}

export interface PruneResult {
  bytes: Uint8Array;
  report: CompressReport;
  plans?: UnitPlan[];
}

export async function pruneModel(input: Uint8Array, o: PruneOptions): Promise<PruneResult> {
  if ((o.sparsity === undefined) === (o.threshold === undefined)) throw new EdgeError('E_COMPRESS_OPTION', 'give exactly one of --sparsity or --threshold');
  if (o.sparsity !== undefined && !(o.sparsity >= 0 && o.sparsity < 1)) throw new EdgeError('E_COMPRESS_OPTION', `--sparsity must be in [0, 1) (got ${o.sparsity})`);
  if (o.threshold !== undefined && !(o.threshold >= 0)) throw new EdgeError('E_COMPRESS_OPTION', `--threshold must be ≥ 0 (got ${o.threshold})`);
  if (o.structured && o.sparsity === undefined) throw new EdgeError('E_COMPRESS_OPTION', '--structured takes --sparsity (the share of hidden units / channels removed), not --threshold');
  const base = decodeModel(input, 'the input model');
  const m = decodeModel(input, 'the input model');
  const g = m.graph!;
  const changed: string[] = [];
  let skipped: SkippedNode[] = [];
  let plans: UnitPlan[] | undefined;
  const notes: string[] = [];
  const touched = new Set<string>();
  if (o.structured) {
    const p = planStructured(m, { sparsity: o.sparsity!, exclude: o.exclude ?? [] });
    if (!p.plans.length) throw new EdgeError('E_COMPRESS_NOTHING', `no MLP or Conv chain can be pruned structurally${p.skipped.length ? ` (${p.skipped.map((s) => `${s.node}: ${s.reason}`).join('; ')})` : ': the model has no dense → activation → dense or conv → activation → conv chains with private weights'}`, { details: { skipped_nodes: p.skipped } });
    applyUnitPlans(m, p.plans, 'remove');
    plans = p.plans;
    skipped = p.skipped;
    for (const pl of p.plans) changed.push(`${pl.layer} (${pl.removed.length}/${pl.units} ${pl.kind === 'conv' ? 'channels' : 'units'} removed)`);
    notes.push('unit importance = ‖incoming weights‖₂ · ‖outgoing weights‖₂; the same share is removed from every chain');
  } else {
    const idx = indexGraph(g);
    const { candidates, skipped: sk } = findCandidates(g, o.exclude ?? [], idx);
    skipped = sk;
    // Tied weights are pruned once (the tensor object is shared).
    const tensors = [...new Set(candidates.map((c) => c.layer.weight))];
    if (!tensors.length) throw new EdgeError('E_COMPRESS_NOTHING', 'the model has no MatMul/Gemm/Conv weights to prune');
    const arrays = tensors.map((t) => tensorToFloat32(t));
    if (o.threshold !== undefined) arrays.forEach((w) => pruneByThreshold(w, o.threshold!));
    else pruneToSparsity(arrays, o.sparsity!, !!o.perLayer);
    tensors.forEach((t, i) => {
      const nt = floatTensor(t.name ?? '', tensorDims(t), arrays[i]!);
      t.rawData = nt.rawData!;
      t.floatData = [];
      t.dataType = nt.dataType!;
      touched.add(t.name ?? '');
    });
    for (const c of candidates) changed.push(c.label);
    notes.push('unstructured zeros do not make onnxruntime faster (its CPU kernels are dense); use --structured for speed or --sparse-storage for file size');
  }
  if (o.sparseStorage) {
    const names = touched.size ? touched : new Set((g.initializer ?? []).map((t) => t.name ?? ''));
    const conv = toSparseInitializers(g, names);
    notes.push(conv.length ? `stored sparse: ${conv.join(', ')}` : 'no tensor is sparse enough (> 2/3 zeros) for sparse storage to be smaller; kept dense');
  }
  const outBytes = encodeModel(m);
  const runOpts: RunOptions = { ...(o.threads ? { threads: o.threads } : {}) };
  const ref = await load(input, 'the input model', runOpts);
  try {
    const test = await load(outBytes, 'the pruned model', runOpts);
    let cmp;
    try {
      cmp = await compare(ref, test, o.evalData, { groupSize: o.groupSize ?? 65, runs: o.latencyRuns ?? 200, ...runOpts });
    } finally {
      await test.session.release();
    }
    if (!o.evalData) notes.push('latency measured on zero-filled inputs; pass --eval with real inputs for fidelity figures');
    const mode = o.structured ? 'structured' : o.threshold !== undefined ? 'threshold' : o.perLayer ? 'sparsity per layer' : 'sparsity global';
    const report = buildReport({
      step: 'prune',
      mode,
      options: { ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'evalData')), ...(o.evalData ? { eval: o.evalData.source } : {}) },
      inStats: modelStats(input, base),
      outStats: modelStats(outBytes, m),
      int8Weights: 0,
      int4Weights: 0,
      cmp,
      dataSource: o.evalData ? o.evalData.source : null,
      deployBatch: o.deployBatch ?? 64,
      changed,
      skipped,
      notes,
    });
    return { bytes: outBytes, report, ...(plans ? { plans } : {}) };
  } finally {
    await ref.session.release();
  }
}
