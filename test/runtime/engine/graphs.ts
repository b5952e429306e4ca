/** Small graphs for the engine tests, written with the project's ONNX writer (onnx-proto). */
import { encodeModel } from '../../../src/compress/onnx/model.js';
import { floatTensor } from '../../../src/compress/onnx/tensor.js';
import { DataType, type IValueInfoProto } from '../../../src/compress/onnx/proto.js';

export function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function vi(name: string, dims: Array<number | string>, elemType: number = DataType.FLOAT): IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/**
 * Two inputs, dynamic batch: `scan` [batch, 4] and `sa` [batch, 2] -> Concat -> Gemm(6 -> 1)
 * -> `reward` [batch, 1]; plus a second output `aux` (the concat) that the engine must ignore.
 */
export function twoInputModel(w: Float32Array, b: number): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'edgereward-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'two_input',
      node: [
        { opType: 'Concat', input: ['scan', 'sa'], output: ['aux'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { opType: 'Gemm', input: ['aux', 'W', 'B'], output: ['reward'] },
      ],
      initializer: [floatTensor('W', [6, 1], w), floatTensor('B', [1], new Float32Array([b]))],
      input: [vi('scan', ['batch', 4]), vi('sa', ['batch', 2])],
      output: [vi('aux', ['batch', 6]), vi('reward', ['batch', 1])],
    },
  });
}

/** `x` [batch, 3] -> ReduceSum over axis 1 -> `reward` [batch] (rank-1 output). */
export function rank1Model(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'rank1',
      node: [{ opType: 'ReduceSum', input: ['x', 'axes'], output: ['reward'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] }],
      initializer: [{ name: 'axes', dims: [1], dataType: DataType.INT64, int64Data: [1] }],
      input: [vi('x', ['batch', 3])],
      output: [vi('reward', ['batch'])],
    },
  });
}

/** An int64 input: the engine refuses it (it feeds float32 features only). */
export function int64InputModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'int_in',
      node: [{ opType: 'Cast', input: ['ids'], output: ['reward'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] }],
      input: [vi('ids', ['batch', 1], DataType.INT64)],
      output: [vi('reward', ['batch', 1])],
    },
  });
}
