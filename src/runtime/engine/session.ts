/**
 * One onnxruntime-node InferenceSession, created from config: intra-op threads, graph
 * optimization level, execution providers tried in order with a fallback to `cpu`, and
 * optional saving of the optimized graph. Load failures become `E_ONNX_*` errors with a
 * sentence an operator can act on; nothing here throws a bare ORT error.
 */
import * as ort from 'onnxruntime-node';
import { EdgeError, describeError } from '../../errors.js';
import { moduleLogger } from '../../telemetry/log.js';
import type { TensorSpec } from '../bundle/manifest.js';

// Made per load (not hot), so a CLI that lowers the log level before loading is obeyed.
const logger = () => moduleLogger('engine');

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface EngineOptions {
  /**
   * Threads ORT uses inside one operator (default 1). Reward MLPs scored in batches of tens to
   * hundreds of rows finish in well under a millisecond, where a thread pool's wake-up and spin
   * cost more than it saves, and a robot's CPU has other work; raise it for conv/attention models.
   */
  intraOpThreads?: number;
  /** ORT graph optimization level (default `all`). */
  graphOptimization?: GraphOptimization;
  /** Execution providers tried in order (default `['cpu']`); `cpu` is always the last resort. */
  executionProviders?: string[];
  /** Write the optimized graph here at load (ORT's `optimizedModelFilePath`), for inspection. */
  optimizedModelPath?: string;
  /** Batched runs on zeroed inputs at load, so the first real tick does not pay ORT's lazy setup (default 2). */
  warmupRuns?: number;
  /**
   * Per-candidate shape (dims after the batch axis) of inputs whose non-batch dims are dynamic
   * in the graph; the engine needs them to preallocate buffers. Rarely needed.
   */
  rowShapes?: Record<string, number[]>;
  /** The output holding one reward per candidate, for models without a manifest (default: the first output). */
  output?: string;
  /** Name used in logs and as `Scorer.id` when there is no manifest (e.g. the file name). */
  label?: string;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  /** The execution provider that runs this session. */
  provider: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

function specs(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, dtype: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : d === '' ? '?' : d)) }
      : { name: m.name, dtype: 'non-tensor', shape: [] },
  );
}

function sessionOptions(opts: EngineOptions, provider: string): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    intraOpNumThreads: opts.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.graphOptimization ?? 'all',
    logSeverityLevel: 3, // errors only: ORT's own warnings go to stderr, not our JSON log
  };
  if (opts.optimizedModelPath !== undefined) o.optimizedModelFilePath = opts.optimizedModelPath;
  return o;
}

function what(source: Uint8Array | string, opts: EngineOptions): string {
  return opts.label ?? (typeof source === 'string' ? source : 'the model');
}

/** ORT's load errors, turned into our codes: a file that is not ONNX vs. a graph ORT cannot run. */
function loadError(e: unknown, name: string): EdgeError {
  const msg = describeError(e);
  if (/protobuf parsing failed|No graph was found|ModelProto does not have a graph/i.test(msg)) {
    return new EdgeError('E_ONNX_PARSE', `${name} is not a valid ONNX file (${msg}); re-export it or check that the file was copied completely`, { cause: e });
  }
  if (/no such file|ENOENT|Load model from .* failed:.*(open|exist)/i.test(msg)) {
    return new EdgeError('E_ONNX_READ', `cannot read ${name} (${msg}); check the path`, { cause: e });
  }
  return new EdgeError('E_ONNX_LOAD', `onnxruntime cannot load ${name} (${msg}); check its opset and operators against onnxruntime-node 1.31`, { cause: e });
}

async function create(source: Uint8Array | string, o: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof source === 'string' ? ort.InferenceSession.create(source, o) : ort.InferenceSession.create(source, o);
}

/**
 * Create a session, trying `opts.executionProviders` in order and falling back to `cpu`
 * (logged: which provider was asked for, which one runs, and why the others did not).
 */
export async function loadSession(source: Uint8Array | string, opts: EngineOptions = {}): Promise<LoadedSession> {
  const name = what(source, opts);
  const wanted = (opts.executionProviders ?? ['cpu']).map((p) => p.toLowerCase());
  const order = wanted.includes('cpu') ? wanted.slice(0, wanted.indexOf('cpu') + 1) : [...wanted, 'cpu'];
  const failed: Array<{ provider: string; reason: string }> = [];
  for (const provider of order) {
    let session: ort.InferenceSession;
    try {
      session = await create(source, sessionOptions(opts, provider));
    } catch (e) {
      // A failed non-CPU provider may be the provider (missing library, no device) or the model;
      // the CPU attempt that follows tells which: only its error is the model's.
      if (provider === 'cpu') throw loadError(e, name);
      failed.push({ provider, reason: describeError(e) });
      logger().warn({ provider, reason: describeError(e), model: name }, `execution provider ${provider} is not available; trying the next one`);
      continue;
    }
    const loaded: LoadedSession = { session, provider, inputs: specs(session.inputMetadata), outputs: specs(session.outputMetadata) };
    const fellBack = provider !== wanted[0];
    logger().info(
      { provider, requested: wanted, failed: failed.map((f) => f.provider), model: name, threads: opts.intraOpThreads ?? 1, optimization: opts.graphOptimization ?? 'all' },
      fellBack ? `model ${name} runs on ${provider} (fallback: ${failed.map((f) => f.provider).join(', ')} unavailable)` : `model ${name} runs on ${provider}`,
    );
    return loaded;
  }
  /* c8 ignore next */
  throw new EdgeError('E_ENGINE_PROVIDER', `no execution provider could load ${name}`);
}
