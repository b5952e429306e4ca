/**
 * TensorProto <-> typed arrays. Initializers may hold their data in `raw_data`
 * (little-endian bytes, what PyTorch writes) or in the typed repeated fields.
 */
import { EdgeError } from '../../errors.js';
import { DataType, toNumber, dtypeName, type ITensorProto } from './proto.js';

export function tensorDims(t: ITensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d));
}

export function tensorSize(t: ITensorProto): number {
  return tensorDims(t).reduce((a, b) => a * b, 1);
}

function rawView(t: ITensorProto): DataView | undefined {
  const r = t.rawData;
  if (!r || r.length === 0) return undefined;
  return new DataView(r.buffer, r.byteOffset, r.byteLength);
}

/** Any numeric tensor as float32 (int8/uint8/int32/int64/double converted). */
export function tensorToFloat32(t: ITensorProto): Float32Array {
  if (t.dataLocation === 1) throw new EdgeError('E_ONNX_EXTERNAL', `tensor "${t.name}" keeps its data in an external file; load models with embedded weights`);
  const n = tensorSize(t);
  const out = new Float32Array(n);
  const raw = rawView(t);
  const type = t.dataType ?? 0;
  if (raw) {
    for (let i = 0; i < n; i++) {
      switch (type) {
        case DataType.FLOAT: out[i] = raw.getFloat32(i * 4, true); break;
        case DataType.DOUBLE: out[i] = raw.getFloat64(i * 8, true); break;
        case DataType.INT8: out[i] = raw.getInt8(i); break;
        case DataType.UINT8: out[i] = raw.getUint8(i); break;
        case DataType.INT32: out[i] = raw.getInt32(i * 4, true); break;
        case DataType.INT64: out[i] = Number(raw.getBigInt64(i * 8, true)); break;
        default: throw new EdgeError('E_ONNX_DTYPE', `tensor "${t.name}" has dtype ${dtypeName(type)}, which this tool cannot read as numbers`);
      }
    }
    return out;
  }
  const src: ArrayLike<number | { toNumber(): number }> =
    type === DataType.FLOAT ? (t.floatData ?? []) :
    type === DataType.DOUBLE ? (t.doubleData ?? []) :
    type === DataType.INT64 ? (t.int64Data ?? []) :
    (t.int32Data ?? []); // int8/uint8/int16/int32/bool are stored in int32_data
  if (src.length !== n) throw new EdgeError('E_ONNX_TENSOR', `tensor "${t.name}" declares ${n} values but holds ${src.length}`);
  for (let i = 0; i < n; i++) out[i] = toNumber(src[i]);
  return out;
}

export function floatTensor(name: string, dims: number[], data: Float32Array): ITensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

export function int8Tensor(name: string, dims: number[], data: Int8Array): ITensorProto {
  return { name, dims, dataType: DataType.INT8, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

export function uint8Tensor(name: string, dims: number[], data: Uint8Array): ITensorProto {
  return { name, dims, dataType: DataType.UINT8, rawData: data.slice() };
}

export function int64Tensor(name: string, dims: number[], data: number[]): ITensorProto {
  const b = new DataView(new ArrayBuffer(data.length * 8));
  data.forEach((v, i) => b.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(b.buffer) };
}

/** Bytes the tensor's values take (what the file pays for it). */
export function tensorBytes(t: ITensorProto): number {
  if (t.rawData && t.rawData.length) return t.rawData.length;
  const type = t.dataType ?? 0;
  const per = type === DataType.DOUBLE || type === DataType.INT64 ? 8 : type === DataType.INT8 || type === DataType.UINT8 ? 1 : 4;
  return tensorSize(t) * per;
}
