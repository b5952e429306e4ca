/**
 * The engine benchmark (bench/engine.ts and `edgereward bench`): latency per batch size, and
 * two ratios measured side by side in the same run, A/B interleaved so that the drift of a
 * shared, noisy machine hits both sides alike:
 *
 * - overhead_ratio = Scorer.scoreBuffers(64) / a bare session.run on the same prepared
 *   tensors (what our wrapper costs; goal <= 1.10);
 * - batching_gain = 64 single-candidate scoreBuffers(1) calls / one scoreBuffers(64)
 *   (what one batched run buys; goal >= 10).
 *
 * Every run is awaited (session.run is async), as the decision loop does; nothing here
 * spins synchronously around ORT. Figures are medians of single calls, not means.
 */
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { openScorer } from './open.js';
import type { Scorer } from './scorer.js';
import type { EngineOptions } from './session.js';
import { median, quantile, sig } from './stats.js';

export interface BenchOptions extends EngineOptions {
  /** Verify a bundle's signature against this trust store before benchmarking it. */
  trust?: import('../bundle/keys.js').TrustStore;
  batches?: number[];
  /** Total time budget in seconds, split between the phases (default 10). */
  seconds?: number;
  /** Batch size for the two ratios (default 64). */
  ratioBatch?: number;
}

export interface BatchFigures {
  batch: number;
  p50_ms: number;
  p99_ms: number;
  cand_per_s: number;
  runs: number;
}

export interface BenchResult {
  model: string;
  provider: string;
  threads: number;
  batches: BatchFigures[];
  overhead_ratio: number;
  batching_gain: number;
  /** The medians behind the ratios, per call (ms). */
  detail: {
    ratio_batch: number;
    engine_ms: number;
    bare_run_ms: number;
    single_x64_ms: number;
    batched_ms: number;
    /** A/B pairs timed for the two ratios. */
    pairs: number;
    /** Event-loop delay p99 while scoring (ORT 1.31's Node binding computes on the main thread). */
    event_loop_p99_ms: number;
  };
}

function fill(bufs: Float32Array[], seed: number): void {
  let s = seed >>> 0;
  for (const b of bufs) {
    for (let i = 0; i < b.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      b[i] = (s / 2 ** 32) * 2 - 1;
    }
  }
}

/** Latency of single calls for `ms` milliseconds (at least 20 calls). */
async function latency(sc: Scorer, batch: number, ms: number): Promise<BatchFigures> {
  fill(sc.inputBuffers(batch), batch);
  for (let i = 0; i < 5; i++) await sc.scoreBuffers(batch);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 20 || performance.now() - start < ms) {
    const t0 = performance.now();
    await sc.scoreBuffers(batch);
    times.push(performance.now() - t0);
  }
  const total = times.reduce((a, b) => a + b, 0);
  return { batch, p50_ms: sig(quantile(times, 0.5)), p99_ms: sig(quantile(times, 0.99)), cand_per_s: sig((batch * times.length * 1000) / total), runs: times.length };
}

/**
 * Interleave single calls of A and B (ABBA order, so neither side always runs first) for `ms`;
 * returns the median time of each. Per-call medians shrug off the preemptions of a shared
 * machine, which would spoil the mean or any block that contains one.
 */
async function interleave(a: () => Promise<unknown>, b: () => Promise<unknown>, ms: number): Promise<{ a: number; b: number; pairs: number }> {
  const ta: number[] = [];
  const tb: number[] = [];
  const time = async (f: () => Promise<unknown>, into: number[]): Promise<void> => {
    const t0 = performance.now();
    await f();
    into.push(performance.now() - t0);
  };
  const start = performance.now();
  let k = 0;
  while (k < 20 || performance.now() - start < ms) {
    if (k % 2 === 0) {
      await time(a, ta);
      await time(b, tb);
    } else {
      await time(b, tb);
      await time(a, ta);
    }
    k++;
  }
  return { a: median(ta), b: median(tb), pairs: k };
}

export async function benchScorer(sc: Scorer, opts: BenchOptions = {}): Promise<BenchResult> {
  const batches = opts.batches ?? [1, 16, 64, 256];
  const budget = (opts.seconds ?? 10) * 1000;
  const rb = opts.ratioBatch ?? 64;
  const perBatch = (budget * 0.5) / batches.length;
  const ratioMs = budget * 0.25;

  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const figures: BatchFigures[] = [];
  for (const b of batches) figures.push(await latency(sc, b, perBatch));
  eld.disable();

  // overhead: the engine call vs. a bare session.run on the very same prepared feeds/fetches.
  fill(sc.inputBuffers(rb), 7);
  const prep = sc.prepared(rb);
  const session = sc.session;
  const bare = (): Promise<ort.InferenceSession.ReturnType> =>
    Array.isArray(prep.fetches) ? session.run(prep.feeds, prep.fetches as readonly string[]) : session.run(prep.feeds, prep.fetches as ort.InferenceSession.FetchesType);
  for (let i = 0; i < 5; i++) await bare();
  const over = await interleave(() => sc.scoreBuffers(rb), bare, ratioMs);

  // batching: rb single-candidate calls vs. one batched call.
  fill(sc.inputBuffers(1), 3);
  const singles = async (): Promise<void> => {
    for (let i = 0; i < rb; i++) await sc.scoreBuffers(1);
  };
  const gain = await interleave(singles, () => sc.scoreBuffers(rb), ratioMs);

  return {
    model: sc.id,
    provider: sc.provider,
    threads: opts.intraOpThreads ?? 1,
    batches: figures,
    overhead_ratio: sig(over.a / over.b),
    batching_gain: sig(gain.a / gain.b),
    detail: {
      ratio_batch: rb,
      engine_ms: sig(over.a, 4),
      bare_run_ms: sig(over.b, 4),
      single_x64_ms: sig(gain.a, 4),
      batched_ms: sig(gain.b, 4),
      pairs: over.pairs + gain.pairs,
      event_loop_p99_ms: sig(eld.percentile(99) / 1e6),
    },
  };
}

/** Open a model file (bundle or .onnx), benchmark it, release it. */
export async function benchModel(path: string, opts: BenchOptions = {}): Promise<BenchResult> {
  const { scorer } = await openScorer(path, opts);
  try {
    return await benchScorer(scorer, opts);
  } finally {
    await scorer.release();
  }
}

/** The human-readable table. */
export function formatBench(r: BenchResult): string {
  const lines = [
    `model ${r.model} on ${r.provider}, ${r.threads} intra-op thread(s)`,
    '  batch     p50 ms     p99 ms   candidates/s     runs',
    ...r.batches.map((b) => `  ${String(b.batch).padStart(5)} ${String(b.p50_ms).padStart(10)} ${String(b.p99_ms).padStart(10)} ${String(b.cand_per_s).padStart(14)} ${String(b.runs).padStart(8)}`),
    `  overhead_ratio  ${r.overhead_ratio}  (engine ${r.detail.engine_ms} ms / bare session.run ${r.detail.bare_run_ms} ms at batch ${r.detail.ratio_batch}; goal <= 1.10)`,
    `  batching_gain   ${r.batching_gain}  (${r.detail.ratio_batch} single runs ${r.detail.single_x64_ms} ms / one batched run ${r.detail.batched_ms} ms; goal >= 10)`,
    `  event-loop delay p99 while scoring: ${r.detail.event_loop_p99_ms} ms`,
  ];
  return lines.join('\n');
}
