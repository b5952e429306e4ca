/**
 * What the quantization passes share: the candidate nodes, weights as [K, N] matrices, the
 * skipped-node record and `--exclude` matching.
 */
import type { IGraphProto, INodeProto, ModelProto } from '../onnx/proto.js';
import { indexGraph, nodeLabel, type GraphIndex } from '../onnx/graph.js';
import { convLayerOf, denseLayerOf, type ConvLayer, type DenseLayer } from '../onnx/shapes.js';
import { tensorToFloat32 } from '../onnx/tensor.js';
import type { Quantized } from './math.js';

export interface SkippedNode {
  node: string;
  op: string;
  reason: string;
}

export type Candidate = { kind: 'dense'; layer: DenseLayer; label: string } | { kind: 'conv'; layer: ConvLayer; label: string };

/** Ops that carry weights worth quantizing; others are not candidates (and not "skipped"). */
export const WEIGHT_OPS = new Set(['MatMul', 'Gemm', 'Conv']);

export function matchesExclude(n: INodeProto, exclude: string[]): boolean {
  const label = nodeLabel(n);
  return exclude.some((e) => e === label || e === n.name || e === n.opType);
}

/**
 * Every MatMul/Gemm/Conv of the graph, classified: quantizable candidates, or skipped with a
 * reason (activation × activation MatMuls are not weights and are not listed).
 */
export function findCandidates(g: IGraphProto, exclude: string[], idx: GraphIndex = indexGraph(g)): { candidates: Candidate[]; skipped: SkippedNode[] } {
  const candidates: Candidate[] = [];
  const skipped: SkippedNode[] = [];
  for (const n of g.node ?? []) {
    if (!WEIGHT_OPS.has(n.opType ?? '') || (n.domain ?? '') !== '') continue;
    const label = nodeLabel(n);
    if (n.opType === 'Conv') {
      const c = convLayerOf(idx, n);
      if (!c) {
        if (idx.initializers.has(n.input?.[1] ?? '')) skipped.push({ node: label, op: 'Conv', reason: 'its weight or bias is not a plain constant tensor' });
        continue;
      }
      if (matchesExclude(n, exclude)) skipped.push({ node: label, op: 'Conv', reason: 'excluded (--exclude)' });
      else candidates.push({ kind: 'conv', layer: c, label });
      continue;
    }
    const d = denseLayerOf(idx, n);
    if (!d) {
      // A MatMul of two activations (attention scores) has no weight: nothing to quantize.
      const w = n.input?.[1] ?? '';
      if (idx.initializers.has(w)) skipped.push({ node: label, op: n.opType ?? '', reason: 'weight is not 2-D, or Gemm uses alpha/beta/transA or a broadcast bias' });
      continue;
    }
    if (matchesExclude(n, exclude)) skipped.push({ node: label, op: n.opType ?? '', reason: 'excluded (--exclude)' });
    else candidates.push({ kind: 'dense', layer: d, label });
  }
  return { candidates, skipped };
}

/** The weight of a dense layer as a row-major [K, N] matrix (x·W orientation). */
export function weightKN(l: DenseLayer): Float32Array {
  const w = tensorToFloat32(l.weight);
  if (!l.transposed) return w;
  const K = l.inDim;
  const N = l.outDim;
  const out = new Float32Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = w[n * K + k]!;
  return out;
}

/** Count of float weights covered by each candidate (for the int8/int4 share in reports). */
export function candidateWeights(c: Candidate): number {
  return c.kind === 'dense' ? c.layer.inDim * c.layer.outDim : c.layer.dims.reduce((a, b) => a * b, 1);
}

export interface PassResult {
  model: ModelProto;
  quantized: string[];
  skipped: SkippedNode[];
  /** Weights now stored as int8 / int4 (counts of values). */
  int8Weights: number;
  int4Weights: number;
}

/**
 * How weights are quantized into 8-bit storage. `bits` ≤ 8 levels are used (7 by default when
 * symmetric: onnxruntime's u8·s8 kernels on AVX2 CPUs without VNNI add pairs of products in
 * int16 with saturation, and full-range int8 weights overflow it — its own quantizer's
 * `reduce_range`); asymmetric weights are stored as uint8 with a zero point.
 */
export interface WeightQuant {
  bits: number;
  symmetric: boolean;
  pow2?: boolean;
  /**
   * Symmetric weights stored as uint8 with the zero point 128 (codes q + 128): onnxruntime then
   * runs its U8U8 kernels, which widen to int16 before multiplying and never saturate, so the
   * full ±127 range is exact on AVX2 without VNNI. Default false (int8 storage, U8S8 kernels).
   */
  unsigned?: boolean;
}

/** A quantized weight as stored in the file: int8 with zero point 0, or uint8 with a zero point. */
export interface StoredWeight {
  unsigned: boolean;
  q: Int8Array | Uint8Array;
  zeroPoint: Int8Array | Uint8Array;
}

/** The storage of quantized codes: symmetric codes move to uint8 (+128) when `unsigned` is asked. */
export function storeWeight(qt: Quantized, wq: WeightQuant): StoredWeight {
  if (!qt.symmetric) return { unsigned: true, q: qt.q, zeroPoint: qt.zeroPoint };
  if (!wq.unsigned) return { unsigned: false, q: qt.q, zeroPoint: qt.zeroPoint };
  const q = new Uint8Array(qt.q.length);
  for (let i = 0; i < q.length; i++) q[i] = qt.q[i]! + 128;
  return { unsigned: true, q, zeroPoint: new Uint8Array(qt.zeroPoint.length).fill(128) };
}

export const DEFAULT_WEIGHT: WeightQuant = { bits: 7, symmetric: true };
