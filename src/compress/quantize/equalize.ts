/**
 * Cross-layer equalization of ReLU chains before static quantization (after Nagel et al.,
 * "Data-Free Quantization", 2019, here with calibrated activation ranges):
 *
 *   y = W_B · relu(W_A·x + b_A)  ==  (W_B·C⁻¹) · relu((C·W_A)·x + C·b_A)   for any diagonal C > 0
 *
 * because relu(c·v) = c·relu(v) for c > 0. The float model computes the same function, but a
 * hidden unit whose activations span [0, r_i] is rescaled to span c_i·r_i, and the matching
 * input row of the next layer's weight shrinks by c_i. With one uint8 scale per activation
 * tensor, units with small ranges otherwise use only a few of the 256 levels; equalizing the
 * ranges gives every unit the same resolution. The cost moves to the next layer's weights
 * (their row i is divided by c_i), so the scale balances both:
 *
 *   c_i = (w_i / r_i)^½ · k     (r_i: calibrated max of unit i; w_i: max |W_B[i, :]|)
 *
 * with k making the geometric mean of c 1 (a common factor changes nothing after calibration).
 * After this pass the activations are calibrated again on the rescaled model.
 */
import type { ITensorProto, ModelProto } from '../onnx/proto.js';
import { indexGraph, setInitializer } from '../onnx/graph.js';
import { floatTensor, tensorDims, tensorToFloat32 } from '../onnx/tensor.js';
import type { Dataset } from '../evaluate/data.js';
import { collectActivations, type RunOptions } from '../evaluate/run.js';
import { findCandidates, type Candidate } from './common.js';

export interface EqualizePair {
  a: string;
  b: string;
  /** The value after A's Relu (B's input). */
  hidden: string;
  units: number;
}

type Dense = Extract<Candidate, { kind: 'dense' }>;

/** Dense → Relu → Dense chains whose weights and biases are read by these nodes only. */
export function equalizationPairs(m: ModelProto, exclude: string[] = []): Array<EqualizePair & { A: Dense; B: Dense }> {
  const g = m.graph!;
  const idx = indexGraph(g);
  const { candidates } = findCandidates(g, exclude, idx);
  const dense = candidates.filter((c): c is Dense => c.kind === 'dense');
  const readers = (name: string | undefined | null) => (name ? (idx.consumers.get(name) ?? []).length : 0);
  const out: Array<EqualizePair & { A: Dense; B: Dense }> = [];
  for (const A of dense) {
    if (idx.graphOutputs.has(A.layer.output)) continue;
    const r = idx.consumers.get(A.layer.output) ?? [];
    const relu = r.length === 1 && r[0]!.opType === 'Relu' && (r[0]!.domain ?? '') === '' ? r[0]! : undefined;
    if (!relu) continue;
    const hidden = relu.output![0]!;
    if (idx.graphOutputs.has(hidden)) continue;
    const next = idx.consumers.get(hidden) ?? [];
    if (next.length !== 1) continue;
    const B = dense.find((c) => c.layer.node === next[0] && c.layer.node.input![0] === hidden);
    if (!B || B.layer.inDim !== A.layer.outDim) continue;
    if (readers(A.layer.weightInput) !== 1 || readers(B.layer.weightInput) !== 1) continue;
    if (A.layer.bias && readers(A.layer.bias.name) !== 1) continue;
    if (A.layer.weight.name !== A.layer.weightInput || B.layer.weight.name !== B.layer.weightInput) continue; // behind an Identity
    out.push({ a: A.label, b: B.label, hidden, units: A.layer.outDim, A, B });
  }
  return out;
}

/** Per-unit maxima of each hidden value over the data (rows × units, row-major). */
async function unitMaxima(m: ModelProto, pairs: EqualizePair[], ds: Dataset, opts: RunOptions): Promise<Map<string, Float64Array>> {
  const acts = await collectActivations(m, pairs.map((p) => p.hidden), ds, opts);
  const out = new Map<string, Float64Array>();
  for (const p of pairs) {
    const mx = new Float64Array(p.units);
    for (const part of acts.get(p.hidden) ?? []) {
      for (let i = 0; i < part.length; i++) {
        const u = i % p.units;
        if (part[i]! > mx[u]!) mx[u] = part[i]!;
      }
    }
    out.set(p.hidden, mx);
  }
  return out;
}

/**
 * Rescale every equalizable chain of `m` in place. Returns the chains rescaled. The function the
 * model computes is unchanged (up to float rounding).
 */
export async function equalizeModel(m: ModelProto, ds: Dataset, opts: RunOptions & { exclude?: string[] } = {}): Promise<EqualizePair[]> {
  const pairs = equalizationPairs(m, opts.exclude ?? []);
  if (!pairs.length) return [];
  const maxima = await unitMaxima(m, pairs, ds, opts);
  const g = m.graph!;
  // Read weights from the graph each time: a layer in two chains (B of one, A of the next) is rescaled twice.
  const current = (t: ITensorProto) => (g.initializer ?? []).find((x) => x.name === t.name) ?? t;
  for (const p of pairs) {
    const n = p.units;
    const r = maxima.get(p.hidden)!;
    const A = p.A.layer;
    const B = p.B.layer;
    const wa = tensorToFloat32(current(A.weight));
    const wb = tensorToFloat32(current(B.weight));
    const K = B.outDim;
    // B's weight: transposed = [out, in] (element [j, i] at j·n + i); else [in, out] ([i, j] at i·K + j).
    const wbAt = (i: number, j: number) => (B.transposed ? j * n + i : i * K + j);
    const c = new Float64Array(n).fill(1);
    let logSum = 0;
    let live = 0;
    for (let i = 0; i < n; i++) {
      let w = 0;
      for (let j = 0; j < K; j++) w = Math.max(w, Math.abs(wb[wbAt(i, j)]!));
      if (r[i]! > 0 && w > 0) {
        c[i] = Math.sqrt(w / r[i]!);
        logSum += Math.log(c[i]!);
        live++;
      }
    }
    const k = live ? Math.exp(-logSum / live) : 1;
    for (let i = 0; i < n; i++) if (r[i]! > 0 && c[i] !== 1) c[i] = c[i]! * k;
    // A's output unit i: row i when transposed ([out, in]), else column i ([in, out]).
    const inA = A.inDim;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < inA; t++) {
        const at = A.transposed ? i * inA + t : t * n + i;
        wa[at] = wa[at]! * c[i]!;
      }
      for (let j = 0; j < K; j++) wb[wbAt(i, j)] = wb[wbAt(i, j)]! / c[i]!;
    }
    setInitializer(g, floatTensor(A.weight.name!, tensorDims(A.weight), wa));
    setInitializer(g, floatTensor(B.weight.name!, tensorDims(B.weight), wb));
    if (A.bias) {
      const b = tensorToFloat32(current(A.bias));
      for (let i = 0; i < n; i++) b[i] = b[i]! * c[i]!;
      setInitializer(g, floatTensor(A.bias.name!, tensorDims(A.bias), b));
    }
  }
  return pairs.map(({ a, b, hidden, units }) => ({ a, b, hidden, units }));
}
