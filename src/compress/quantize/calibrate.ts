/**
 * Calibration: activation ranges over real data, from the float model run in onnxruntime-node.
 * 'minmax' takes the extreme values; 'percentile' clips the tails at p / (100 − p) (robust to
 * a few outliers stretching the scale of every other value).
 */
import type { ModelProto } from '../onnx/proto.js';
import type { Dataset } from '../evaluate/data.js';
import { collectActivations, type RunOptions } from '../evaluate/run.js';
import { percentileRange } from './math.js';
import type { Range } from './static.js';

export interface CalibrationOptions extends RunOptions {
  method?: 'minmax' | 'percentile';
  /** For 'percentile'. Default 99.99. */
  percentile?: number;
}

export async function calibrate(m: ModelProto, values: string[], ds: Dataset, opts: CalibrationOptions = {}): Promise<Map<string, Range>> {
  // Graph inputs are read from the data itself; everything else from the running model.
  const inputs = new Set((m.graph?.input ?? []).map((v) => v.name ?? ''));
  const inner = values.filter((v) => !inputs.has(v));
  const acts = inner.length ? await collectActivations(m, inner, ds, opts) : new Map<string, Float32Array[]>();
  for (const v of values) if (inputs.has(v) && ds.inputs[v]) acts.set(v, [ds.inputs[v]!.data]);
  const ranges = new Map<string, Range>();
  for (const [name, parts] of acts) {
    const total = parts.reduce((a, p) => a + p.length, 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    if (opts.method === 'percentile') {
      ranges.set(name, percentileRange(all, opts.percentile ?? 99.99));
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < all.length; i++) {
        const v = all[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      ranges.set(name, { lo: Number.isFinite(lo) ? lo : 0, hi: Number.isFinite(hi) ? hi : 0 });
    }
  }
  return ranges;
}
