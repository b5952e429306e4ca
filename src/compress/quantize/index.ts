/**
 * `compress quantize`: one of the passes (dynamic, static QDQ, weight-only 4-bit), then checked
 * on the target — the result is loaded in onnxruntime-node and timed side by side against the
 * input before anything is written — with optional per-node sensitivity, automatic exclusion of
 * the most harmful nodes until a fidelity target holds, and fallback of nodes that are slower
 * quantized than float.
 */
import { EdgeError } from '../../errors.js';
import { decodeModel, encodeModel } from '../onnx/model.js';
import type { ModelProto } from '../onnx/proto.js';
import type { Dataset } from '../evaluate/data.js';
import { compare, load, timingData, type Loaded } from '../evaluate/compare.js';
import { fidelity } from '../evaluate/metrics.js';
import { latencySideBySide, scoreDataset, type RunOptions } from '../evaluate/run.js';
import { referenceScores } from '../evaluate/compare.js';
import { buildReport, modelStats, type CompressReport } from '../report.js';
import { activationValues, quantizeStatic, type Range } from './static.js';
import { quantizeDynamic } from './dynamic.js';
import { quantizeWeightOnly } from './weightonly.js';
import { calibrate } from './calibrate.js';
import { equalizeModel } from './equalize.js';
import type { PassResult, WeightQuant } from './common.js';

export type QuantMode = 'dynamic' | 'static' | 'weight-only';

export interface QuantizeOptions extends RunOptions {
  /** Default 'static' when calibration data is given, else 'dynamic'. */
  mode?: QuantMode;
  /** Weight bits: 8 (default; 7 levels used when symmetric, see WeightQuant) or 4 (weight-only). */
  bits?: number;
  pow2?: boolean;
  perChannel?: boolean;
  /** Default true. */
  symmetric?: boolean;
  /** Use the full ±127 range for symmetric 8-bit weights (only on CPUs with VNNI). */
  fullRange?: boolean;
  /**
   * Storage of symmetric 8-bit weights. 'uint8': full ±127 codes stored as uint8 with zero point
   * 128, so onnxruntime runs its U8U8 kernels (exact on every x86 CPU, no int16 saturation).
   * 'int8' (default): int8 storage, U8S8 kernels, ±63 unless `fullRange`.
   */
  weightType?: 'int8' | 'uint8';
  /**
   * Static mode: cross-layer equalization of Dense → Relu → Dense chains before calibration
   * (see equalize.ts): every hidden unit gets a similar share of its activation tensor's 256 levels.
   * Default: on with `perChannel` (its rescaled rows need per-channel weight scales), else off.
   */
  equalize?: boolean;
  /** Calibration data (static mode needs it; sensitivity and targets use it). */
  calib?: Dataset;
  /** Held-out data for the reported fidelity; default: the calibration data. */
  evalData?: Dataset;
  calibration?: 'minmax' | 'percentile';
  percentile?: number;
  exclude?: string[];
  fallback?: boolean;
  minSpearman?: number;
  minTop1?: number;
  groupSize?: number;
  /** Dynamic mode's emission. Default 'fused' (DynamicQuantizeMatMul). */
  kernel?: 'fused' | 'integer';
  blockSize?: number;
  /** Batch the model is deployed at (the one "slower" is judged at). Default 64. */
  deployBatch?: number;
  /** Compute the per-node sensitivity table (implied by minSpearman/minTop1). */
  sensitivity?: boolean;
  latencyRuns?: number;
}

export interface QuantizeResult {
  bytes: Uint8Array;
  report: CompressReport;
}

function weightQuant(o: QuantizeOptions): WeightQuant {
  const bits = o.bits ?? 8;
  const symmetric = o.symmetric ?? true;
  const unsigned = symmetric && o.weightType === 'uint8';
  return { bits: symmetric && bits === 8 && !o.fullRange && !o.pow2 && !unsigned ? 7 : bits, symmetric, ...(o.pow2 ? { pow2: true } : {}), ...(unsigned ? { unsigned } : {}) };
}

function runPass(bytes: Uint8Array, mode: QuantMode, o: QuantizeOptions, ranges: Map<string, Range> | undefined, exclude: string[], only?: Set<string>): PassResult {
  const m = decodeModel(bytes);
  const common = { exclude, ...(only ? { only } : {}) };
  switch (mode) {
    case 'dynamic':
      return quantizeDynamic(m, { ...common, perChannel: !!o.perChannel, kernel: o.kernel ?? 'fused', weight: weightQuant(o) });
    case 'static':
      return quantizeStatic(m, { ...common, ranges: ranges!, perChannel: !!o.perChannel, weight: weightQuant(o) });
    case 'weight-only':
      return quantizeWeightOnly(m, { ...common, bits: o.bits === 8 ? 8 : 4, blockSize: o.blockSize ?? 32 });
  }
}

