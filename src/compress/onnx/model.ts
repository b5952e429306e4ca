/**
 * Read and write whole ONNX models. Reading refuses, with `E_ONNX_PARSE`, anything that is
 * not a model onnxruntime could load, instead of letting protobufjs throw a RangeError
 * deep in a decode loop.
 */
import { readFileSync } from 'node:fs';
import { EdgeError, describeError } from '../../errors.js';
import { onnx, type IModelProto, type ModelProto } from './proto.js';

export function decodeModel(bytes: Uint8Array, what = 'model'): ModelProto {
  let m: ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new EdgeError('E_ONNX_PARSE', `${what} is not a valid ONNX file (${describeError(e)}); re-export it or check that the file was copied completely`, { cause: e });
  }
  if (!m.graph || !m.graph.node || m.graph.node.length === 0 || !m.opsetImport || m.opsetImport.length === 0) {
    throw new EdgeError('E_ONNX_PARSE', `${what} parsed but holds no ONNX graph (no nodes or no opset); is it really an .onnx file?`);
  }
  return m;
}

export function readModel(path: string): ModelProto {
  return decodeModel(readFileSync(path), path);
}

export function encodeModel(m: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}
