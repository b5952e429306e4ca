/**
 * The reward MLP as a TensorFlow.js layers model, and its weights as the `DenseLayer`s that
 * `buildMlpModel` (src/compress/onnx/build.ts) writes to ONNX. TF.js Dense kernels are row-major
 * `[in, out]` (x·W), the same convention as ONNX Gemm without transB, so export is a copy.
 */
import type { LayersModel, Sequential } from '@tensorflow/tfjs';
import type { Activation, DenseLayer } from '../compress/onnx/build.js';
import type { Tf } from './tf.js';

export interface MlpShape {
  inDim: number;
  /** Hidden widths, e.g. [512, 512, 256]; the output is one unit (the reward). */
  hidden: number[];
  /** Hidden activation (default 'relu'); students of the architecture search also try 'tanh'. */
  activation?: HiddenActivation;
}

/** Hidden activations that both TF.js layers and the ONNX export (buildMlpModel) know. */
export type HiddenActivation = 'relu' | 'tanh' | 'sigmoid';

/** Number of trainable parameters of an MLP with one output. */
export function mlpParams(shape: MlpShape): number {
  let n = 0;
  let prev = shape.inDim;
  for (const h of [...shape.hidden, 1]) {
    n += prev * h + h;
    prev = h;
  }
  return n;
}

/** Forward FLOPs per input row (multiply-add = 2). Training costs about 3× this. */
export function mlpFlops(shape: MlpShape): number {
  let n = 0;
  let prev = shape.inDim;
  for (const h of [...shape.hidden, 1]) {
    n += 2 * prev * h;
    prev = h;
  }
  return n;
}

/** ReLU (or `shape.activation`) hidden layers (He-uniform init for ReLU, Glorot otherwise; seeded), a linear output. */
export function createMlp(tf: Tf, shape: MlpShape, seed: number): Sequential {
  const model = tf.sequential();
  const activation = shape.activation ?? 'relu';
  shape.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation,
        kernelInitializer: activation === 'relu' ? tf.initializers.heUniform({ seed: seed + i }) : tf.initializers.glorotUniform({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [shape.inDim] } : {}),
      }),
    );
  });
  model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1000 }) }));
  return model;
}

/**
 * The model's weights as dense layers for ONNX export. The output layer is scaled so that the
 * exported network predicts `out·scale + shift` (the training target is the normalised reward;
 * the shipped model outputs the reward itself).
 */
export function denseLayers(model: LayersModel, out: { scale: number; shift: number } = { scale: 1, shift: 0 }): DenseLayer[] {
  const dense = model.layers;
  return dense.map((layer, i): DenseLayer => {
    const [kernel, bias] = layer.getWeights();
    if (!kernel || !bias || kernel.shape.length !== 2) throw new RangeError(`layer ${i} (${layer.name}) is not a dense layer with a bias`);
    const [inDim, outDim] = kernel.shape as [number, number];
    const weight = new Float32Array(kernel.dataSync());
    const b = new Float32Array(bias.dataSync());
    const last = i === dense.length - 1;
    if (last && (out.scale !== 1 || out.shift !== 0)) {
      for (let j = 0; j < weight.length; j++) weight[j] = weight[j]! * out.scale;
      for (let j = 0; j < b.length; j++) b[j] = b[j]! * out.scale + out.shift;
    }
    const act = (layer.getConfig() as { activation?: string }).activation;
    const activation: Activation = act === 'relu' || act === 'tanh' || act === 'sigmoid' ? act : 'none';
    return { weight, bias: b, inDim, outDim, activation };
  });
}
