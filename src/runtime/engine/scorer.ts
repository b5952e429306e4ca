/**
 * The scorer: one loaded model plus preallocated input/output buffers per batch size.
 * The decision loop writes candidate rows into `inputBuffers(count)` (or lets
 * `fillObservation` do it from the manifest's feature map) and calls `scoreBuffers(count)`,
 * which runs ONE `session.run` for all candidates (models with a dynamic batch axis).
 *
 * Hot path: the feeds and fetches objects and the ort.Tensor wrappers over our Float32Arrays
 * are built once per batch size; the reward output is bound to a preallocated tensor, which
 * onnxruntime-node 1.31 fills in place (checked in test/runtime/engine). So our code allocates
 * nothing per call; ORT's JS wrapper still allocates its own result map.
 */
import * as ort from 'onnxruntime-node';
import { basename } from 'node:path';
import { EdgeError, describeError } from '../../errors.js';
import { modelId, type Manifest, type TensorSpec } from '../bundle/manifest.js';
import { modelBytes, type Bundle } from '../bundle/format.js';
import { candidateSet, type CandidateSet } from '../features/candidates.js';
import { compileFeatures, fillFeatures, type FeaturePlan, type StreamValue } from '../features/assemble.js';
import { loadSession, type EngineOptions, type LoadedSession } from './session.js';
import { modelLayout, type ModelLayout } from './layout.js';

type Feeds = Record<string, ort.Tensor>;

interface Run {
  feeds: Feeds;
  /** Preallocated output tensor(s), or the output name list when the output is not bound. */
  fetches: Feeds | readonly string[];
  /** First row of this run in the batch (fixed-batch models run in chunks). */
  offset: number;
  rows: number;
}

interface Batch {
  count: number;
  /** Per model input, in model order: `count` rows (batched) or the whole fixed tensor. */
  bufs: Float32Array[];
  /** The same buffers in the feature plan's order, for fillFeatures. */
  planBufs: Float32Array[] | undefined;
  runs: Run[];
  /** Padded to whole chunks for fixed-batch models. */
  out: Float32Array;
  rewards: Float32Array;
  bound: boolean;
}

/** Batch sizes kept at once; the loop uses one, the CLI and benchmark a few. */
const MAX_BATCHES = 16;

export interface ScoreResult {
  /** One reward per candidate of the manifest's action space (a reused view). */
  rewards: Float32Array;
  /** Non-finite observation values seen while filling features (the loop decides). */
  nonFinite: number;
}

export class Scorer {
  readonly id: string;
  readonly manifest: Manifest | undefined;
  readonly candidates: CandidateSet | undefined;
  readonly plan: FeaturePlan | undefined;
  readonly layout: ModelLayout;
  /** The execution provider that runs the model. */
  readonly provider: string;
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly session: ort.InferenceSession;

  private readonly batches = new Map<number, Batch>();
  private readonly sharedBufs = new Map<string, Float32Array>();
  private readonly result: ScoreResult = { rewards: new Float32Array(0), nonFinite: 0 };
  private busy = false;
  private released = false;

  private constructor(loaded: LoadedSession, manifest: Manifest | undefined, opts: EngineOptions) {
    this.session = loaded.session;
    this.provider = loaded.provider;
    this.inputs = loaded.inputs;
    this.outputs = loaded.outputs;
    this.manifest = manifest;
    const widths: Record<string, number> = {};
    if (manifest) {
      this.candidates = candidateSet(manifest.actions);
      this.plan = compileFeatures(manifest.features, this.candidates.names);
      for (const p of this.plan.inputs) {
        if (!loaded.inputs.some((i) => i.name === p.input)) {
          throw new EdgeError('E_FEATURE_MAP', `the feature map fills input "${p.input}", which the model does not have (it has ${loaded.inputs.map((i) => i.name).join(', ')})`);
        }
        widths[p.input] = p.width;
      }
      const missing = loaded.inputs.find((i) => !this.plan!.inputs.some((p) => p.input === i.name));
      if (missing) throw new EdgeError('E_FEATURE_MAP', `the feature map does not say how to fill model input "${missing.name}"`);
    }
    this.layout = modelLayout(loaded.inputs, loaded.outputs, manifest?.output.name ?? opts.output, opts.rowShapes, widths);
    this.id = manifest ? modelId(manifest) : (opts.label ?? 'model');
  }

