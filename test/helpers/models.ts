/** Small real models and manifests for tests (built with the project's own ONNX writer). */
import { buildMlpModel } from '../../src/compress/onnx/build.js';
import type { ManifestPart } from '../../src/runtime/bundle/create.js';

/** Deterministic pseudo-random weights (no Math.random in tests). */
export function weights(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.5;
  }
  return out;
}

/** A `batch × 4 -> batch × 1` MLP (4 -> 8 relu -> 1). */
export function tinyMlp(opts: { inDim?: number; hidden?: number } = {}): Uint8Array {
  const inDim = opts.inDim ?? 4;
  const hidden = opts.hidden ?? 8;
  return buildMlpModel({
    inputName: 'x',
    outputName: 'reward',
    layers: [
      { weight: weights(inDim * hidden, 1), bias: weights(hidden, 2), inDim, outDim: hidden, activation: 'relu' },
      { weight: weights(hidden, 3), bias: new Float32Array(1), inDim: hidden, outDim: 1, activation: 'none' },
    ],
  });
}

/** A manifest part whose feature map fills the 4 columns of `tinyMlp`'s input. */
export function tinyPart(): ManifestPart {
  return {
    name: 'nav',
    version: '1.4.0',
    description: 'test reward model',
    features: [{
      input: 'x',
      per: 'candidate',
      columns: [
        { stream: 'odom', field: 'v' },
        { stream: 'goal', field: 'dx', scale: 0.1, clip: [-1, 1] },
        { action: 'v' },
        { action: 'w' },
      ],
    }],
    actions: { type: 'grid', dims: [{ name: 'v', min: 0, max: 1, steps: 3 }, { name: 'w', min: -1, max: 1, steps: 5 }] },
    output: { name: 'reward', meaning: 'expected return of (state, action)' },
    provenance: { teacher: 'unit-test', steps: [] },
  };
}
