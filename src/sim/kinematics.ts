import type { Limits } from './config.js';

/** Pose plus the velocities actually being executed (not the commands). */
export interface RobotState {
  x: number;
  y: number;
  theta: number;
  v: number;
  w: number;
}

/** Moves `cur` toward `target` by at most `maxDelta`. */
export function approach(cur: number, target: number, maxDelta: number): number {
  if (target > cur + maxDelta) return cur + maxDelta;
  if (target < cur - maxDelta) return cur - maxDelta;
  return target;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** An angle wrapped into (-PI, PI]. */
export function wrapAngle(a: number): number {
  a = a % (2 * Math.PI);
  if (a > Math.PI) a -= 2 * Math.PI;
  else if (a <= -Math.PI) a += 2 * Math.PI;
  return a;
}

/**
 * One step of unicycle kinematics: the commanded (v, w) is clamped to the limits, the executed
 * velocities move toward it within the acceleration limits, then the pose follows the exact arc of
 * the new velocities for `dt`. Writes into `out` (which may be `s`) so rollouts allocate nothing.
 */
export function stepState(
  s: RobotState,
  vCmd: number,
  wCmd: number,
  dt: number,
  lim: Limits,
  out: RobotState,
): RobotState {
  const v = approach(s.v, clamp(vCmd, lim.vmin, lim.vmax), lim.accel * dt);
  const w = approach(s.w, clamp(wCmd, -lim.wmax, lim.wmax), lim.alpha * dt);
  const th = s.theta;
  let x = s.x;
  let y = s.y;
  if (Math.abs(w) < 1e-9) {
    x += v * dt * Math.cos(th);
    y += v * dt * Math.sin(th);
  } else {
    const th1 = th + w * dt;
    x += (v / w) * (Math.sin(th1) - Math.sin(th));
    y -= (v / w) * (Math.cos(th1) - Math.cos(th));
  }
  out.x = x;
  out.y = y;
  out.theta = wrapAngle(th + w * dt);
  out.v = v;
  out.w = w;
  return out;
}
