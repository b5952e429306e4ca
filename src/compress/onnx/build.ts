/**
 * Build small ONNX graphs from weights held in typed arrays: the MLPs that the
 * training code exports (teacher, students) and the shipped sample model.
 */
import { encodeModel } from './model.js';
import { floatTensor } from './tensor.js';
import { DataType, type INodeProto, type ITensorProto, type IValueInfoProto } from './proto.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'none';

export interface DenseLayer {
  /** Row-major [inDim, outDim] (the x·W convention of TF.js and ONNX Gemm without transB). */
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
  activation: Activation;
}

export interface MlpSpec {
  inputName: string;
  outputName: string;
  layers: DenseLayer[];
  opset?: number;
  producer?: string;
  docString?: string;
}

function valueInfo(name: string, dims: Array<number | string>): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** A `batch × inDim -> batch × outDim` MLP: Gemm per layer, then its activation. */
export function buildMlpModel(spec: MlpSpec): Uint8Array {
  const nodes: INodeProto[] = [];
  const inits: ITensorProto[] = [];
  let x = spec.inputName;
  spec.layers.forEach((l, i) => {
    if (l.weight.length !== l.inDim * l.outDim || l.bias.length !== l.outDim) {
      throw new RangeError(`layer ${i}: weight must be ${l.inDim}×${l.outDim} and bias ${l.outDim}`);
    }
    const last = i === spec.layers.length - 1;
    inits.push(floatTensor(`l${i}.weight`, [l.inDim, l.outDim], l.weight), floatTensor(`l${i}.bias`, [l.outDim], l.bias));
    const gemmOut = last && l.activation === 'none' ? spec.outputName : `l${i}.gemm`;
    nodes.push({ opType: 'Gemm', name: `l${i}/Gemm`, input: [x, `l${i}.weight`, `l${i}.bias`], output: [gemmOut] });
    x = gemmOut;
    if (l.activation !== 'none') {
      const out = last ? spec.outputName : `l${i}.act`;
      const op = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid', gelu: 'Gelu' }[l.activation];
      if (l.activation === 'gelu') {
        // Gelu is an ONNX op only from opset 20; compose it as x·sigmoid(1.702x) (the fast approximation).
        const k = `l${i}.gelu_k`;
        inits.push(floatTensor(k, [], new Float32Array([1.702])));
        nodes.push({ opType: 'Mul', name: `l${i}/GeluScale`, input: [x, k], output: [`l${i}.gs`] });
        nodes.push({ opType: 'Sigmoid', name: `l${i}/GeluSig`, input: [`l${i}.gs`], output: [`l${i}.gsig`] });
        nodes.push({ opType: 'Mul', name: `l${i}/Gelu`, input: [x, `l${i}.gsig`], output: [out] });
      } else {
        nodes.push({ opType: op, name: `l${i}/${op}`, input: [x], output: [out] });
      }
      x = out;
    }
  });
  const first = spec.layers[0]!;
  const lastL = spec.layers[spec.layers.length - 1]!;
  return encodeModel({
    irVersion: 8,
    producerName: spec.producer ?? 'edgereward',
    producerVersion: '0.1.0',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: 'mlp',
      node: nodes,
      initializer: inits,
      input: [valueInfo(spec.inputName, ['batch', first.inDim])],
      output: [valueInfo(spec.outputName, ['batch', lastL.outDim])],
    },
  });
}
