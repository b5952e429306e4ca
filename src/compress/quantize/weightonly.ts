/**
 * Weight-only block quantization with onnxruntime's com.microsoft MatMulNBits (CPU kernel):
 * B packed uint8 [N, kBlocks, blockSize·bits/8], scales [N·kBlocks] float, zero points packed
 * [N·ceil(kBlocks·bits/8)] uint8, bias [N] (input 5; g_idx, input 4, left empty). Activations
 * stay float. Meant for large MatMuls: below `minWeights` values the per-block scales cost
 * more than they save, and such layers are left float and listed.
 */
import type { INodeProto, ModelProto } from '../onnx/proto.js';
import { ensureOpset, indexGraph, intAttr, removeDead, replaceNode, setInitializer, uniqueNamer } from '../onnx/graph.js';
import { floatTensor, tensorToFloat32, uint8Tensor } from '../onnx/tensor.js';
import { candidateWeights, findCandidates, weightKN, type PassResult, type SkippedNode } from './common.js';
import { quantizeBlocks } from './math.js';

export interface WeightOnlyOptions {
  /** 4 (default) or 8. */
  bits?: 4 | 8;
  /** Default 32. */
  blockSize?: number;
  /** Layers with fewer weights stay float. Default 4096. */
  minWeights?: number;
  /** 0 = fp32 compute (default), 4 = int8 compute of A. */
  accuracyLevel?: number;
  exclude?: string[];
  only?: Set<string>;
}

export function quantizeWeightOnly(m: ModelProto, opts: WeightOnlyOptions = {}): PassResult {
  const g = m.graph!;
  const idx = indexGraph(g);
  const { candidates, skipped } = findCandidates(g, opts.exclude ?? [], idx);
  const bits = opts.bits ?? 4;
  const bs = opts.blockSize ?? 32;
  const minWeights = opts.minWeights ?? 4096;
  const fresh = uniqueNamer(g);
  const quantized: string[] = [];
  const extra: SkippedNode[] = [];
  let int4 = 0;
  let int8 = 0;
  for (const c of candidates) {
    if (opts.only && !opts.only.has(c.label)) continue;
    if (c.kind === 'conv') {
      extra.push({ node: c.label, op: 'Conv', reason: 'weight-only mode covers MatMul/Gemm (MatMulNBits); Conv stays float (use --mode static)' });
      continue;
    }
    const l = c.layer;
    if (l.inDim * l.outDim < minWeights) {
      extra.push({ node: c.label, op: l.node.opType ?? '', reason: `${l.inDim}×${l.outDim} weight is below ${minWeights} values: block scales would cost more than they save` });
      continue;
    }
    const K = l.inDim;
    const N = l.outDim;
    const b = quantizeBlocks(weightKN(l), K, N, { bits, blockSize: bs });
    const base = `${c.label.replace(/[^\w.]/g, '_')}_nbits`;
    const bn = fresh(`${base}_B`);
    const sn = fresh(`${base}_scales`);
    const zn = fresh(`${base}_zero_points`);
    setInitializer(g, uint8Tensor(bn, [N, b.kBlocks, b.blobSize], b.packed));
    setInitializer(g, floatTensor(sn, [N * b.kBlocks], b.scales));
    setInitializer(g, uint8Tensor(zn, [b.zeroPoints.length], b.zeroPoints));
    const inputs = [l.node.input![0]!, bn, sn, zn];
    if (l.bias) {
      const biasName = fresh(`${base}_bias`);
      setInitializer(g, floatTensor(biasName, [N], tensorToFloat32(l.bias)));
      inputs.push('', biasName);
    }
    const node: INodeProto = {
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      name: fresh(`${c.label}_MatMulNBits`),
      input: inputs,
      output: [l.output],
      attribute: [intAttr('K', K), intAttr('N', N), intAttr('bits', bits), intAttr('block_size', bs), ...(opts.accuracyLevel ? [intAttr('accuracy_level', opts.accuracyLevel)] : [])],
    };
    if (l.biasAdd) replaceNode(g, l.biasAdd, []);
    replaceNode(g, l.node, [node]);
    quantized.push(c.label);
    if (bits === 4) int4 += candidateWeights(c);
    else int8 += candidateWeights(c);
  }
  if (quantized.length) ensureOpset(m, 'com.microsoft', 1);
  removeDead(g);
  return { model: m, quantized, skipped: [...skipped, ...extra], int8Weights: int8, int4Weights: int4 };
}
