/**
 * Manifest-driven feature assembly: latest stream values + candidate actions -> the
 * model's input rows. Compiled once per model into flat column plans so the per-tick
 * work is a tight loop with no allocation (the hot path of the decision loop).
 */
import { EdgeError } from '../../errors.js';
import type { ActionColumn, InputFeatures, Manifest, ObservationColumn } from '../bundle/manifest.js';
import type { CandidateSet } from './candidates.js';

const FN = { identity: 0, cos: 1, sin: 2, abs: 3, log1p: 4 } as const;

interface ObsCol {
  kind: 0;
  stream: string;
  field: string;
  index: number; // -1: scalar field
  scale: number;
  offset: number;
  lo: number;
  hi: number;
  fn: number;
}
interface ActCol {
  kind: 1;
  action: number; // column in the candidate row
  scale: number;
  offset: number;
  lo: number;
  hi: number;
}
type Col = ObsCol | ActCol;

export interface InputPlan {
  input: string;
  per: 'candidate' | 'shared';
  width: number;
  cols: Col[];
}

export interface FeaturePlan {
  inputs: InputPlan[];
  /** Streams the model reads, with the fields it needs: what the daemon must subscribe to. */
  streams: Map<string, Set<string>>;
}

/** A stream's latest message: a flat object of numbers and number arrays. */
export type StreamValue = Record<string, unknown>;

function isAction(c: ObservationColumn | ActionColumn): c is ActionColumn {
  return (c as ActionColumn).action !== undefined;
}

export function compileFeatures(features: InputFeatures[], actionNames: string[]): FeaturePlan {
  const streams = new Map<string, Set<string>>();
  const inputs = features.map((f): InputPlan => {
    const cols: Col[] = [];
    for (const c of f.columns) {
      const lo = c.clip ? c.clip[0] : -Infinity;
      const hi = c.clip ? c.clip[1] : Infinity;
      if (isAction(c)) {
        const a = actionNames.indexOf(c.action);
        if (a < 0) throw new EdgeError('E_FEATURE_MAP', `input "${f.input}" reads action "${c.action}", which the action space does not define (it has ${actionNames.join(', ')})`);
        if (f.per === 'shared') throw new EdgeError('E_FEATURE_MAP', `input "${f.input}" is shared by all candidates, so it cannot read action "${c.action}"`);
        cols.push({ kind: 1, action: a, scale: c.scale ?? 1, offset: c.offset ?? 0, lo, hi });
        continue;
      }
      let fields = streams.get(c.stream);
      if (!fields) streams.set(c.stream, (fields = new Set()));
      fields.add(c.field);
      const n = c.count ?? 1;
      const start = c.index ?? (c.count === undefined ? -1 : 0);
      for (let k = 0; k < n; k++) {
        cols.push({
          kind: 0,
          stream: c.stream,
          field: c.field,
          index: start < 0 ? -1 : start + k,
          scale: c.scale ?? 1,
          offset: c.offset ?? 0,
          lo,
          hi,
          fn: FN[c.fn ?? 'identity'],
        });
      }
    }
    return { input: f.input, per: f.per, width: cols.length, cols };
  });
  return { inputs, streams };
}

export function planForManifest(m: Manifest, actionNames: string[]): FeaturePlan {
  return compileFeatures(m.features, actionNames);
}

function applyFn(fn: number, x: number): number {
  switch (fn) {
    case 1: return Math.cos(x);
    case 2: return Math.sin(x);
    case 3: return Math.abs(x);
    case 4: return Math.log1p(x);
    default: return x;
  }
}

/** Read one observation column; NaN when the stream or field is missing or not a number. */
function readObs(c: ObsCol, latest: Readonly<Record<string, StreamValue | undefined>>): number {
  const msg = latest[c.stream];
  if (msg === undefined) return NaN;
  const v = msg[c.field];
  const x = c.index < 0 ? v : Array.isArray(v) || ArrayBuffer.isView(v) ? (v as ArrayLike<unknown>)[c.index] : undefined;
  return typeof x === 'number' ? x : NaN;
}

function finish(x: number, scale: number, offset: number, lo: number, hi: number): number {
  const y = (x - offset) * scale;
  return y < lo ? lo : y > hi ? hi : y;
}

/**
 * Fill `out[i]` (Float32Array of `rows × width` for input i) for `cand.count` candidates
 * (`shared` inputs get one row). Returns the number of non-finite observation values seen,
 * so the caller can refuse to score garbage.
 */
export function fillFeatures(
  plan: FeaturePlan,
  latest: Readonly<Record<string, StreamValue | undefined>>,
  cand: CandidateSet,
  out: Float32Array[],
): number {
  let bad = 0;
  const ad = cand.names.length;
  for (let p = 0; p < plan.inputs.length; p++) {
    const ip = plan.inputs[p]!;
    const buf = out[p]!;
    const w = ip.width;
    // Observation columns are the same for every candidate: compute row 0, then copy.
    for (let j = 0; j < w; j++) {
      const c = ip.cols[j]!;
      if (c.kind === 0) {
        const x = applyFn(c.fn, readObs(c, latest));
        if (!Number.isFinite(x)) bad++;
        buf[j] = finish(x, c.scale, c.offset, c.lo, c.hi);
      }
    }
    if (ip.per === 'shared') continue;
    for (let r = 0; r < cand.count; r++) {
      const base = r * w;
      for (let j = 0; j < w; j++) {
        const c = ip.cols[j]!;
        if (c.kind === 1) buf[base + j] = finish(cand.values[r * ad + c.action]!, c.scale, c.offset, c.lo, c.hi);
        else if (r > 0) buf[base + j] = buf[j]!;
      }
    }
  }
  return bad;
}
