/**
 * The compression report: one shape for quantize and prune (and the pipeline), printed as text
 * for people and as JSON (`--json`) for scripts and bundle provenance.
 */
import { decodeModel } from './onnx/model.js';
import type { ModelProto } from './onnx/proto.js';
import { DataType, toNumber } from './onnx/proto.js';
import { tensorDims, tensorToFloat32 } from './onnx/tensor.js';
import type { Comparison } from './evaluate/compare.js';
import type { SkippedNode } from './quantize/common.js';

export interface ModelStats {
  bytes: number;
  /** Values in initializers (dense and sparse), any dtype. */
  params: number;
  /** Float weights that are exactly zero / float weights. */
  zeros: number;
  floatWeights: number;
}

export function modelStats(bytes: Uint8Array, m: ModelProto = decodeModel(bytes)): ModelStats {
  let params = 0;
  let zeros = 0;
  let floatWeights = 0;
  for (const t of m.graph?.initializer ?? []) {
    const n = tensorDims(t).reduce((a, b) => a * b, 1);
    params += n;
    if (t.dataType === DataType.FLOAT && n > 1) {
      floatWeights += n;
      const v = tensorToFloat32(t);
      for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    }
  }
  for (const s of m.graph?.sparseInitializer ?? []) {
    const dense = (s.dims ?? []).reduce((a: number, b) => a * toNumber(b), 1);
    const nnz = tensorDims(s.values ?? {}).reduce((a, b) => a * b, 1);
    params += dense;
    floatWeights += dense;
    zeros += dense - nnz;
  }
  return { bytes: bytes.length, params, zeros, floatWeights };
}

export interface CompressReport {
  step: 'quantize' | 'prune';
  mode: string;
  options: Record<string, unknown>;
  bytes_in: number;
  bytes_out: number;
  size_ratio: number;
  params_in: number;
  params_out: number;
  /** Share of exactly-zero weights (float weights) in the output. */
  sparsity: number;
  int8_share: number;
  int4_share: number;
  latency: Array<{ batch: number; in_ms: number; out_ms: number; ratio: number }>;
  latency_ratio_b1: number | null;
  latency_ratio_b64: number | null;
  fidelity_data: string | null;
  fidelity: { rows: number; group_size: number; max_abs_err: number; mean_abs_err: number; spearman: number; top1_agreement: number; regret: number } | null;
  spearman: number | null;
  top1_agreement: number | null;
  max_abs_err: number | null;
  mean_abs_err: number | null;
  loads: boolean;
  /** At the deployment batch, the output model is not faster than the input. */
  slower: boolean;
  deploy_batch: number;
  changed_nodes: string[];
  skipped_nodes: SkippedNode[];
  sensitivity?: Array<{ node: string; spearman: number; top1_agreement: number; mean_abs_err: number }>;
  auto_excluded?: string[];
  target?: { min_spearman?: number; min_top1?: number; met: boolean };
  notes: string[];
}

export function buildReport(args: {
  step: CompressReport['step'];
  mode: string;
  options: Record<string, unknown>;
  inStats: ModelStats;
  outStats: ModelStats;
  int8Weights: number;
  int4Weights: number;
  cmp: Comparison;
  dataSource: string | null;
  deployBatch: number;
  changed: string[];
  skipped: SkippedNode[];
  notes?: string[];
}): CompressReport {
  const { inStats, outStats, cmp } = args;
  const lat = cmp.latency.map((l) => ({ batch: l.batch, in_ms: round(l.aMs, 4), out_ms: round(l.bMs, 4), ratio: round(l.ratio, 3) }));
  const at = (b: number) => lat.find((l) => l.batch === b)?.ratio ?? null;
  const f = cmp.fidelity;
  const totalW = Math.max(1, args.int8Weights + args.int4Weights + outStats.floatWeights);
  // A fixed-batch model is judged at the batch it takes.
  const judged = lat.find((l) => l.batch === args.deployBatch) ?? lat[lat.length - 1];
  const deploy = judged ? judged.ratio : null;
  return {
    step: args.step,
    mode: args.mode,
    options: args.options,
    bytes_in: inStats.bytes,
    bytes_out: outStats.bytes,
    size_ratio: round(outStats.bytes / inStats.bytes, 4),
    params_in: inStats.params,
    params_out: outStats.params,
    sparsity: round(outStats.floatWeights ? outStats.zeros / outStats.floatWeights : 0, 4),
    int8_share: round(args.int8Weights / totalW, 4),
    int4_share: round(args.int4Weights / totalW, 4),
    latency: lat,
    latency_ratio_b1: at(1),
    latency_ratio_b64: at(64),
    fidelity_data: args.dataSource,
    fidelity: f
      ? { rows: f.rows, group_size: f.groupSize, max_abs_err: f.maxAbsErr, mean_abs_err: f.meanAbsErr, spearman: round(f.spearman, 6), top1_agreement: round(f.top1Agreement, 4), regret: f.regret }
      : null,
    spearman: f ? round(f.spearman, 6) : null,
    top1_agreement: f ? round(f.top1Agreement, 4) : null,
    max_abs_err: f ? f.maxAbsErr : null,
    mean_abs_err: f ? f.meanAbsErr : null,
    loads: true,
    slower: deploy !== null && deploy >= 1,
    deploy_batch: judged ? judged.batch : args.deployBatch,
    changed_nodes: args.changed,
    skipped_nodes: args.skipped,
    notes: args.notes ?? [],
  };
}

