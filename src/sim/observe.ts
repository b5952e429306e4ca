import { lidarAngles, scanLidar } from './lidar.js';
import { wrapAngle } from './kinematics.js';
import type { Sim } from './sim.js';

/**
 * The sensor messages of the demo robot, shaped as the MQTT streams `lidar`, `odom` and `goal`
 * (DESIGN.md, MQTT contract): `t` is unix ms of the sim clock.
 */
export interface LidarMsg {
  t: number;
  ranges: number[];
}
export interface OdomMsg {
  t: number;
  x: number;
  y: number;
  theta: number;
  v: number;
  w: number;
}
/** The goal in the robot frame: dx ahead, dy to the left; bearing = atan2(dy, dx). */
export interface GoalMsg {
  t: number;
  dx: number;
  dy: number;
  dist: number;
  bearing: number;
}
export interface Observation {
  lidar: LidarMsg;
  odom: OdomMsg;
  goal: GoalMsg;
}

const anglesCache = new WeakMap<object, Float64Array>();

export function observe(sim: Sim): Observation {
  const t = Math.round(sim.startMs + sim.time * 1000);
  const s = sim.state;
  const lc = sim.config.lidar;
  let angles = anglesCache.get(lc);
  if (!angles) {
    angles = lidarAngles(lc);
    anglesCache.set(lc, angles);
  }
  const ranges = Array.from(scanLidar(sim.world, s, lc, new Float64Array(lc.beams), angles));
  const gx = sim.world.goal.x - s.x;
  const gy = sim.world.goal.y - s.y;
  const c = Math.cos(s.theta);
  const sn = Math.sin(s.theta);
  const dx = c * gx + sn * gy;
  const dy = -sn * gx + c * gy;
  return {
    lidar: { t, ranges },
    odom: { t, x: s.x, y: s.y, theta: wrapAngle(s.theta), v: s.v, w: s.w },
    goal: { t, dx, dy, dist: Math.hypot(dx, dy), bearing: Math.atan2(dy, dx) },
  };
}
