/**
 * Run ONNX models in onnxruntime-node for compression: load (refusing cleanly), score a dataset
 * in batches, collect intermediate activations (calibration), and time two models side by side.
 */
import * as ort from 'onnxruntime-node';
import { EdgeError, describeError } from '../../errors.js';
import { decodeModel, encodeModel } from '../onnx/model.js';
import { DataType, toNumber, type ModelProto } from '../onnx/proto.js';
import type { Dataset } from './data.js';

export interface RunOptions {
  /** Threads per session. Default 1: stable timings on a shared machine and the Pi-class target. */
  threads?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export async function openSession(bytes: Uint8Array, what: string, opts: RunOptions = {}): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: opts.graphOptimization ?? 'all',
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (e) {
    throw new EdgeError('E_COMPRESS_LOAD', `${what} does not load in onnxruntime-node ${ort.env.versions.common} (${describeError(e).split('\n')[0]})`, { cause: e });
  }
}

export interface InputShape {
  name: string;
  /** Per-row dims (without the batch dim). */
  perRow: number[];
  /** A fixed batch size when the first dim is a number, else undefined (dynamic). */
  fixedBatch: number | undefined;
}

export function inputShapes(m: ModelProto): InputShape[] {
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  return (m.graph?.input ?? [])
    .filter((v) => !inits.has(v.name))
    .map((v) => {
      const dims = v.type?.tensorType?.shape?.dim ?? [];
      const first = dims[0];
      const fixed = first && first.dimValue !== null && first.dimValue !== undefined && !first.dimParam ? toNumber(first.dimValue) : undefined;
      return {
        name: v.name ?? '',
        perRow: dims.slice(1).map((d) => (d.dimParam ? -1 : toNumber(d.dimValue))),
        fixedBatch: fixed && fixed > 0 ? fixed : undefined,
      };
    });
}

/** Feeds for rows [from, from+count) of the dataset; rows wrap around when the data is shorter. */
export function feedsFor(ds: Dataset, shapes: InputShape[], from: number, count: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of shapes) {
    const a = ds.inputs[s.name];
    if (!a) throw new EdgeError('E_COMPRESS_DATA', `data from ${ds.source} has no input "${s.name}" (it has ${Object.keys(ds.inputs).join(', ')})`);
    const per = a.data.length / ds.rows;
    const perRow = a.dims.slice(1);
    if (s.perRow.length !== perRow.length || s.perRow.some((d, i) => d >= 0 && d !== perRow[i])) {
      throw new EdgeError('E_COMPRESS_DATA', `input "${s.name}" of the model takes rows of [${s.perRow.join(',')}] but ${ds.source} has [${perRow.join(',')}]`);
    }
    const data = new Float32Array(count * per);
    for (let r = 0; r < count; r++) {
      const src = (from + r) % ds.rows;
      data.set(a.data.subarray(src * per, (src + 1) * per), r * per);
    }
    feeds[s.name] = new ort.Tensor('float32', data, [count, ...perRow]);
  }
  return feeds;
}

/** The first output of the model for every row of the dataset, flattened (rows × per-row values). */
export async function scoreDataset(session: ort.InferenceSession, m: ModelProto, ds: Dataset, batch = 256): Promise<Float32Array> {
  const shapes = inputShapes(m);
  const fixed = shapes.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
  const step = fixed ?? batch;
  const outName = session.outputNames[0]!;
  const parts: Float32Array[] = [];
  for (let from = 0; from < ds.rows; from += step) {
    const count = fixed ?? Math.min(step, ds.rows - from);
    const res = await session.run(feedsFor(ds, shapes, from, count), [outName]);
    const data = res[outName]!.data as Float32Array;
    const keep = Math.min(count, ds.rows - from);
    parts.push(data.slice(0, (data.length / count) * keep));
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Values of intermediate tensors over the dataset: the model is re-written with those values as
 * extra graph outputs (float32) and run in onnxruntime. Returns name → concatenated values.
 */
export async function collectActivations(m: ModelProto, names: string[], ds: Dataset, opts: RunOptions = {}): Promise<Map<string, Float32Array[]>> {
  const copy = decodeModel(encodeModel(m));
  const g = copy.graph!;
  const existing = new Set((g.output ?? []).map((o) => o.name));
  for (const n of names) {
    if (!existing.has(n)) g.output!.push({ name: n, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  // Optimizations could fold away the values we ask for; calibration wants the graph as written.
  const s = await openSession(encodeModel(copy), 'the calibration model', { ...opts, graphOptimization: 'disabled' });
  const shapes = inputShapes(copy);
  const fixed = shapes.find((x) => x.fixedBatch !== undefined)?.fixedBatch;
  const step = fixed ?? 256;
  const out = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
  try {
    for (let from = 0; from < ds.rows; from += step) {
      const count = fixed ?? Math.min(step, ds.rows - from);
      const res = await s.run(feedsFor(ds, shapes, from, count), names);
      for (const n of names) out.get(n)!.push((res[n]!.data as Float32Array).slice());
    }
  } finally {
    await s.release();
  }
  return out;
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface LatencyPair {
  batch: number;
  /** Median milliseconds per session.run. */
  aMs: number;
  bMs: number;
  /** bMs / aMs */
  ratio: number;
}

/**
 * Time two sessions on the same feeds, interleaved run by run (A, B, A, B, …) so that machine
 * load hits both alike; medians. Batch sizes a fixed-batch model cannot take are skipped.
 */
export async function latencySideBySide(
  a: { session: ort.InferenceSession; model: ModelProto },
  b: { session: ort.InferenceSession; model: ModelProto },
  ds: Dataset,
  batches: number[] = [1, 64],
  opts: { runs?: number; warmup?: number } = {},
): Promise<LatencyPair[]> {
  const runs = opts.runs ?? 200;
  const warmup = opts.warmup ?? 20;
  const out: LatencyPair[] = [];
  const sa = inputShapes(a.model);
  const sb = inputShapes(b.model);
  for (const batch of batches) {
    const fixA = sa.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
    const fixB = sb.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
    if ((fixA !== undefined && fixA !== batch) || (fixB !== undefined && fixB !== batch)) continue;
    const fa = feedsFor(ds, sa, 0, batch);
    const fb = feedsFor(ds, sb, 0, batch);
    const oa = [a.session.outputNames[0]!];
    const ob = [b.session.outputNames[0]!];
    for (let i = 0; i < warmup; i++) {
      await a.session.run(fa, oa);
      await b.session.run(fb, ob);
    }
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first so neither always runs on a warmer cache.
      const first = i % 2 === 0;
      for (const which of first ? [0, 1] : [1, 0]) {
        const t0 = process.hrtime.bigint();
        if (which === 0) await a.session.run(fa, oa);
        else await b.session.run(fb, ob);
        const dt = Number(process.hrtime.bigint() - t0) / 1e6;
        (which === 0 ? ta : tb).push(dt);
      }
    }
    const ma = median(ta);
    const mb = median(tb);
    out.push({ batch, aMs: ma, bMs: mb, ratio: mb / ma });
  }
  return out;
}
