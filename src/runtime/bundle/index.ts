/** Model bundles: one signed file holding a manifest, the ONNX model and optional extras. */
export * from './manifest.js';
export * from './format.js';
export * from './sign.js';
export * from './keys.js';
export * from './create.js';
export { graphSignature, type GraphSignature } from './graph.js';