function round(x: number, d: number): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

function kb(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`;
}

/** The human-readable report. */
export function formatReport(r: CompressReport): string {
  const lines: string[] = [];
  lines.push(`${r.step} (${r.mode})`);
  lines.push(`  size        ${kb(r.bytes_in)} -> ${kb(r.bytes_out)}  (${r.size_ratio.toFixed(3)}x)`);
  lines.push(`  parameters  ${r.params_in} -> ${r.params_out}   sparsity ${(r.sparsity * 100).toFixed(1)}%   int8 ${(r.int8_share * 100).toFixed(1)}%   int4 ${(r.int4_share * 100).toFixed(1)}%`);
  if (r.latency.length) {
    lines.push('  latency     batch   input ms   output ms   ratio   (side by side, medians)');
    for (const l of r.latency) lines.push(`              ${String(l.batch).padStart(5)}   ${l.in_ms.toFixed(4).padStart(8)}   ${l.out_ms.toFixed(4).padStart(9)}   ${l.ratio.toFixed(3)}`);
  }
  if (r.fidelity) {
    const f = r.fidelity;
    lines.push(`  fidelity    on ${r.fidelity_data} (${f.rows} rows, groups of ${f.group_size})`);
    lines.push(`              max abs err ${f.max_abs_err.toPrecision(4)}   mean abs err ${f.mean_abs_err.toPrecision(4)}   spearman ${f.spearman.toFixed(5)}   top-1 ${f.top1_agreement.toFixed(4)}   regret ${f.regret.toPrecision(3)}`);
  } else {
    lines.push('  fidelity    not measured (no data given: pass --calib or --eval with real inputs)');
  }
  lines.push(`  changed     ${r.changed_nodes.length} node(s)${r.changed_nodes.length ? ': ' + r.changed_nodes.join(', ') : ''}`);
  if (r.skipped_nodes.length) {
    lines.push(`  skipped     ${r.skipped_nodes.length} node(s) left as they were:`);
    for (const s of r.skipped_nodes) lines.push(`              ${s.node} (${s.op}): ${s.reason}`);
  }
  if (r.sensitivity?.length) {
    lines.push('  sensitivity (each node quantized alone, on the calibration data; most harmful first)');
    for (const s of r.sensitivity) lines.push(`              ${s.node}: spearman ${s.spearman.toFixed(5)}  top-1 ${s.top1_agreement.toFixed(4)}  mean abs err ${s.mean_abs_err.toPrecision(3)}`);
  }
  if (r.auto_excluded?.length) lines.push(`  kept float  ${r.auto_excluded.join(', ')} (to meet the fidelity target)`);
  if (r.target) lines.push(`  target      ${r.target.met ? 'met' : 'NOT met'} (min spearman ${r.target.min_spearman ?? '-'}, min top-1 ${r.target.min_top1 ?? '-'})`);
  if (r.slower) lines.push(`  WARNING     the output is not faster than the input at batch ${r.deploy_batch} on this machine`);
  for (const n of r.notes) lines.push(`  note        ${n}`);
  return lines.join('\n');
}
