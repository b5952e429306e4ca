/**
 * What is inside an ONNX model or a bundle, for `edgereward inspect`: the interface
 * (inputs, outputs, opsets), the op mix, and the figures compression changes — parameter
 * count, bytes, the share of 8-bit and 4-bit weights and the sparsity of float weights.
 */
import { decodeModel } from './model.js';
import { DataType, toNumber, type IGraphProto, type INodeProto, type ITensorProto } from './proto.js';
import { tensorBytes, tensorSize, tensorToFloat32 } from './tensor.js';
import { decodeBundle, isBundleBytes, modelBytes, type Bundle } from '../../runtime/bundle/format.js';
import { verifySignature } from '../../runtime/bundle/sign.js';
import { modelId, type FileEntry, type InputFeatures, type Manifest, type TensorSpec } from '../../runtime/bundle/manifest.js';
import { tensorSpecOf } from '../../runtime/bundle/graph.js';
import type { TrustStore } from '../../runtime/bundle/keys.js';
import { describeError } from '../../errors.js';

export interface OnnxStats {
  irVersion: number;
  producer: string;
  opsets: Array<{ domain: string; version: number }>;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  nodes: number;
  /** Op type -> count, most frequent first; ops outside the default domain as `domain.Op`. */
  ops: Array<{ op: string; count: number }>;
  /** Weight values: float + 8-bit + 4-bit (shape and index tensors are not parameters). */
  parameters: number;
  weights: { float: number; int8: number; int4: number; other: number };
  bytes: { file: number; weights: number };
  /** Shares of `parameters` stored in 8 bits and in 4 bits (MatMulNBits-packed uint8 counts as 4-bit). */
  quantized: { int8: number; int4: number };
  /** Exact zeros among float weights. */
  sparsity: { zeros: number; of: number; share: number };
  /** Tensors whose data lives in an external file (counted by shape, not read). */
  external: number;
}

export interface BundleSummary {
  id: string;
  description?: string;
  created?: string;
  keyId: string;
  /** `unchecked` without a trust store; else `trusted` or the refusal sentence. */
  signature: string;
  minRuntime: string;
  files: FileEntry[];
  inputs: Array<{ input: string; per: InputFeatures['per']; width: number }>;
  actions: { type: Manifest['actions']['type']; names: string[]; count: number };
  output: Manifest['output'];
  provenance?: Record<string, unknown>;
}

export interface Inspection {
  kind: 'onnx' | 'bundle';
  what: string;
  size: number;
  model: OnnxStats;
  bundle?: BundleSummary;
}

const FLOATS = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);
const BYTES = new Set<number>([DataType.INT8, DataType.UINT8]);
const NIBBLES = new Set<number>([21, 22]); // UINT4, INT4 (ONNX IR 9; newer than onnx-proto's enum)

/** Every node, subgraphs (If/Loop/Scan bodies) included. */
function* allNodes(g: IGraphProto): Generator<INodeProto> {
  for (const n of g.node ?? []) {
    yield n;
    for (const a of n.attribute ?? []) {
      if (a.g) yield* allNodes(a.g);
      for (const sg of a.graphs ?? []) yield* allNodes(sg);
    }
  }
}

function* allInitializers(g: IGraphProto): Generator<ITensorProto> {
  yield* g.initializer ?? [];
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (n.opType === 'Constant' && a.name === 'value' && a.t) yield a.t;
      if (a.g) yield* allInitializers(a.g);
      for (const sg of a.graphs ?? []) yield* allInitializers(sg);
    }
  }
}

function zerosOf(t: ITensorProto): number {
  let z = 0;
  const type = t.dataType ?? 0;
  if (type === DataType.FLOAT16 || type === DataType.BFLOAT16) {
    // half floats: +0 and -0 are the bit patterns with everything but the sign clear
    const r = t.rawData;
    if (r && r.length) {
      const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
      for (let i = 0; i + 1 < r.length; i += 2) if ((v.getUint16(i, true) & 0x7fff) === 0) z++;
    } else {
      for (const x of t.int32Data ?? []) if ((x & 0x7fff) === 0) z++;
    }
    return z;
  }
  const f = tensorToFloat32(t);
  for (let i = 0; i < f.length; i++) if (f[i] === 0) z++;
  return z;
}

