/**
 * The shapes compression needs, read from the weights rather than inferred for every value:
 * dense layers (MatMul/Gemm with a constant 2-D weight, and their bias), convolutions (channel
 * counts, kernel, group) and the chains between them (layer → [bias Add] → [elementwise
 * activation] → next layer), which is what structured pruning rewrites.
 */
import type { IGraphProto, INodeProto, ITensorProto } from './proto.js';
import { attrFloat, attrInt, constantOf, indexGraph, type GraphIndex } from './graph.js';
import { tensorDims } from './tensor.js';

export interface DenseLayer {
  node: INodeProto;
  op: 'Gemm' | 'MatMul';
  /** Name of the value read as the weight (may be an Identity of the initializer). */
  weightInput: string;
  weight: ITensorProto;
  /** Weight stored [out, in] (Gemm transB=1, PyTorch's Linear); else [in, out]. */
  transposed: boolean;
  inDim: number;
  outDim: number;
  /** Gemm's C, or the constant of an Add that directly follows a MatMul (and is its only reader). */
  bias?: ITensorProto;
  biasAdd?: INodeProto;
  /** The value after the bias (the Add's output for MatMul + Add). */
  output: string;
}

export interface ConvLayer {
  node: INodeProto;
  weight: ITensorProto;
  /** [Cout, Cin/group, k...] */
  dims: number[];
  outChannels: number;
  inChannels: number;
  group: number;
  bias?: ITensorProto;
  output: string;
}

const ELEMENTWISE_ACT = new Set(['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'Elu', 'Selu', 'Softplus', 'HardSigmoid', 'Gelu', 'Identity']);

/** A dense layer, if `n` is one: MatMul with a constant 2-D B, or Gemm (alpha=beta=1, no transA) with constant B. */
export function denseLayerOf(idx: GraphIndex, n: INodeProto): DenseLayer | undefined {
  if ((n.domain ?? '') !== '') return undefined;
  if (n.opType !== 'MatMul' && n.opType !== 'Gemm') return undefined;
  const wName = n.input?.[1] ?? '';
  const w = constantOf(idx, wName);
  if (!w) return undefined;
  const d = tensorDims(w);
  if (d.length !== 2) return undefined;
  if (n.opType === 'Gemm') {
    if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) return undefined;
    const transposed = attrInt(n, 'transB', 0) === 1;
    const cName = n.input?.[2] ?? '';
    const bias = cName ? constantOf(idx, cName) : undefined;
    const outDim = transposed ? d[0]! : d[1]!;
    if (cName && (!bias || tensorDims(bias).reduce((a, b) => a * b, 1) !== outDim)) return undefined; // broadcast C we do not rewrite
    return { node: n, op: 'Gemm', weightInput: wName, weight: w, transposed, inDim: transposed ? d[1]! : d[0]!, outDim, bias, output: n.output![0]! };
  }
  const out = n.output![0]!;
  const layer: DenseLayer = { node: n, op: 'MatMul', weightInput: wName, weight: w, transposed: false, inDim: d[0]!, outDim: d[1]!, output: out };
  const readers = idx.consumers.get(out) ?? [];
  if (readers.length === 1 && readers[0]!.opType === 'Add' && (readers[0]!.domain ?? '') === '' && !idx.graphOutputs.has(out)) {
    const add = readers[0]!;
    const other = add.input?.[0] === out ? add.input?.[1] : add.input?.[0];
    const b = other ? constantOf(idx, other) : undefined;
    if (b) {
      const bd = tensorDims(b);
      if (bd.length === 1 && bd[0] === layer.outDim) {
        layer.bias = b;
        layer.biasAdd = add;
        layer.output = add.output![0]!;
      }
    }
  }
  return layer;
}

export function denseLayers(g: IGraphProto, idx: GraphIndex = indexGraph(g)): DenseLayer[] {
  const out: DenseLayer[] = [];
  for (const n of g.node ?? []) {
    const l = denseLayerOf(idx, n);
    if (l) out.push(l);
  }
  return out;
}

export function convLayerOf(idx: GraphIndex, n: INodeProto): ConvLayer | undefined {
  if (n.opType !== 'Conv' || (n.domain ?? '') !== '') return undefined;
  const w = constantOf(idx, n.input?.[1] ?? '');
  if (!w) return undefined;
  const dims = tensorDims(w);
  if (dims.length < 3) return undefined;
  const group = attrInt(n, 'group', 1);
  const bName = n.input?.[2] ?? '';
  const bias = bName ? constantOf(idx, bName) : undefined;
  if (bName && !bias) return undefined;
  return { node: n, weight: w, dims, outChannels: dims[0]!, inChannels: dims[1]! * group, group, bias, output: n.output![0]! };
}

export interface Chain<L> {
  /** The layer whose output units (columns / channels) are pruned. */
  from: L;
  /** Elementwise nodes between the two layers (activation), each with a single reader. */
  between: INodeProto[];
  /** The layer reading them (its input rows / input channels shrink). */
  to: L;
}

/** Follow `value` through single-reader elementwise activations to the one node that reads it. */
function follow(idx: GraphIndex, value: string): { between: INodeProto[]; reader: INodeProto; input: string } | undefined {
  const between: INodeProto[] = [];
  for (let depth = 0; depth < 8; depth++) {
    if (idx.graphOutputs.has(value)) return undefined;
    const readers = idx.consumers.get(value) ?? [];
    if (readers.length !== 1) return undefined;
    const r = readers[0]!;
    if (ELEMENTWISE_ACT.has(r.opType ?? '') && (r.domain ?? '') === '' && (r.input ?? []).length === 1) {
      between.push(r);
      value = r.output![0]!;
      continue;
    }
    return { between, reader: r, input: value };
  }
  return undefined;
}

/** MLP chains: dense → [act] → dense, where the second reads the first only as its A input. */
export function denseChains(g: IGraphProto, idx: GraphIndex = indexGraph(g)): Array<Chain<DenseLayer>> {
  const chains: Array<Chain<DenseLayer>> = [];
  for (const from of denseLayers(g, idx)) {
    const f = follow(idx, from.output);
    if (!f) continue;
    const to = denseLayerOf(idx, f.reader);
    if (!to || f.reader.input?.[0] !== f.input || to.inDim !== from.outDim) continue;
    chains.push({ from, between: f.between, to });
  }
  return chains;
}

/** Conv chains: conv → [act] → conv (group 1 on both sides). */
export function convChains(g: IGraphProto, idx: GraphIndex = indexGraph(g)): Array<Chain<ConvLayer>> {
  const chains: Array<Chain<ConvLayer>> = [];
  for (const n of g.node ?? []) {
    const from = convLayerOf(idx, n);
    if (!from || from.group !== 1) continue;
    const f = follow(idx, from.output);
    if (!f) continue;
    const to = convLayerOf(idx, f.reader);
    if (!to || to.group !== 1 || f.reader.input?.[0] !== f.input || to.inChannels !== from.outChannels) continue;
    chains.push({ from, between: f.between, to });
  }
  return chains;
}

/** Parameters held in float initializers (what "parameter count" means in reports). */
export function parameterCount(g: IGraphProto): number {
  let n = 0;
  for (const t of g.initializer ?? []) n += tensorDims(t).reduce((a, b) => a * b, 1);
  for (const s of g.sparseInitializer ?? []) n += tensorDims(s.values ?? {}).reduce((a, b) => a * b, 1);
  return n;
}
