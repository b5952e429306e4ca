/**
 * Making a bundle (publisher side) and opening one (device side).
 *
 * Creating fills in what a person should not type by hand — the file list with sizes and
 * sha256, the model's inputs and outputs from the ONNX graph — then checks that the
 * feature map can actually feed the model before signing, so a bad bundle is refused on
 * the workstation and not on a robot.
 */
import { EdgeError, isEdgeError } from '../../errors.js';
import { RUNTIME_VERSION } from '../../version.js';
import { compileFeatures } from '../features/assemble.js';
import { candidateSet } from '../features/candidates.js';
import { decodeBundle, readBundle, checkFileList, encodeBundle, sha256Hex, type Bundle } from './format.js';
import { graphSignature, type GraphSignature } from './graph.js';
import { MANIFEST_FORMAT, modelId, parseManifest, type FileEntry, type Manifest, type TensorSpec } from './manifest.js';
import { signManifest, verifySignature } from './sign.js';
import type { TrustStore } from './keys.js';

/** A manifest without what `createBundle` fills in; `format` and `min_runtime` default to this runtime's. */
export type ManifestPart = Omit<Manifest, 'files' | 'model' | 'format' | 'min_runtime'> &
  Partial<Pick<Manifest, 'model' | 'format' | 'min_runtime' | 'files'>>;

export interface CreateBundleOptions {
  /** The ONNX model's bytes. */
  model: Uint8Array;
  /** The manifest; `files` is always recomputed, `model` is read from the graph when absent. */
  manifest: ManifestPart;
  /** Extra files (name -> bytes), stored with role "extra". */
  extras?: Map<string, Uint8Array>;
  privateKeyPem: string;
  /** Name of the model file inside the bundle (default `model.onnx`). */
  modelFileName?: string;
}

/** The complete, checked manifest `createBundle` would sign (also for dry runs and tests). */
export function buildManifest(opts: Omit<CreateBundleOptions, 'privateKeyPem'>): Manifest {
  const graph = graphSignature(opts.model, 'the model');
  const part = opts.manifest as Partial<Manifest> | null;
  if (typeof part !== 'object' || part === null || Array.isArray(part)) {
    throw new EdgeError('E_BUNDLE_MANIFEST', 'the manifest must be a JSON object with name, version, features, actions and output');
  }
  const modelName = opts.modelFileName ?? 'model.onnx';
  const files: FileEntry[] = [{ name: modelName, role: 'model', sha256: sha256Hex(opts.model), size: opts.model.length }];
  for (const [name, data] of opts.extras ?? []) files.push({ name, role: 'extra', sha256: sha256Hex(data), size: data.length });
  const draft = {
    format: MANIFEST_FORMAT,
    min_runtime: RUNTIME_VERSION,
    ...part,
    files,
    model: part.model ?? { inputs: graph.inputs, outputs: graph.outputs },
  };
  const m = parseManifest(draft);
  checkFileList(m);
  if (part.model) checkModelSection(m, graph);
  checkFeatures(m);
  return m;
}

/** Build, check and sign a bundle; returns its bytes. */
export function createBundle(opts: CreateBundleOptions): Uint8Array {
  const m = buildManifest(opts);
  const files = new Map<string, Uint8Array>([[m.files[0]!.name, opts.model]]);
  for (const [name, data] of opts.extras ?? []) files.set(name, data);
  return encodeBundle(m, signManifest(m, opts.privateKeyPem), files);
}

function shapeText(s: TensorSpec['shape']): string {
  return `[${s.join(', ')}]`;
}

/** A hand-written `model` section must agree with the ONNX graph it describes. */
export function checkModelSection(m: Manifest, graph: GraphSignature): void {
  const id = modelId(m);
  const compare = (kind: 'input' | 'output', declared: TensorSpec[], real: TensorSpec[]): void => {
    for (const d of declared) {
      const r = real.find((x) => x.name === d.name);
      if (!r) {
        throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: the manifest declares model ${kind} "${d.name}", but the ONNX graph's ${kind}s are ${real.map((x) => `"${x.name}"`).join(', ')}; fix the name or leave "model" out to read it from the graph`);
      }
      const sameShape = d.shape.length === r.shape.length && d.shape.every((v, i) => typeof v !== 'number' || typeof r.shape[i] !== 'number' || v === r.shape[i]);
      if (d.dtype !== r.dtype || !sameShape) {
        throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: model ${kind} "${d.name}" is declared ${d.dtype}${shapeText(d.shape)} but the ONNX graph has ${r.dtype}${shapeText(r.shape)}; leave "model" out to read it from the graph`);
      }
    }
    for (const r of real) {
      if (!declared.some((d) => d.name === r.name)) {
        throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: the ONNX graph has ${kind} "${r.name}", which the manifest's "model" section does not declare`);
      }
    }
  };
  compare('input', m.model.inputs, graph.inputs);
  compare('output', m.model.outputs, graph.outputs);
}

