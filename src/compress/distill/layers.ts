/**
 * An MLP ONNX graph (Gemm per layer, each followed by an optional activation — what
 * `buildMlpModel` writes and what structured pruning leaves) read back into `DenseLayer`s, so a
 * pruned student can be fine-tuned from its own weights.
 */
import { EdgeError } from '../../errors.js';
import type { Activation, DenseLayer } from '../onnx/build.js';
import { attrFloat, attrInt, indexGraph } from '../onnx/graph.js';
import { decodeModel } from '../onnx/model.js';
import { tensorDims, tensorToFloat32 } from '../onnx/tensor.js';

const ACT: Record<string, Activation> = { Relu: 'relu', Tanh: 'tanh', Sigmoid: 'sigmoid' };

export function layersFromOnnx(bytes: Uint8Array, what = 'the student'): DenseLayer[] {
  const m = decodeModel(bytes, what);
  const g = m.graph!;
  const idx = indexGraph(g);
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const fail = (why: string): never => {
    throw new EdgeError('E_DISTILL_MODEL', `${what} is not a plain MLP (Gemm per layer, then Relu/Tanh/Sigmoid): ${why}`);
  };
  const layers: DenseLayer[] = [];
  let x = g.input?.find((i) => !inits.has(i.name ?? ''))?.name ?? fail('no input');
  const out = g.output?.[0]?.name ?? fail('no output');
  while (x !== out) {
    const users = idx.consumers.get(x) ?? [];
    if (users.length !== 1) fail(`value "${x}" feeds ${users.length} nodes`);
    const n = users[0]!;
    if (n.opType === 'Gemm') {
      if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) fail(`${n.name} uses transA/alpha/beta`);
      const wt = inits.get(n.input?.[1] ?? '') ?? fail(`${n.name} has no constant weight`);
      const bt = inits.get(n.input?.[2] ?? '') ?? fail(`${n.name} has no constant bias`);
      const [r, c] = tensorDims(wt) as [number, number];
      let w = tensorToFloat32(wt);
      const transB = attrInt(n, 'transB', 0) === 1;
      const inDim = transB ? c : r;
      const outDim = transB ? r : c;
      if (transB) {
        const t = new Float32Array(w.length);
        for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) t[i * outDim + o] = w[o * inDim + i]!;
        w = t;
      }
      const bias = tensorToFloat32(bt);
      if (bias.length !== outDim) fail(`${n.name}'s bias is not per output unit`);
      layers.push({ weight: w, bias, inDim, outDim, activation: 'none' });
    } else if (ACT[n.opType ?? ''] && layers.length) {
      layers[layers.length - 1]!.activation = ACT[n.opType!]!;
    } else {
      fail(`unexpected ${n.opType} node ${n.name}`);
    }
    x = n.output?.[0] ?? fail('a node without output');
  }
  if (!layers.length) fail('no Gemm layer');
  return layers;
}
