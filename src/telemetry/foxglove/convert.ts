/**
 * The robot's data as Foxglove's well-known schemas (`@foxglove/schemas`), JSON-encoded:
 * used by the live bridge and by the recorder's views, so a recording opens in Foxglove
 * Studio with the same panels as a live robot (docs/foxglove-layout.json).
 *
 * | topic | schema | from |
 * | --- | --- | --- |
 * | `/lidar` | foxglove.LaserScan (frame `base_link`) | stream `lidar`, field `ranges` |
 * | `/tf` | foxglove.FrameTransform (`world` -> `base_link`) | stream `odom`: x, y, theta |
 * | `/pose` | foxglove.PoseInFrame (frame `world`) | stream `odom` |
 * | `/goal` | foxglove.PoseInFrame (frame `base_link`) | stream `goal`: dx, dy |
 * | `/candidates` | foxglove.SceneUpdate (frame `base_link`) | decisions: one arrow per (v, w) candidate, coloured by reward; the chosen one white |
 *
 * Pure functions: no I/O, no clock.
 */
import { FrameTransform, LaserScan, PoseInFrame, SceneUpdate } from '@foxglove/schemas/jsonschema.js';

export interface FoxgloveGeometry {
  /** Lidar stream and field. Default `lidar`, `ranges`. */
  lidarStream: string;
  lidarField: string;
  /** Bearing of the first beam (rad). Default -PI (the simulator's full circle starts behind). */
  lidarStartAngle: number;
  /** Field of view (rad): a full circle (2 PI, the default) spaces n beams 2 PI / n apart. */
  lidarFov: number;
  odomStream: string;
  goalStream: string;
  /** Candidate action names read as linear and angular velocity. Default `v`, `w`. */
  linear: string;
  angular: string;
  /** Seconds of motion an arrow shows (its end is where the candidate would take the robot). */
  horizonS: number;
}

export const DEFAULT_GEOMETRY: FoxgloveGeometry = {
  lidarStream: 'lidar',
  lidarField: 'ranges',
  lidarStartAngle: -Math.PI,
  lidarFov: 2 * Math.PI,
  odomStream: 'odom',
  goalStream: 'goal',
  linear: 'v',
  angular: 'w',
  horizonS: 1,
};

export interface FoxgloveChannelDef {
  topic: string;
  schemaName: string;
  schema: object;
}

export const FOXGLOVE_CHANNELS: readonly FoxgloveChannelDef[] = [
  { topic: '/lidar', schemaName: 'foxglove.LaserScan', schema: LaserScan },
  { topic: '/tf', schemaName: 'foxglove.FrameTransform', schema: FrameTransform },
  { topic: '/pose', schemaName: 'foxglove.PoseInFrame', schema: PoseInFrame },
  { topic: '/goal', schemaName: 'foxglove.PoseInFrame', schema: PoseInFrame },
  { topic: '/candidates', schemaName: 'foxglove.SceneUpdate', schema: SceneUpdate },
];

export interface Time {
  sec: number;
  nsec: number;
}

export function toTime(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

function yawQuat(theta: number): { x: number; y: number; z: number; w: number } {
  return { x: 0, y: 0, z: Math.sin(theta / 2), w: Math.cos(theta / 2) };
}

type Msg = Readonly<Record<string, unknown>>;
const numOf = (m: Msg, k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);

export function laserScan(ms: number, m: Msg, g: FoxgloveGeometry = DEFAULT_GEOMETRY): object | undefined {
  const ranges = m[g.lidarField];
  if (!Array.isArray(ranges) || ranges.length === 0) return undefined;
  const n = ranges.length;
  const full = g.lidarFov >= 2 * Math.PI - 1e-9;
  const inc = full ? g.lidarFov / n : n > 1 ? g.lidarFov / (n - 1) : 0;
  return {
    timestamp: toTime(ms),
    frame_id: 'base_link',
    pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    start_angle: g.lidarStartAngle,
    end_angle: g.lidarStartAngle + (n - 1) * inc,
    ranges,
    intensities: [],
  };
}

export function frameTransform(ms: number, odom: Msg): object {
  return {
    timestamp: toTime(ms),
    parent_frame_id: 'world',
    child_frame_id: 'base_link',
    translation: { x: numOf(odom, 'x'), y: numOf(odom, 'y'), z: 0 },
    rotation: yawQuat(numOf(odom, 'theta')),
  };
}

export function pose(ms: number, odom: Msg): object {
  return { timestamp: toTime(ms), frame_id: 'world', pose: { position: { x: numOf(odom, 'x'), y: numOf(odom, 'y'), z: 0 }, orientation: yawQuat(numOf(odom, 'theta')) } };
}

export function goalPose(ms: number, goal: Msg): object {
  return { timestamp: toTime(ms), frame_id: 'base_link', pose: { position: { x: numOf(goal, 'dx'), y: numOf(goal, 'dy'), z: 0 }, orientation: yawQuat(Math.atan2(numOf(goal, 'dy'), numOf(goal, 'dx'))) } };
}

/**
 * One arrow per candidate from the robot, pointing where `(v, w)` would head after half the
 * horizon, as long as the distance it would drive; colour from red (worst) to green (best
 * reward of this tick); the chosen candidate white and thicker. Undefined when the candidates
 * have no linear/angular columns.
 */
export function candidatesScene(
  ms: number,
  names: readonly string[],
  values: ArrayLike<number>,
  rewards: ArrayLike<number>,
  count: number,
  best: number,
  g: FoxgloveGeometry = DEFAULT_GEOMETRY,
): object | undefined {
  const vi = names.indexOf(g.linear);
  const wi = names.indexOf(g.angular);
  if (vi < 0 || wi < 0 || count === 0) return undefined;
  const d = names.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const r = rewards[i]!;
    if (Number.isFinite(r)) {
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const arrows: object[] = [];
  for (let i = 0; i < count; i++) {
    const v = values[i * d + vi]!;
    const w = values[i * d + wi]!;
    const len = Math.max(0.05, Math.abs(v) * g.horizonS);
    const yaw = w * g.horizonS * 0.5 + (v < 0 ? Math.PI : 0);
    const q = Number.isFinite(rewards[i]!) ? (rewards[i]! - lo) / span : 0;
    const chosen = i === best;
    arrows.push({
      pose: { position: { x: 0, y: 0, z: chosen ? 0.02 : 0 }, orientation: yawQuat(yaw) },
      shaft_length: len * 0.8,
      shaft_diameter: chosen ? 0.04 : 0.015,
      head_length: len * 0.2,
      head_diameter: chosen ? 0.09 : 0.04,
      color: chosen ? { r: 1, g: 1, b: 1, a: 1 } : { r: 1 - q, g: q, b: 0.1, a: 0.35 + 0.5 * q },
    });
  }
  return {
    deletions: [],
    entities: [{
      timestamp: toTime(ms),
      frame_id: 'base_link',
      id: 'candidates',
      lifetime: { sec: 0, nsec: 0 },
      frame_locked: true,
      metadata: [{ key: 'best', value: String(best) }],
      arrows,
      cubes: [], spheres: [], cylinders: [], lines: [], triangles: [], texts: [], models: [],
    }],
  };
}
