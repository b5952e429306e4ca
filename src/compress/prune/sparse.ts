/**
 * Store pruned initializers as ONNX `sparse_initializer` (COO: values [nnz] + linear indices
 * [nnz]) so the file shrinks; onnxruntime densifies them at load time, so run time is unchanged.
 * A tensor is converted only when that is smaller: 4 bytes per value + 8 per int64 index means
 * sparse pays off above 2/3 sparsity (the ONNX spec requires int64 indices).
 */
import type { IGraphProto } from '../onnx/proto.js';
import { DataType } from '../onnx/proto.js';
import { floatTensor, int64Tensor, tensorDims, tensorToFloat32 } from '../onnx/tensor.js';

export function toSparseInitializers(g: IGraphProto, names: Set<string>): string[] {
  const converted: string[] = [];
  const keep = [];
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (!names.has(name) || t.dataType !== DataType.FLOAT) {
      keep.push(t);
      continue;
    }
    const v = tensorToFloat32(t);
    let nnz = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nnz++;
    if (nnz * 12 >= v.length * 4) {
      keep.push(t);
      continue;
    }
    const values = new Float32Array(nnz);
    const idx: number[] = [];
    for (let i = 0, j = 0; i < v.length; i++) if (v[i] !== 0) { values[j++] = v[i]!; idx.push(i); }
    (g.sparseInitializer ?? (g.sparseInitializer = [])).push({
      values: floatTensor(name, [nnz], values),
      indices: int64Tensor(`${name}_indices`, [nnz], idx),
      dims: tensorDims(t),
    });
    converted.push(name);
  }
  g.initializer = keep;
  return converted;
}
