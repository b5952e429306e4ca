/**
 * Dynamic quantization: int8 weights stored in the file, activations quantized at run time.
 *
 * Two equivalent emissions for a dense layer (Gemm is first seen as MatMul + bias):
 * - 'fused':   com.microsoft DynamicQuantizeMatMul(A, Bq, b_scale, b_zp, bias) — one node;
 * - 'integer': DynamicQuantizeLinear(A) → MatMulInteger → Cast → Mul(a_scale·b_scale) → Add(bias),
 *              the standard-ops form (onnxruntime fuses it back to MatMulIntegerToFloat).
 * `bench/compress.ts` measures both at batch 64; 'fused' is the default (see docs/compression.md).
 *
 * Conv is not quantized here: onnxruntime's CPU provider has no ConvInteger kernel for int8
 * weights, so a dynamic ConvInteger model would not load. Conv stays float and is listed.
 */
import type { INodeProto, ModelProto } from '../onnx/proto.js';
import { DataType } from '../onnx/proto.js';
import { ensureOpset, indexGraph, intAttr, removeDead, replaceNode, setInitializer, uniqueNamer } from '../onnx/graph.js';
import { floatTensor, int8Tensor, uint8Tensor } from '../onnx/tensor.js';
import { tensorToFloat32 } from '../onnx/tensor.js';
import { candidateWeights, DEFAULT_WEIGHT, findCandidates, storeWeight, weightKN, type PassResult, type SkippedNode, type WeightQuant } from './common.js';
import { quantizeTensor } from './math.js';

export interface DynamicOptions {
  perChannel?: boolean;
  /** Default 'fused'. */
  kernel?: 'fused' | 'integer';
  exclude?: string[];
  /** Only these node labels (sensitivity analysis); default all candidates. */
  only?: Set<string>;
  /** Weight quantization (see WeightQuant). Default 7-bit symmetric in int8. */
  weight?: WeightQuant;
}

export function quantizeDynamic(m: ModelProto, opts: DynamicOptions = {}): PassResult {
  const g = m.graph!;
  const idx = indexGraph(g);
  const { candidates, skipped } = findCandidates(g, opts.exclude ?? [], idx);
  const kernel = opts.kernel ?? 'fused';
  const fresh = uniqueNamer(g);
  const quantized: string[] = [];
  const extraSkipped: SkippedNode[] = [];
  let int8Weights = 0;
  // Tied weights (the same tensor read by several nodes) are quantized once.
  const cache = new Map<string, { q: string; s: string; zp: string }>();
  for (const c of candidates) {
    if (opts.only && !opts.only.has(c.label)) continue;
    if (c.kind === 'conv') {
      extraSkipped.push({ node: c.label, op: 'Conv', reason: "dynamic mode leaves Conv in float: onnxruntime's CPU provider has no ConvInteger kernel for int8 weights (use --mode static)" });
      continue;
    }
    const l = c.layer;
    const K = l.inDim;
    const N = l.outDim;
    const key = `${l.weight.name}|${l.transposed}`;
    let names = cache.get(key);
    if (!names) {
      const qt = quantizeTensor(weightKN(l), { ...(opts.weight ?? DEFAULT_WEIGHT), ...(opts.perChannel ? { axis: 1, dims: [K, N] } : {}) });
      const base = (l.weight.name ?? c.label).replace(/[^\w.]/g, '_');
      names = { q: fresh(`${base}_quantized`), s: fresh(`${base}_scale`), zp: fresh(`${base}_zero_point`) };
      const zpDims = opts.perChannel ? [N] : [];
      const sw = storeWeight(qt, opts.weight ?? DEFAULT_WEIGHT);
      setInitializer(g, sw.unsigned ? uint8Tensor(names.q, [K, N], sw.q as Uint8Array) : int8Tensor(names.q, [K, N], sw.q as Int8Array));
      setInitializer(g, floatTensor(names.s, zpDims, qt.scale));
      setInitializer(g, sw.unsigned ? uint8Tensor(names.zp, zpDims, sw.zeroPoint as Uint8Array) : int8Tensor(names.zp, zpDims, sw.zeroPoint as Int8Array));
      cache.set(key, names);
      int8Weights += candidateWeights(c);
    }
    let biasName = '';
    if (l.bias) {
      biasName = fresh(`${c.label.replace(/[^\w.]/g, '_')}_bias`);
      setInitializer(g, floatTensor(biasName, [N], tensorToFloat32(l.bias)));
    }
    const a = l.node.input![0]!;
    const y = l.output;
    const nodes: INodeProto[] = [];
    if (kernel === 'fused') {
      nodes.push({
        opType: 'DynamicQuantizeMatMul',
        domain: 'com.microsoft',
        name: fresh(`${c.label}_quant`),
        input: [a, names.q, names.s, names.zp, ...(biasName ? [biasName] : [])],
        output: [y],
      });
    } else {
      const p = `${c.label}_quant`;
      const aq = fresh(`${p}/a_q`);
      const as = fresh(`${p}/a_scale`);
      const azp = fresh(`${p}/a_zp`);
      const acc = fresh(`${p}/acc`);
      const accf = fresh(`${p}/acc_f`);
      const sc = fresh(`${p}/scale`);
      const scaled = biasName ? fresh(`${p}/scaled`) : y;
      nodes.push(
        { opType: 'DynamicQuantizeLinear', name: fresh(`${p}/DynamicQuantizeLinear`), input: [a], output: [aq, as, azp] },
        { opType: 'MatMulInteger', name: fresh(`${p}/MatMulInteger`), input: [aq, names.q, azp, names.zp], output: [acc] },
        { opType: 'Cast', name: fresh(`${p}/Cast`), input: [acc], output: [accf], attribute: [intAttr('to', DataType.FLOAT)] },
        { opType: 'Mul', name: fresh(`${p}/ScaleMul`), input: [as, names.s], output: [sc] },
        { opType: 'Mul', name: fresh(`${p}/Mul`), input: [accf, sc], output: [scaled] },
      );
      if (biasName) nodes.push({ opType: 'Add', name: fresh(`${p}/BiasAdd`), input: [scaled, biasName], output: [y] });
    }
    if (l.biasAdd) replaceNode(g, l.biasAdd, []);
    replaceNode(g, l.node, nodes);
    quantized.push(c.label);
  }
  if (kernel === 'fused' && quantized.length) ensureOpset(m, 'com.microsoft', 1);
  removeDead(g);
  return { model: m, quantized, skipped: [...skipped, ...extraSkipped], int8Weights, int4Weights: 0 };
}
