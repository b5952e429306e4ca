/**
 * Compare a compressed model with its input on the target: both loaded in onnxruntime-node,
 * fidelity on the given data, latency side by side (interleaved, medians) at batch 1 and 64.
 */
import type * as ort from 'onnxruntime-node';
import { decodeModel } from '../onnx/model.js';
import type { ModelProto } from '../onnx/proto.js';
import type { Dataset } from './data.js';
import { fidelity, type Fidelity } from './metrics.js';
import { inputShapes, latencySideBySide, openSession, scoreDataset, type LatencyPair, type RunOptions } from './run.js';

export interface CompareOptions extends RunOptions {
  groupSize?: number;
  batches?: number[];
  runs?: number;
  /** Skip timing (sensitivity sweeps). */
  noLatency?: boolean;
}

export interface Comparison {
  fidelity: Fidelity | null;
  latency: LatencyPair[];
}

export interface Loaded {
  model: ModelProto;
  session: ort.InferenceSession;
}

export async function load(bytes: Uint8Array, what: string, opts: RunOptions = {}): Promise<Loaded> {
  return { model: decodeModel(bytes, what), session: await openSession(bytes, what, opts) };
}

/** Zero-filled rows shaped like the model's inputs: for timing only, never for fidelity. */
export function timingData(m: ModelProto, rows = 64): Dataset {
  const inputs: Dataset['inputs'] = {};
  for (const s of inputShapes(m)) {
    const per = s.perRow.map((d) => (d > 0 ? d : 1));
    inputs[s.name] = { dims: [rows, ...per], data: new Float32Array(rows * per.reduce((a, b) => a * b, 1)) };
  }
  return { rows, inputs, source: 'zeros (timing only)' };
}

/** Reference scores are computed once per reference model and dataset. */
const refCache = new WeakMap<ort.InferenceSession, WeakMap<Dataset, Float32Array>>();

export async function referenceScores(ref: Loaded, data: Dataset): Promise<Float32Array> {
  let m = refCache.get(ref.session);
  if (!m) refCache.set(ref.session, (m = new WeakMap()));
  let s = m.get(data);
  if (!s) m.set(data, (s = await scoreDataset(ref.session, ref.model, data)));
  return s;
}

export async function compare(ref: Loaded, test: Loaded, data: Dataset | undefined, opts: CompareOptions = {}): Promise<Comparison> {
  let fid: Fidelity | null = null;
  if (data) {
    const a = await referenceScores(ref, data);
    const b = await scoreDataset(test.session, test.model, data);
    fid = fidelity(a, b, opts.groupSize ?? 65);
  }
  const latency = opts.noLatency
    ? []
    : await latencySideBySide(ref, test, data ?? timingData(ref.model), opts.batches ?? [1, 64], { runs: opts.runs ?? 200 });
  return { fidelity: fid, latency };
}