export function actionNames(m: Pick<Manifest, 'actions'>): string[] {
  return m.actions.type === 'grid' ? m.actions.dims.map((d) => d.name) : m.actions.names;
}

/**
 * The feature map must fill every model input, with as many columns as the input's last
 * dimension, from actions the action space defines; the output must exist.
 * Throws `E_BUNDLE_MANIFEST` naming the input.
 */
export function checkFeatures(m: Manifest): void {
  const id = modelId(m);
  let plan;
  try {
    candidateSet(m.actions);
    plan = compileFeatures(m.features, actionNames(m));
  } catch (e) {
    if (isEdgeError(e)) throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: ${e.message.replace(/^E_[A-Z_]+: /, '')}`, { cause: e });
    throw e;
  }
  const seen = new Set<string>();
  for (const p of plan.inputs) {
    if (seen.has(p.input)) throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: the feature map fills input "${p.input}" twice; give each model input one entry`);
    seen.add(p.input);
    const spec = m.model.inputs.find((x) => x.name === p.input);
    if (!spec) {
      throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: the feature map fills input "${p.input}", which the model does not have (its inputs are ${m.model.inputs.map((x) => `"${x.name}"`).join(', ')})`);
    }
    if (spec.dtype !== 'float32') {
      throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: model input "${p.input}" is ${spec.dtype}, but features are float32; export the model with a float32 input`);
    }
    const last = spec.shape[spec.shape.length - 1];
    if (typeof last === 'number' && last !== p.width) {
      throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: the feature map gives input "${p.input}" ${p.width} columns, but the model's input has ${last} (shape ${shapeText(spec.shape)}); add or remove feature columns`, { details: { input: p.input, features: p.width, model: last } });
    }
  }
  for (const i of m.model.inputs) {
    if (!seen.has(i.name)) throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: model input "${i.name}" is not filled by the feature map; add a "features" entry for it`);
  }
  if (!m.model.outputs.some((o) => o.name === m.output.name)) {
    throw new EdgeError('E_BUNDLE_MANIFEST', `${id}: "output.name" is "${m.output.name}", but the model's outputs are ${m.model.outputs.map((o) => `"${o.name}"`).join(', ')}`);
  }
}

function semver(v: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = v.split(/[-+]/)[0]!.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
}

/** -1, 0, 1 comparing `major.minor.patch` (pre-release tags ignored). */
export function compareVersions(a: string, b: string): number {
  const x = semver(a);
  const y = semver(b);
  for (let i = 0; i < 3; i++) if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** `E_BUNDLE_RUNTIME` when the bundle needs a newer runtime than this one. */
export function checkRuntime(m: Manifest, runtime = RUNTIME_VERSION): void {
  if (compareVersions(m.min_runtime, runtime) > 0) {
    throw new EdgeError('E_BUNDLE_RUNTIME', `${modelId(m)} needs edgereward ${m.min_runtime} or newer, but this device runs ${runtime}; upgrade the runtime before deploying this model`, { details: { needs: m.min_runtime, have: runtime } });
  }
}

/** Bytes -> a bundle this device may load: structure, sha256, signature, runtime version, feature map. */
export function openBundleBytes(bytes: Uint8Array, trust: TrustStore, what = 'bundle'): Bundle {
  const b = decodeBundle(bytes, what);
  verifySignature(b, trust);
  checkRuntime(b.manifest);
  checkFeatures(b.manifest);
  return b;
}

/** Read a bundle file and check everything (see {@link openBundleBytes}). */
export function openBundle(path: string, trust: TrustStore): Bundle {
  const b = readBundle(path);
  verifySignature(b, trust);
  checkRuntime(b.manifest);
  checkFeatures(b.manifest);
  return b;
}
