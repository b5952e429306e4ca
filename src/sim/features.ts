import { EdgeError } from '../errors.js';
import type { Action } from './actions.js';
import { DEFAULT_SIM_CONFIG, type SimConfig } from './config.js';
import type { Observation } from './observe.js';

/**
 * One input column read from an observation stream: value = stream[field] (or stream[field][index]),
 * then fn (cos/sin) if given, then value * scale + offset, then clipped to [lo, hi] if given.
 */
export interface ObsColumn {
  stream: string;
  field: string;
  index?: number;
  scale: number;
  offset: number;
  clip?: [number, number];
  fn?: 'cos' | 'sin';
}

/** One input column read from the candidate action: value = action[action] * scale + (offset ?? 0). */
export interface ActionColumn {
  action: string;
  scale: number;
  offset?: number;
  clip?: [number, number];
}

export type FeatureColumn = ObsColumn | ActionColumn;

/** The feature map for a configuration (lidar beam count and max range, vmax, wmax). */
export function featureMapFor(c: SimConfig): FeatureColumn[] {
  const cols: FeatureColumn[] = [];
  for (let i = 0; i < c.lidar.beams; i++) {
    cols.push({ stream: 'lidar', field: 'ranges', index: i, scale: 1 / c.lidar.maxRange, offset: 0, clip: [0, 1] });
  }
  cols.push({ stream: 'odom', field: 'v', scale: 1 / c.limits.vmax, offset: 0 });
  cols.push({ stream: 'odom', field: 'w', scale: 1 / c.limits.wmax, offset: 0 });
  cols.push({ stream: 'goal', field: 'dist', scale: 0.1, offset: 0, clip: [0, 1] });
  cols.push({ stream: 'goal', field: 'bearing', fn: 'cos', scale: 1, offset: 0 });
  cols.push({ stream: 'goal', field: 'bearing', fn: 'sin', scale: 1, offset: 0 });
  cols.push({ action: 'v', scale: 1 / c.limits.vmax });
  cols.push({ action: 'w', scale: 1 / c.limits.wmax });
  return cols;
}

/**
 * 32 lidar ranges / max range (clipped 0..1), v / vmax, w / wmax, goal dist / 10 (clipped 0..1),
 * cos and sin of the goal bearing, then the action's v / vmax and w / wmax: 39 columns.
 */
export const DEFAULT_FEATURE_MAP: readonly FeatureColumn[] = Object.freeze(featureMapFor(DEFAULT_SIM_CONFIG));
export const FEATURE_DIM = DEFAULT_FEATURE_MAP.length;
/** The observation part: the columns before the action columns. */
export const OBS_FEATURE_DIM = DEFAULT_FEATURE_MAP.filter((c) => !('action' in c)).length;

const LIDAR_SCALE = 1 / DEFAULT_SIM_CONFIG.lidar.maxRange;
const V_SCALE = 1 / DEFAULT_SIM_CONFIG.limits.vmax;
const W_SCALE = 1 / DEFAULT_SIM_CONFIG.limits.wmax;

function clip01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * The observation columns of the default feature map into out[o .. o + 37): the reference the
 * manifest-driven assembler in src/runtime must agree with (same operations in the same order).
 */
export function observationFeatures(obs: Observation, out: Float32Array, o = 0): Float32Array {
  const r = obs.lidar.ranges;
  for (let i = 0; i < 32; i++) out[o + i] = clip01((r[i] ?? 0) * LIDAR_SCALE + 0);
  out[o + 32] = obs.odom.v * V_SCALE + 0;
  out[o + 33] = obs.odom.w * W_SCALE + 0;
  out[o + 34] = clip01(obs.goal.dist * 0.1 + 0);
  out[o + 35] = Math.cos(obs.goal.bearing) * 1 + 0;
  out[o + 36] = Math.sin(obs.goal.bearing) * 1 + 0;
  return out;
}

/** The model input for one (observation, action) pair under the default feature map. */
export function features(obs: Observation, action: Action, out: Float32Array = new Float32Array(FEATURE_DIM)): Float32Array {
  observationFeatures(obs, out);
  out[37] = action.v * V_SCALE + 0;
  out[38] = action.w * W_SCALE + 0;
  return out;
}

function readField(obs: Observation, c: ObsColumn): number {
  const stream = (obs as unknown as Record<string, Record<string, unknown> | undefined>)[c.stream];
  const f = stream?.[c.field];
  const v = c.index === undefined ? f : Array.isArray(f) ? f[c.index] : undefined;
  if (typeof v !== 'number') {
    throw new EdgeError(
      'E_FEATURE_FIELD',
      `feature column ${c.stream}.${c.field}${c.index === undefined ? '' : `[${c.index}]`} is not a number in the observation; check the feature map against the sensor streams`,
    );
  }
  return v;
}

function finish(x: number, scale: number, offset: number, clip?: [number, number]): number {
  let y = x * scale + offset;
  if (clip) y = y < clip[0] ? clip[0] : y > clip[1] ? clip[1] : y;
  return y;
}

/**
 * The model input computed from a feature-map description; for DEFAULT_FEATURE_MAP it equals
 * features() bit for bit (tested).
 */
export function featuresFromMap(
  map: readonly FeatureColumn[],
  obs: Observation,
  action: Action,
  out: Float32Array = new Float32Array(map.length),
): Float32Array {
  map.forEach((c, i) => {
    if ('action' in c) {
      const a = (action as unknown as Record<string, number | undefined>)[c.action];
      if (typeof a !== 'number') throw new EdgeError('E_FEATURE_FIELD', `action has no field "${c.action}" named by the feature map`);
      out[i] = finish(a, c.scale, c.offset ?? 0, c.clip);
    } else {
      let x = readField(obs, c);
      if (c.fn === 'cos') x = Math.cos(x);
      else if (c.fn === 'sin') x = Math.sin(x);
      out[i] = finish(x, c.scale, c.offset, c.clip);
    }
  });
  return out;
}

/**
 * The batch a model scores: one row per (v, w) candidate (K x 39), observation columns repeated.
 * Writes into `out` when given, so a scorer allocates nothing per tick.
 */
export function candidateFeatures(
  obs: Observation,
  cands: Float32Array,
  out: Float32Array = new Float32Array((cands.length >> 1) * FEATURE_DIM),
): Float32Array {
  const k = cands.length >> 1;
  observationFeatures(obs, out, 0);
  for (let i = 0; i < k; i++) {
    const o = i * FEATURE_DIM;
    if (i > 0) out.copyWithin(o, 0, OBS_FEATURE_DIM);
    out[o + 37] = cands[2 * i]! * V_SCALE + 0;
    out[o + 38] = cands[2 * i + 1]! * W_SCALE + 0;
  }
  return out;
}
