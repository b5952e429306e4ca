/**
 * Static quantization in the QDQ layout onnxruntime fuses into integer kernels:
 *
 *   x ─Q─DQ─┐
 *   Wq ──DQ─┼─ Gemm/MatMul/Conv ─Q─DQ─ …      (bias: int32, scale = s_x·s_w, DQ'd)
 *   b32 ─DQ─┘
 *
 * Activation scales come from calibration (min-max or percentile over the calibration data,
 * collected by running the float model in onnxruntime with the values as extra outputs).
 * A Relu right after a quantized layer is folded into that layer's output Q: quantizing with
 * the Relu output's range [0, hi] and a zero point of 0 clamps negatives exactly like Relu, and
 * DQ → Gemm → Q chains are what onnxruntime turns into QGemm / QLinearMatMul / QLinearConv.
 * Activations are uint8 (asymmetric), weights int8 (symmetric, reduced range ±63 by default:
 * AVX2 CPUs without VNNI saturate int16 pair sums of u8·s8 products at full range).
 */
import type { INodeProto, ITensorProto, ModelProto } from '../onnx/proto.js';
import { DataType } from '../onnx/proto.js';
import { indexGraph, intAttr, nodeLabel, opsetVersion, removeDead, renameUses, replaceNode, setInitializer, sortGraph, uniqueNamer, type GraphIndex } from '../onnx/graph.js';
import { floatTensor, int8Tensor, tensorDims, tensorToFloat32, uint8Tensor } from '../onnx/tensor.js';
import { EdgeError } from '../../errors.js';
import { candidateWeights, DEFAULT_WEIGHT, findCandidates, storeWeight, type Candidate, type PassResult, type SkippedNode, type WeightQuant } from './common.js';
import { chooseParams, quantizeTensor } from './math.js';

export interface Range {
  lo: number;
  hi: number;
}

export interface StaticOptions {
  /** value name → calibrated range, for every value `activationValues` asks for. */
  ranges: Map<string, Range>;
  perChannel?: boolean;
  /** Weight quantization (see WeightQuant). Default 7-bit symmetric in int8. */
  weight?: WeightQuant;
  exclude?: string[];
  only?: Set<string>;
}

