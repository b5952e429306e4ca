/**
 * The inputs and outputs of an ONNX graph, read from the protobuf without onnxruntime, to
 * fill and check a manifest's `model` section when a bundle is created.
 *
 * `runtime/` must not import `compress/` (DESIGN.md, dependency direction), so this is a
 * small reader of its own over the same `onnx-proto` schema. It loads `onnx-proto` only
 * when called: the daemon opens bundles but never creates them, and skips that memory.
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { EdgeError, describeError } from '../../errors.js';
import type { TensorSpec } from './manifest.js';

const require = createRequire(import.meta.url);
let ns: typeof OnnxNamespace | undefined;
function onnxProto(): typeof OnnxNamespace {
  return (ns ??= (require('onnx-proto') as { onnx: typeof OnnxNamespace }).onnx);
}

const DTYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16', 21: 'uint4', 22: 'int4',
};

type Long = number | { toNumber(): number } | null | undefined;
const num = (v: Long): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

export interface GraphSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** A graph input or output as a manifest `TensorSpec` (dynamic axes by name, unknown ones as `?`). */
export function tensorSpecOf(v: OnnxNamespace.IValueInfoProto): TensorSpec {
  const tt = v.type?.tensorType;
  if (!tt) return { name: v.name ?? '', dtype: 'non-tensor', shape: [] };
  const shape = (tt.shape?.dim ?? []).map((d): number | string => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined) return num(d.dimValue as Long);
    return '?';
  });
  return { name: v.name ?? '', dtype: DTYPES[tt.elemType ?? 0] ?? `dtype${tt.elemType ?? 0}`, shape };
}

/** Inputs (without initializers, which IR < 4 lists as inputs) and outputs; `E_ONNX_PARSE` if not ONNX. */
export function graphSignature(bytes: Uint8Array, what = 'model'): GraphSignature {
  let m: OnnxNamespace.ModelProto;
  try {
    m = onnxProto().ModelProto.decode(bytes);
  } catch (e) {
    throw new EdgeError('E_ONNX_PARSE', `${what} is not a valid ONNX file (${describeError(e)}); re-export it or check that the file was copied completely`, { cause: e });
  }
  const g = m.graph;
  if (!g || !g.node || g.node.length === 0 || !m.opsetImport || m.opsetImport.length === 0) {
    throw new EdgeError('E_ONNX_PARSE', `${what} parsed but holds no ONNX graph (no nodes or no opset); is it really an .onnx file?`);
  }
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map(tensorSpecOf),
    outputs: (g.output ?? []).map(tensorSpecOf),
  };
}
