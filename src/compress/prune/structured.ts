/**
 * Structured pruning: remove whole hidden units of MLP chains (dense → [bias] → [activation] →
 * dense) and whole channels of Conv chains (conv → [activation] → conv), shrinking the first
 * layer's outputs and the next layer's inputs so the smaller model really runs faster.
 *
 * Unit importance: ‖incoming weights of unit j‖₂ · ‖outgoing weights of unit j‖₂ (a unit with
 * small fan-in can still matter if it drives the next layer hard, and vice versa). Removing a
 * unit is exactly the original model with that unit's output masked to zero (`maskUnits`).
 * Every decision is taken on the original weights, then all chains are rewritten.
 */
import type { ITensorProto, ModelProto } from '../onnx/proto.js';
import { indexGraph, nodeLabel, type GraphIndex } from '../onnx/graph.js';
import { convChains, denseChains, type Chain, type ConvLayer, type DenseLayer } from '../onnx/shapes.js';
import { floatTensor, tensorDims, tensorToFloat32 } from '../onnx/tensor.js';
import type { SkippedNode } from '../quantize/common.js';

export interface StructuredOptions {
  /** Share of hidden units / channels removed from each chain. */
  sparsity: number;
  exclude?: string[];
}

export interface UnitPlan {
  /** Label of the layer whose outputs are pruned. */
  layer: string;
  kind: 'dense' | 'conv';
  units: number;
  /** Indices of removed units (sorted). */
  removed: number[];
}

interface Layout {
  /** Rows × cols of the weight as stored, and which axis is "output units" / "input units". */
  outAxisSize: number;
  inAxisSize: number;
  /** Values per (out, in) pair (kernel size for conv, 1 for dense). */
  inner: number;
  /** Stored [out, in, inner] (conv, Gemm transB=1) or [in, out] (MatMul, Gemm transB=0). */
  outMajor: boolean;
}

function layoutOf(l: DenseLayer | ConvLayer, kind: 'dense' | 'conv'): Layout {
  if (kind === 'conv') {
    const c = l as ConvLayer;
    return { outAxisSize: c.dims[0]!, inAxisSize: c.dims[1]!, inner: c.dims.slice(2).reduce((a, b) => a * b, 1), outMajor: true };
  }
  const d = l as DenseLayer;
  return { outAxisSize: d.outDim, inAxisSize: d.inDim, inner: 1, outMajor: d.transposed };
}

function at(lay: Layout, o: number, i: number, k: number): number {
  return lay.outMajor ? (o * lay.inAxisSize + i) * lay.inner + k : i * lay.outAxisSize + o;
}

/** Sum of squares of the weights of output unit j (incoming) / input unit j (outgoing). */
function outNorms(w: Float32Array, lay: Layout): Float64Array {
  const s = new Float64Array(lay.outAxisSize);
  for (let o = 0; o < lay.outAxisSize; o++) for (let i = 0; i < lay.inAxisSize; i++) for (let k = 0; k < lay.inner; k++) s[o] = s[o]! + w[at(lay, o, i, k)]! ** 2;
  return s.map(Math.sqrt);
}
function inNorms(w: Float32Array, lay: Layout): Float64Array {
  const s = new Float64Array(lay.inAxisSize);
  for (let o = 0; o < lay.outAxisSize; o++) for (let i = 0; i < lay.inAxisSize; i++) for (let k = 0; k < lay.inner; k++) s[i] = s[i]! + w[at(lay, o, i, k)]! ** 2;
  return s.map(Math.sqrt);
}

/** Keep only the listed output units (keepOut) and input units (keepIn) of a weight. */
function slice(w: Float32Array, lay: Layout, keepOut: number[], keepIn: number[]): { data: Float32Array; dims: number[] } {
  const nO = keepOut.length;
  const nI = keepIn.length;
  const out = new Float32Array(nO * nI * lay.inner);
  const sub: Layout = { outAxisSize: nO, inAxisSize: nI, inner: lay.inner, outMajor: lay.outMajor };
  keepOut.forEach((o, oo) => keepIn.forEach((i, ii) => { for (let k = 0; k < lay.inner; k++) out[at(sub, oo, ii, k)] = w[at(lay, o, i, k)]!; }));
  return { data: out, dims: [] };
}

type AnyChain = { kind: 'dense'; chain: Chain<DenseLayer> } | { kind: 'conv'; chain: Chain<ConvLayer> };

/** The weight and bias must be initializers read by this node alone, or we would change other nodes. */
function privateTensor(idx: GraphIndex, t: ITensorProto | undefined, readerInput: string | undefined): boolean {
  if (!t) return true;
  const name = t.name ?? '';
  return readerInput === name && idx.initializers.get(name) === t && (idx.consumers.get(name) ?? []).length === 1;
}