function int32Tensor(name: string, dims: number[], data: Int32Array): ITensorProto {
  return { name, dims, dataType: DataType.INT32, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** The Relu that directly and solely follows a layer's output, if any. */
function foldableRelu(idx: GraphIndex, output: string): INodeProto | undefined {
  if (idx.graphOutputs.has(output)) return undefined;
  const r = idx.consumers.get(output) ?? [];
  const relu = r.length === 1 && r[0]!.opType === 'Relu' && (r[0]!.domain ?? '') === '' ? r[0] : undefined;
  return relu && !idx.graphOutputs.has(relu.output![0]!) ? relu : undefined;
}

/** Values whose ranges static quantization needs: each candidate's activation input, and its output (after a folded Relu). */
export function activationValues(m: ModelProto, exclude: string[] = []): string[] {
  const g = m.graph!;
  const idx = indexGraph(g);
  const { candidates } = findCandidates(g, exclude, idx);
  const names = new Set<string>();
  for (const c of candidates) {
    names.add(c.layer.node.input![0]!);
    const out = c.layer.output;
    const relu = foldableRelu(idx, out);
    names.add(relu ? relu.output![0]! : out);
  }
  return [...names];
}

export function quantizeStatic(m: ModelProto, opts: StaticOptions): PassResult {
  const g = m.graph!;
  if (opsetVersion(m) < 13 && opts.perChannel) {
    throw new EdgeError('E_COMPRESS_OPSET', `per-channel static quantization needs opset ≥ 13 (DequantizeLinear axis); the model imports opset ${opsetVersion(m)}: re-export it at opset 13 or drop --per-channel`);
  }
  if (opsetVersion(m) < 10) throw new EdgeError('E_COMPRESS_OPSET', `static quantization needs opset ≥ 10 (QuantizeLinear); the model imports opset ${opsetVersion(m)}`);
  const idx = indexGraph(g);
  const { candidates, skipped } = findCandidates(g, opts.exclude ?? [], idx);
  const fresh = uniqueNamer(g);
  const wq8 = opts.weight ?? DEFAULT_WEIGHT;
  const quantized: string[] = [];
  const extraSkipped: SkippedNode[] = [];
  let int8Weights = 0;
  /** value → its DQ'd twin (one Q/DQ pair per value, shared by all quantized readers). */
  const dqOf = new Map<string, { dq: string; scale: number; zp: number }>();
  const addQdq = (value: string, r: Range): { dq: string; scale: number; zp: number } => {
    const have = dqOf.get(value);
    if (have) return have;
    const p = chooseParams(r.lo, r.hi, 8, false);
    const base = value.replace(/[^\w.]/g, '_');
    const s = fresh(`${base}_scale`);
    const z = fresh(`${base}_zero_point`);
    setInitializer(g, floatTensor(s, [], new Float32Array([p.scale])));
    setInitializer(g, uint8Tensor(z, [], new Uint8Array([p.zeroPoint])));
    const q = fresh(`${base}_QuantizeLinear_Output`);
    const dq = fresh(`${base}_DequantizeLinear_Output`);
    const nodes: INodeProto[] = [
      { opType: 'QuantizeLinear', name: fresh(`${base}_QuantizeLinear`), input: [value, s, z], output: [q] },
      { opType: 'DequantizeLinear', name: fresh(`${base}_DequantizeLinear`), input: [q, s, z], output: [dq] },
    ];
    g.node!.push(...nodes); // placed by sortGraph below
    const rec = { dq, scale: p.scale, zp: p.zeroPoint };
    dqOf.set(value, rec);
    return rec;
  };
  const rangeOf = (value: string, c: Candidate): Range | undefined => {
    const r = opts.ranges.get(value);
    if (!r) extraSkipped.push({ node: c.label, op: c.layer.node.opType ?? '', reason: `no calibration range for "${value}"` });
    return r;
  };

  // Pass 1: decide and rewrite each candidate's inputs (activation and weight and bias).
  const folded: Array<{ c: Candidate; relu?: INodeProto; outRange: Range }> = [];
  for (const c of candidates) {
    if (opts.only && !opts.only.has(c.label)) continue;
    const n = c.layer.node;
    const x = n.input![0]!;
    const xr = rangeOf(x, c);
    if (!xr) continue;
    const relu = foldableRelu(idx, c.layer.output);
    const outValue = relu ? relu.output![0]! : c.layer.output;
    const or = opts.ranges.get(outValue);

    // Weight: int8 in its stored layout, per output channel along the out axis.
    const dims = tensorDims(c.layer.weight);
    const outAxis = c.kind === 'conv' ? 0 : c.layer.transposed ? 0 : 1;
    const w = tensorToFloat32(c.layer.weight);
    const qt = quantizeTensor(w, { ...wq8, ...(opts.perChannel ? { axis: outAxis, dims } : {}) });
    const base = nodeLabel(n).replace(/[^\w.]/g, '_');
    const wq = fresh(`${base}_W_quantized`);
    const ws = fresh(`${base}_W_scale`);
    const wz = fresh(`${base}_W_zero_point`);
    const nOut = opts.perChannel ? dims[outAxis]! : 1;
    const sdims = opts.perChannel ? [nOut] : [];
    const sw = storeWeight(qt, wq8);
    setInitializer(g, sw.unsigned ? uint8Tensor(wq, dims, sw.q as Uint8Array) : int8Tensor(wq, dims, sw.q as Int8Array));
    setInitializer(g, floatTensor(ws, sdims, qt.scale));
    setInitializer(g, sw.unsigned ? uint8Tensor(wz, sdims, sw.zeroPoint as Uint8Array) : int8Tensor(wz, sdims, sw.zeroPoint as Int8Array));
    const wdq = fresh(`${base}_W_DequantizeLinear_Output`);
    const wnode: INodeProto = { opType: 'DequantizeLinear', name: fresh(`${base}_W_DequantizeLinear`), input: [wq, ws, wz], output: [wdq] };
    if (opts.perChannel) wnode.attribute = [intAttr('axis', outAxis)];

    const xq = addQdq(x, xr);
    const newInputs = [xq.dq, wdq];
    const extra: INodeProto[] = [wnode];
    const bias = c.layer.bias;
    // MatMul + Add keeps its float Add (onnxruntime fuses DQ-MatMul into MatMulIntegerToFloat and
    // adds the bias in float); Gemm and Conv take an int32 bias with scale s_x·s_w.
    if (bias && !(c.kind === 'dense' && c.layer.biasAdd)) {
      const b = tensorToFloat32(bias);
      const bq = new Int32Array(b.length);
      const bs = new Float32Array(nOut);
      for (let j = 0; j < nOut; j++) bs[j] = Math.fround(xq.scale * qt.scale[j]!);
      for (let j = 0; j < b.length; j++) bq[j] = Math.round(b[j]! / bs[opts.perChannel ? j : 0]!);
      const bqn = fresh(`${base}_B_quantized`);
      const bsn = fresh(`${base}_B_scale`);
      const bzn = fresh(`${base}_B_zero_point`);
      setInitializer(g, int32Tensor(bqn, [b.length], bq));
      setInitializer(g, floatTensor(bsn, sdims, bs));
      setInitializer(g, int32Tensor(bzn, sdims, new Int32Array(nOut)));
      const bdq = fresh(`${base}_B_DequantizeLinear_Output`);
      const bnode: INodeProto = { opType: 'DequantizeLinear', name: fresh(`${base}_B_DequantizeLinear`), input: [bqn, bsn, bzn], output: [bdq] };
      if (opts.perChannel) bnode.attribute = [intAttr('axis', 0)];
      extra.push(bnode);
      newInputs.push(bdq);
    }
    n.input = [...newInputs, ...n.input!.slice(newInputs.length)];
    g.node!.push(...extra);
    quantized.push(c.label);
    int8Weights += candidateWeights(c);
    folded.push({ c, ...(relu ? { relu } : {}), outRange: or ?? { lo: 0, hi: 0 } });
    if (!or) extraSkipped.push({ node: c.label, op: n.opType ?? '', reason: `output "${outValue}" has no calibration range: its output stays float` });
  }

  // Pass 2: output Q/DQ (folding Relu) so that DQ → op → Q chains form.
  for (const f of folded) {
    const out = f.c.layer.output;
    const outValue = f.relu ? f.relu.output![0]! : out;
    if (!opts.ranges.has(outValue)) continue;
    if (f.relu) {
      // Relu(y) == DQ(Q(y)) when Q's range starts at 0 (zero point 0 clamps negatives).
      replaceNode(g, f.relu, []);
      const existing = dqOf.get(outValue);
      renameUses(g, outValue, out); // a downstream layer's Q on the Relu output now reads y
      if (!existing) {
        const rec = addQdq(out, { lo: 0, hi: Math.max(0, f.outRange.hi) });
        renameUsesExceptQ(g, out, rec.dq);
      }
    } else {
      if (idx.graphOutputs.has(out)) continue; // keep the model's output in float
      const rec = addQdq(out, f.outRange);
      renameUsesExceptQ(g, out, rec.dq);
    }
  }
  removeDead(g);
  sortGraph(g);
  return { model: m, quantized, skipped: [...skipped, ...extraSkipped], int8Weights, int4Weights: 0 };
}

/** Point readers of `value` (other than its own QuantizeLinear) at `to`. */
function renameUsesExceptQ(g: NonNullable<ModelProto['graph']>, value: string, to: string): void {
  for (const n of g.node ?? []) {
    if (n.opType === 'QuantizeLinear' && n.input?.[0] === value) continue;
    const ins = n.input ?? [];
    for (let k = 0; k < ins.length; k++) if (ins[k] === value) ins[k] = to;
  }
}