  static async fromModel(bytes: Uint8Array, manifest: Manifest | undefined, opts: EngineOptions = {}): Promise<Scorer> {
    const label = manifest ? modelId(manifest) : opts.label;
    const loaded = await loadSession(bytes, label === undefined ? opts : { ...opts, label });
    let s: Scorer;
    try {
      s = new Scorer(loaded, manifest, opts);
      await s.warmup(opts.warmupRuns ?? 2);
    } catch (e) {
      await loaded.session.release();
      throw e;
    }
    return s;
  }

  /** A decoded (and, on a device, signature-verified) bundle: its model, feature map and action space. */
  static async fromBundle(b: Bundle, opts: EngineOptions = {}): Promise<Scorer> {
    return Scorer.fromModel(modelBytes(b), b.manifest, opts);
  }

  /** A plain .onnx file (no manifest): inputBuffers/scoreBuffers only. */
  static async fromFile(path: string, opts: EngineOptions = {}): Promise<Scorer> {
    const { readFileSync } = await import('node:fs');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new EdgeError('E_ONNX_READ', `cannot read ${path} (${describeError(e)}); check the path`, { cause: e });
    }
    return Scorer.fromModel(bytes, undefined, { label: basename(path), ...opts });
  }

  private async warmup(runs: number): Promise<void> {
    const n = this.candidates?.count ?? 1;
    for (let i = 0; i < runs; i++) await this.scoreBuffers(n);
  }

  /** Batch sizes with buffers, as the model takes them (after one call with that count). */
  private batch(count: number): Batch {
    const b = this.batches.get(count);
    if (b) return b;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    if (this.released) throw new EdgeError('E_ENGINE_RELEASED', `model ${this.id} was released; load it again`);
    const nb = this.makeBatch(count);
    if (this.batches.size >= MAX_BATCHES) this.batches.delete(this.batches.keys().next().value!);
    this.batches.set(count, nb);
    return nb;
  }

  private makeBatch(count: number): Batch {
    const L = this.layout;
    const chunk = L.fixedBatch > 0 ? L.fixedBatch : count;
    const nRuns = Math.ceil(count / chunk);
    const padded = nRuns * chunk;
    const full = L.inputs.map((i) => {
      if (i.batched) return new Float32Array(padded * i.rowSize);
      let s = this.sharedBufs.get(i.name);
      if (!s) this.sharedBufs.set(i.name, (s = new Float32Array(i.rowSize)));
      return s;
    });
    const out = new Float32Array(padded);
    const bind = L.outputRowDims !== undefined && L.outputDtype === 'float32';
    const runs: Run[] = [];
    for (let r = 0; r < nRuns; r++) {
      const offset = r * chunk;
      const feeds: Feeds = {};
      L.inputs.forEach((i, k) => {
        feeds[i.name] = i.batched
          ? new ort.Tensor('float32', full[k]!.subarray(offset * i.rowSize, (offset + chunk) * i.rowSize), [chunk, ...i.rowShape])
          : new ort.Tensor('float32', full[k]!, i.rowShape);
      });
      const fetches: Feeds | readonly string[] = bind
        ? { [L.output]: new ort.Tensor('float32', out.subarray(offset, offset + chunk), [chunk, ...L.outputRowDims!]) }
        : Object.freeze([L.output]);
      runs.push({ feeds, fetches, offset, rows: chunk });
    }
    const bufs = L.inputs.map((i, k) => (i.batched ? full[k]!.subarray(0, count * i.rowSize) : full[k]!));
    const planBufs = this.plan?.inputs.map((p) => bufs[L.inputs.findIndex((i) => i.name === p.input)]!);
    return { count, bufs, planBufs, runs, out, rewards: out.subarray(0, count), bound: bind };
  }

  /**
   * The input buffers for `count` candidates, one per model input in model order
   * (`inputs[i].name`): row-major, `count × rowSize` for batched inputs, the whole tensor for
   * inputs without a batch axis. The same arrays are returned on every call with this count;
   * the caller fills them in place.
   */
  inputBuffers(count: number): Float32Array[] {
    return this.batch(count).bufs;
  }

  /**
   * Score `count` candidates from `inputBuffers(count)`: ONE session.run when the model has a
   * dynamic batch axis (chunks of the fixed size otherwise). Returns a reused view of length
   * `count`, valid until the next call with this count. Non-finite rewards are returned as is.
   * One call at a time per scorer (the buffers are shared): a concurrent call throws E_ENGINE_BUSY.
   */
  async scoreBuffers(count: number): Promise<Float32Array> {
    const b = this.batch(count);
    if (this.busy) throw new EdgeError('E_ENGINE_BUSY', `model ${this.id} is already scoring; await the previous call`);
    this.busy = true;
    try {
      for (let r = 0; r < b.runs.length; r++) {
        const run = b.runs[r]!;
        if (b.bound) {
          await this.session.run(run.feeds, run.fetches as Feeds);
        } else {
          const res = await this.session.run(run.feeds, run.fetches as readonly string[]);
          copyOut(res[this.layout.output]!, b.out, run.offset, run.rows, this.id);
        }
      }
    } catch (e) {
      if (e instanceof EdgeError) throw e;
      throw new EdgeError('E_ENGINE_RUN', `model ${this.id} failed to score ${count} candidates (${describeError(e)})`, { cause: e });
    } finally {
      this.busy = false;
    }
    return b.rewards;
  }

  /**
   * Fill the input buffers for all candidates of the manifest's action space from the latest
   * stream values (via the feature map); `shared` feature inputs are copied to every row when
   * the model input has a batch axis. Returns the number of non-finite observation values.
   */
  fillObservation(latest: Readonly<Record<string, StreamValue | undefined>>): number {
    const plan = this.needPlan();
    const cand = this.candidates!;
    const b = this.batch(cand.count);
    const bad = fillFeatures(plan, latest, cand, b.planBufs!);
    for (let p = 0; p < plan.inputs.length; p++) {
      const ip = plan.inputs[p]!;
      if (ip.per !== 'shared') continue;
      const li = this.layout.inputs.find((i) => i.name === ip.input)!;
      if (!li.batched) continue;
      const buf = b.planBufs![p]!;
      for (let r = 1; r < cand.count; r++) buf.copyWithin(r * ip.width, 0, ip.width);
    }
    return bad;
  }

  /** Latest stream values -> features -> one batched run over the manifest's candidates. */
  async scoreObservation(latest: Readonly<Record<string, StreamValue | undefined>>): Promise<ScoreResult> {
    const nonFinite = this.fillObservation(latest);
    const rewards = await this.scoreBuffers(this.candidates!.count);
    this.result.rewards = rewards;
    this.result.nonFinite = nonFinite;
    return this.result;
  }

  /**
   * The prepared feeds and fetches of the first run for `count` candidates: what the
   * benchmark hands to a bare `session.run` to measure the engine's own overhead.
   */
  prepared(count: number): { feeds: Feeds; fetches: Feeds | readonly string[] } {
    const r = this.batch(count).runs[0]!;
    return { feeds: r.feeds, fetches: r.fetches };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.batches.clear();
    await this.session.release();
  }

  private needPlan(): FeaturePlan {
    if (!this.plan) throw new EdgeError('E_ENGINE_NO_MANIFEST', `model ${this.id} has no manifest, so it has no feature map; fill inputBuffers() yourself`);
    return this.plan;
  }
}

/** Copy an unbound output into our buffer (outputs with open non-batch dims, or not float32). */
function copyOut(t: ort.Tensor, out: Float32Array, offset: number, rows: number, id: string): void {
  const d = t.data;
  if (typeof d[0] === 'string' || d.length !== rows) {
    throw new EdgeError('E_ENGINE_OUTPUT', `model ${id} gave ${d.length} values for ${rows} candidates in output of shape [${t.dims.join(', ')}]; a reward model gives one value per candidate`);
  }
  for (let i = 0; i < rows; i++) out[offset + i] = Number(d[i]);
}