export async function quantizeModel(input: Uint8Array, o: QuantizeOptions = {}): Promise<QuantizeResult> {
  const mode: QuantMode = o.mode ?? (o.bits === 4 ? 'weight-only' : o.calib ? 'static' : 'dynamic');
  if (o.bits !== undefined && (!Number.isInteger(o.bits) || o.bits < 2 || o.bits > 8)) throw new EdgeError('E_COMPRESS_OPTION', `--bits must be an integer from 2 to 8 (got ${o.bits})`);
  if (mode === 'weight-only' && o.bits !== undefined && o.bits !== 4 && o.bits !== 8) throw new EdgeError('E_COMPRESS_OPTION', `weight-only mode takes --bits 4 or 8 (got ${o.bits})`);
  if (mode !== 'weight-only' && o.bits === 4) throw new EdgeError('E_COMPRESS_OPTION', '--bits 4 needs --mode weight-only (onnxruntime has no 4-bit activation kernels)');
  if (mode === 'static' && !o.calib) throw new EdgeError('E_COMPRESS_CALIB', 'static quantization needs calibration data: pass --calib with a JSONL of real inputs or a .ref.json fixture');
  if ((o.minSpearman !== undefined || o.minTop1 !== undefined) && !o.calib) throw new EdgeError('E_COMPRESS_CALIB', '--min-spearman / --min-top1 need data to measure on: pass --calib');
  const base = decodeModel(input, 'the input model');
  const groupSize = o.groupSize ?? 65;
  const deployBatch = o.deployBatch ?? 64;
  const runOpts: RunOptions = { ...(o.threads ? { threads: o.threads } : {}) };
  const ref = await load(input, 'the input model', runOpts);
  const notes: string[] = [];
  try {
    let ranges: Map<string, Range> | undefined;
    /** The float model the pass quantizes: the input, or its equalized twin (same function). */
    let source = input;
    if (mode === 'static' && (o.equalize ?? !!o.perChannel)) {
      const eq = decodeModel(input);
      const pairs = await equalizeModel(eq, o.calib!, { ...runOpts, exclude: o.exclude ?? [] });
      if (pairs.length) {
        source = encodeModel(eq);
        notes.push(`cross-layer equalization rescaled ${pairs.length} Relu chain${pairs.length > 1 ? 's' : ''} (${pairs.map((p) => `${p.a} → ${p.b}`).join(', ')}) before calibration`);
      }
    }
    if (mode === 'static') {
      const src = decodeModel(source);
      ranges = await calibrate(src, activationValues(src, o.exclude ?? []), o.calib!, {
        ...runOpts,
        method: o.calibration ?? (o.percentile !== undefined ? 'percentile' : 'minmax'),
        ...(o.percentile !== undefined ? { percentile: o.percentile } : {}),
      });
    }
    const userExclude = o.exclude ?? [];
    let pass = runPass(source, mode, o, ranges, userExclude);
    if (pass.quantized.length === 0) {
      throw new EdgeError('E_COMPRESS_NOTHING', `no node of the model could be quantized in ${mode} mode (${pass.skipped.map((s) => `${s.node}: ${s.reason}`).join('; ') || 'it has no MatMul/Gemm/Conv with constant weights'})`, { details: { skipped_nodes: pass.skipped } });
    }

    // Sensitivity: each node quantized alone, measured on the calibration data.
    let sensitivity: CompressReport['sensitivity'];
    const autoExcluded: string[] = [];
    let target: CompressReport['target'];
    if (o.calib && (o.sensitivity || o.minSpearman !== undefined || o.minTop1 !== undefined)) {
      const refScores = await referenceScores(ref, o.calib);
      sensitivity = [];
      for (const label of pass.quantized) {
        const one = runPass(source, mode, o, ranges, userExclude, new Set([label]));
        const t = await load(encodeModel(one.model), `the model with only ${label} quantized`, runOpts);
        try {
          const f = fidelity(refScores, await scoreDataset(t.session, t.model, o.calib), groupSize);
          sensitivity.push({ node: label, spearman: f.spearman, top1_agreement: f.top1Agreement, mean_abs_err: f.meanAbsErr });
        } finally {
          await t.session.release();
        }
      }
      sensitivity.sort((a, b) => a.spearman - b.spearman || a.top1_agreement - b.top1_agreement || b.mean_abs_err - a.mean_abs_err);
      if (o.minSpearman !== undefined || o.minTop1 !== undefined) {
        const meets = async (p: PassResult): Promise<boolean> => {
          const t = await load(encodeModel(p.model), 'the quantized model', runOpts);
          try {
            const f = fidelity(refScores, await scoreDataset(t.session, t.model, o.calib!), groupSize);
            return (o.minSpearman === undefined || f.spearman >= o.minSpearman) && (o.minTop1 === undefined || f.top1Agreement >= o.minTop1);
          } finally {
            await t.session.release();
          }
        };
        let met = await meets(pass);
        for (const s of sensitivity) {
          if (met) break;
          autoExcluded.push(s.node);
          const next = runPass(source, mode, o, ranges, [...userExclude, ...autoExcluded]);
          if (next.quantized.length === 0) break;
          pass = next;
          met = await meets(pass);
        }
        target = { ...(o.minSpearman !== undefined ? { min_spearman: o.minSpearman } : {}), ...(o.minTop1 !== undefined ? { min_top1: o.minTop1 } : {}), met };
        if (!met) notes.push('the fidelity target does not hold even with every node but the last left in float; the model written is the last one tried');
      }
    }

    // Checked on the target: load and time against the input.
    let outBytes = encodeModel(pass.model);
    let test = await load(outBytes, `the ${mode}-quantized model`, runOpts);
    const data = o.evalData ?? o.calib;
    let cmp = await compare(ref, test, data, { groupSize, runs: o.latencyRuns ?? 200, ...runOpts });
    const slowAt = (c: typeof cmp) => (c.latency.find((l) => l.batch === deployBatch) ?? c.latency[c.latency.length - 1])?.ratio ?? 0;
    const fellBack: string[] = [];
    if (o.fallback && slowAt(cmp) >= 1) {
      // Leave in float each node that is not faster quantized on its own.
      const timing = data ?? timingData(base);
      for (const label of pass.quantized) {
        const one = runPass(source, mode, o, ranges, userExclude, new Set([label]));
        const t = await load(encodeModel(one.model), `the model with only ${label} quantized`, runOpts);
        try {
          const lat = await latencySideBySide(ref, t, timing, [deployBatch], { runs: o.latencyRuns ?? 200 });
          if ((lat[0]?.ratio ?? 0) >= 1) fellBack.push(label);
        } finally {
          await t.session.release();
        }
      }
      if (fellBack.length && fellBack.length < pass.quantized.length) {
        await test.session.release();
        pass = runPass(source, mode, o, ranges, [...userExclude, ...autoExcluded, ...fellBack]);
        outBytes = encodeModel(pass.model);
        test = await load(outBytes, `the ${mode}-quantized model`, runOpts);
        cmp = await compare(ref, test, data, { groupSize, runs: o.latencyRuns ?? 200, ...runOpts });
      } else if (fellBack.length) {
        notes.push(`--fallback: every quantized node is slower on its own at batch ${deployBatch}; nothing left to fall back selectively`);
        fellBack.length = 0;
      }
    }
    await test.session.release();

    const skipped = [
      ...pass.skipped.filter((s) => !autoExcluded.includes(s.node) && !fellBack.includes(s.node)),
      ...autoExcluded.map((n) => ({ node: n, op: opOf(base, n), reason: 'kept float: quantizing it moved the output most (sensitivity), and the fidelity target needed it' })),
      ...fellBack.map((n) => ({ node: n, op: opOf(base, n), reason: `kept float (--fallback): quantized alone it is not faster at batch ${deployBatch}` })),
    ];
    if (mode !== 'weight-only' && weightQuant(o).bits === 7 && (o.bits ?? 8) === 8) {
      notes.push('symmetric 8-bit weights use the range ±63 (7 bits): onnxruntime\'s u8·s8 kernels on AVX2 CPUs without VNNI saturate at full range (--full-range to override)');
    }
    if (!data) notes.push('latency measured on zero-filled inputs (no data given)');
    else if (!o.evalData) notes.push('fidelity is on the calibration data itself; pass --eval with held-out rows for an unbiased figure');
    const report = buildReport({
      step: 'quantize',
      mode,
      options: cleanOptions(o, mode),
      inStats: modelStats(input, base),
      outStats: modelStats(outBytes, pass.model),
      int8Weights: pass.int8Weights,
      int4Weights: pass.int4Weights,
      cmp,
      dataSource: data ? data.source : null,
      deployBatch,
      changed: pass.quantized,
      skipped,
      notes,
    });
    if (sensitivity) report.sensitivity = sensitivity;
    if (autoExcluded.length) report.auto_excluded = autoExcluded;
    if (target) report.target = target;
    return { bytes: outBytes, report };
  } finally {
    await ref.session.release();
  }
}

function opOf(m: ModelProto, label: string): string {
  return (m.graph?.node ?? []).find((n) => n.name === label)?.opType ?? '';
}

function cleanOptions(o: QuantizeOptions, mode: QuantMode): Record<string, unknown> {
  const out: Record<string, unknown> = { mode };
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || k === 'calib' || k === 'evalData') continue;
    out[k] = v;
  }
  if (o.calib) out.calib = o.calib.source;
  if (o.evalData) out.eval = o.evalData.source;
  return out;
}

export type { Loaded };