export function planStructured(m: ModelProto, opts: StructuredOptions): { plans: UnitPlan[]; skipped: SkippedNode[]; chains: AnyChain[] } {
  if (!(opts.sparsity > 0 && opts.sparsity < 1)) throw new RangeError(`"sparsity" for structured pruning must be in (0, 1) (got ${opts.sparsity})`);
  const g = m.graph!;
  const idx = indexGraph(g);
  const chains: AnyChain[] = [
    ...denseChains(g, idx).map((chain) => ({ kind: 'dense' as const, chain })),
    ...convChains(g, idx).map((chain) => ({ kind: 'conv' as const, chain })),
  ];
  const skipped: SkippedNode[] = [];
  const plans: UnitPlan[] = [];
  const ok: AnyChain[] = [];
  const exclude = opts.exclude ?? [];
  for (const c of chains) {
    const from = c.chain.from;
    const to = c.chain.to;
    const label = nodeLabel(from.node);
    if (exclude.includes(label) || exclude.includes(from.node.opType ?? '')) {
      skipped.push({ node: label, op: from.node.opType ?? '', reason: 'excluded (--exclude)' });
      continue;
    }
    const biasInput = c.kind === 'dense' && (from as DenseLayer).biasAdd ? (from as DenseLayer).biasAdd!.input!.find((v) => v !== from.node.output![0]) : from.node.input?.[2];
    if (!privateTensor(idx, from.weight, from.node.input?.[1]) || !privateTensor(idx, to.weight, to.node.input?.[1]) || !privateTensor(idx, from.bias, biasInput)) {
      skipped.push({ node: label, op: from.node.opType ?? '', reason: 'its weights are shared with other nodes (tied) or not plain initializers; pruning them would change other layers' });
      continue;
    }
    const lf = layoutOf(from, c.kind);
    const lt = layoutOf(to, c.kind);
    const inc = outNorms(tensorToFloat32(from.weight), lf);
    const outg = inNorms(tensorToFloat32(to.weight), lt);
    const units = lf.outAxisSize;
    const k = Math.min(units - 1, Math.floor(opts.sparsity * units));
    if (k <= 0) {
      skipped.push({ node: label, op: from.node.opType ?? '', reason: `${units} units: ${opts.sparsity} of them rounds to none` });
      continue;
    }
    const order = Array.from({ length: units }, (_, j) => j).sort((a, b) => inc[a]! * outg[a]! - inc[b]! * outg[b]! || a - b);
    plans.push({ layer: label, kind: c.kind, units, removed: order.slice(0, k).sort((a, b) => a - b) });
    ok.push(c);
  }
  return { plans, skipped, chains: ok };
}

function rewriteWeight(t: ITensorProto, data: Float32Array, dims: number[]): void {
  const nt = floatTensor(t.name ?? '', dims, data);
  t.dims = dims;
  t.rawData = nt.rawData!;
  t.floatData = [];
  t.dataType = nt.dataType!;
}

/**
 * Apply plans in place. `mode` 'remove' shrinks the tensors (the pruned model); 'mask' keeps the
 * shapes and zeroes the outgoing weights of removed units (the reference for tests).
 */
export function applyUnitPlans(m: ModelProto, plans: UnitPlan[], mode: 'remove' | 'mask' = 'remove'): void {
  const g = m.graph!;
  const idx = indexGraph(g);
  const all = [...denseChains(g, idx).map((chain) => ({ kind: 'dense' as const, chain })), ...convChains(g, idx).map((chain) => ({ kind: 'conv' as const, chain }))];
  // Removal sets per layer tensor, read on the original weights: out units (from) and in units (to).
  const outRemoved = new Map<ITensorProto, number[]>();
  const inRemoved = new Map<ITensorProto, number[]>();
  const layouts = new Map<ITensorProto, Layout>();
  const biasOf = new Map<ITensorProto, ITensorProto>();
  for (const p of plans) {
    const c = all.find((x) => nodeLabel(x.chain.from.node) === p.layer);
    if (!c) throw new RangeError(`no prunable chain starts at ${p.layer}`);
    outRemoved.set(c.chain.from.weight, p.removed);
    inRemoved.set(c.chain.to.weight, p.removed);
    layouts.set(c.chain.from.weight, layoutOf(c.chain.from, c.kind));
    layouts.set(c.chain.to.weight, layoutOf(c.chain.to, c.kind));
    if (c.chain.from.bias) biasOf.set(c.chain.from.weight, c.chain.from.bias);
  }
  for (const [t, lay] of layouts) {
    const w = tensorToFloat32(t);
    const ro = new Set(outRemoved.get(t) ?? []);
    const ri = new Set(inRemoved.get(t) ?? []);
    if (mode === 'mask') {
      // Masking unit j's output == zeroing the next layer's weights that read it.
      if (ri.size) {
        for (let o = 0; o < lay.outAxisSize; o++) for (const i of ri) for (let k = 0; k < lay.inner; k++) w[at(lay, o, i, k)] = 0;
        rewriteWeight(t, w, tensorDims(t));
      }
      continue;
    }
    const keepOut = Array.from({ length: lay.outAxisSize }, (_, j) => j).filter((j) => !ro.has(j));
    const keepIn = Array.from({ length: lay.inAxisSize }, (_, j) => j).filter((j) => !ri.has(j));
    const { data } = slice(w, lay, keepOut, keepIn);
    const old = tensorDims(t);
    const dims = lay.inner > 1 || lay.outMajor ? [keepOut.length, keepIn.length, ...old.slice(2)] : [keepIn.length, keepOut.length];
    rewriteWeight(t, data, dims);
    const b = biasOf.get(t);
    if (b && ro.size) {
      const bv = tensorToFloat32(b);
      rewriteWeight(b, Float32Array.from(keepOut, (j) => bv[j]!), [keepOut.length]);
    }
  }
  if (mode === 'remove') {
    // Intermediate shapes recorded in value_info are stale now; onnxruntime re-infers them.
    g.valueInfo = [];
  }
}