export function onnxStats(bytes: Uint8Array, what = 'model'): OnnxStats {
  const m = decodeModel(bytes, what);
  const g = m.graph!;
  const ops = new Map<string, number>();
  const packed = new Map<string, number>(); // MatMulNBits B input -> bits per weight
  let nodes = 0;
  for (const n of allNodes(g)) {
    nodes++;
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType ?? '?'}` : (n.opType ?? '?');
    ops.set(op, (ops.get(op) ?? 0) + 1);
    if (n.opType === 'MatMulNBits' && n.input?.[1]) {
      const bits = n.attribute?.find((a) => a.name === 'bits');
      packed.set(n.input[1], bits ? toNumber(bits.i) : 4);
    }
  }
  const weights = { float: 0, int8: 0, int4: 0, other: 0 };
  let weightBytes = 0;
  let zeros = 0;
  let external = 0;
  for (const t of allInitializers(g)) {
    const type = t.dataType ?? 0;
    const n = tensorSize(t);
    const isExternal = t.dataLocation === 1;
    if (isExternal) external++;
    weightBytes += isExternal ? 0 : tensorBytes(t);
    const bits = packed.get(t.name ?? '');
    if (bits !== undefined && BYTES.has(type)) {
      // MatMulNBits packs 8/bits weights per byte
      const count = Math.floor((n * 8) / bits);
      if (bits <= 4) weights.int4 += count;
      else weights.int8 += count;
    } else if (FLOATS.has(type)) {
      weights.float += n;
      if (!isExternal) zeros += zerosOf(t);
    } else if (BYTES.has(type)) weights.int8 += n;
    else if (NIBBLES.has(type)) weights.int4 += n;
    else weights.other += n;
  }
  const parameters = weights.float + weights.int8 + weights.int4;
  const share = (x: number, of: number): number => (of > 0 ? x / of : 0);
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    irVersion: toNumber(m.irVersion),
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    opsets: (m.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: toNumber(o.version) })),
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map(tensorSpecOf),
    outputs: (g.output ?? []).map(tensorSpecOf),
    nodes,
    ops: [...ops].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || (a.op < b.op ? -1 : a.op > b.op ? 1 : 0)),
    parameters,
    weights,
    bytes: { file: bytes.length, weights: weightBytes },
    quantized: { int8: share(weights.int8, parameters), int4: share(weights.int4, parameters) },
    sparsity: { zeros, of: weights.float, share: share(zeros, weights.float) },
    external,
  };
}

function inputWidth(f: InputFeatures): number {
  let w = 0;
  for (const c of f.columns) w += 'action' in c ? 1 : (c.count ?? 1);
  return w;
}

export function bundleSummary(b: Bundle, trust?: TrustStore): BundleSummary {
  const m = b.manifest;
  let signature = 'unchecked';
  if (trust) {
    try {
      verifySignature(b, trust);
      signature = 'trusted';
    } catch (e) {
      signature = describeError(e);
    }
  }
  const a = m.actions;
  return {
    id: modelId(m),
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.created !== undefined ? { created: m.created } : {}),
    keyId: b.signature.key_id,
    signature,
    minRuntime: m.min_runtime,
    files: m.files,
    inputs: m.features.map((f) => ({ input: f.input, per: f.per, width: inputWidth(f) })),
    actions: a.type === 'grid'
      ? { type: 'grid', names: a.dims.map((d) => d.name), count: a.dims.reduce((n, d) => n * d.steps, 1) }
      : { type: 'discrete', names: a.names, count: a.actions.length },
    output: m.output,
    ...(m.provenance !== undefined ? { provenance: m.provenance } : {}),
  };
}

/** Inspect an ONNX model or a bundle (told apart by the bundle's magic). */
export function inspectBytes(bytes: Uint8Array, what: string, trust?: TrustStore): Inspection {
  if (isBundleBytes(bytes)) {
    const b = decodeBundle(bytes, what);
    return { kind: 'bundle', what, size: bytes.length, model: onnxStats(modelBytes(b), `the model in ${what}`), bundle: bundleSummary(b, trust) };
  }
  return { kind: 'onnx', what, size: bytes.length, model: onnxStats(bytes, what) };
}
