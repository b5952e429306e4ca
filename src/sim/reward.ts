import type { RobotState } from './kinematics.js';
import { approach, clamp, wrapAngle } from './kinematics.js';
import { navDescent, navDistance, type NavField } from './nav.js';
import type { Scene } from './sim.js';
import { worldClearance } from './world.js';

/** The terms of one reward, for tests and pictures; `total` is what the oracle maximises. */
export interface RewardTerms {
  total: number;
  progress: number;
  collision: number;
  proximity: number;
  effort: number;
  goal: number;
  /** Rollout time (s) at which the robot collided, or -1. */
  collidedAt: number;
}

// Progress is clamped so that the collision penalty always dominates: with |progress| <= 1.5,
// goal bonus 1, and the other costs <= 1, a colliding action scores at most 2.5 - collision and a
// safe one at least -2.5 (the test "a colliding action always scores below a safe one").
const PROGRESS_CLAMP = 1.5;

/**
 * The true reward of executing (v, w) from state s: a rollout of `horizon` seconds under the
 * velocity and acceleration limits, combining
 *   + progress   decrease of the estimated time to goal (timeToGo), / horizon: 1 for driving
 *                straight at the goal at vmax
 *   - collision  `collision` * (2 - t_hit / horizon) if the disc touches anything (earlier is worse)
 *   - proximity  mean over rollout steps of ((range - clearance) / range)^2 for clearance < range
 *   - effort     mean of |v - s.v| / vmax and |w - s.w| / (2 wmax): smoothness
 *   + goal       bonus when the rollout reaches the goal tolerance (and stops there).
 * Lidar-free: collisions are tested on the geometry directly, so thousands of states/s get scored.
 */
export function rewardTerms(scene: Scene, s: RobotState, vCmd: number, wCmd: number): RewardTerms {
  const out: RewardTerms = { total: 0, progress: 0, collision: 0, proximity: 0, effort: 0, goal: 0, collidedAt: -1 };
  evalReward(scene, s, vCmd, wCmd, out, startTimeToGo(scene, s));
  return out;
}

/**
 * Estimated seconds to the goal from a pose: the obstacle-aware distance at full speed plus
 * `heading` times the time to turn onto the descent direction. Without the turning part, turning in
 * place toward a goal behind the robot earns nothing while standing still costs no effort, and the
 * oracle would stand still forever.
 */
function timeToGo(f: NavField, x: number, y: number, th: number, vmax: number, wmax: number, heading: number): number {
  const d = navDistance(f, x, y);
  return d / vmax + (heading * Math.abs(wrapAngle(navDescent(f, x, y) - th))) / wmax;
}

function startTimeToGo(scene: Scene, s: RobotState): number {
  const l = scene.config.limits;
  return timeToGo(scene.nav, s.x, s.y, s.theta, l.vmax, l.wmax, scene.config.reward.heading);
}

/** The hot path: fills `out` and returns the total, allocating nothing. */
function evalReward(scene: Scene, s: RobotState, vCmd: number, wCmd: number, out: RewardTerms, t0: number): number {
  const c = scene.config;
  const p = c.reward;
  const lim = c.limits;
  const world = scene.world;
  const gx = world.goal.x;
  const gy = world.goal.y;
  const tol2 = c.goalTolerance * c.goalTolerance;
  const rad = c.robotRadius;
  const range = p.proximityRange;
  const n = Math.max(1, Math.round(p.horizon / p.substep));
  const dt = p.horizon / n;
  const vc = clamp(vCmd, lim.vmin, lim.vmax);
  const wc = clamp(wCmd, -lim.wmax, lim.wmax);
  const dv = lim.accel * dt;
  const dw = lim.alpha * dt;
  let x = s.x;
  let y = s.y;
  let th = s.theta;
  let v = s.v;
  let w = s.w;
  let prox = 0;
  let hit = -1;
  let reached = false;
  let k = 0;
  while (k < n) {
    k++;
    // Inlined stepState (kinematics.ts): this loop runs 65 x 10 times per decision.
    v = approach(v, vc, dv);
    w = approach(w, wc, dw);
    if (w > -1e-9 && w < 1e-9) {
      x += v * dt * Math.cos(th);
      y += v * dt * Math.sin(th);
    } else {
      const th1 = th + w * dt;
      const r = v / w;
      x += r * (Math.sin(th1) - Math.sin(th));
      y -= r * (Math.cos(th1) - Math.cos(th));
    }
    th += w * dt;
    const clr = worldClearance(world, x, y) - rad;
    if (clr < 0) {
      hit = k * dt;
      break;
    }
    if (clr < range) {
      const q = (range - clr) / range;
      prox += q * q;
    }
    const ex = x - gx;
    const ey = y - gy;
    if (ex * ex + ey * ey <= tol2) {
      reached = true;
      break;
    }
  }
  const t1 = reached ? 0 : timeToGo(scene.nav, x, y, th, lim.vmax, lim.wmax, p.heading);
  const progress = clamp((t0 - t1) / p.horizon, -PROGRESS_CLAMP, PROGRESS_CLAMP);
  const collision = hit >= 0 ? p.collision * (2 - hit / p.horizon) : 0;
  const proximity = prox / n;
  const effort = 0.5 * (Math.abs(vc - s.v) / lim.vmax + Math.abs(wc - s.w) / (2 * lim.wmax));
  const goal = reached ? p.goalBonus : 0;
  const total = p.progress * progress - collision - p.proximity * proximity - p.effort * effort + goal;
  out.total = total;
  out.progress = progress;
  out.collision = collision;
  out.proximity = proximity;
  out.effort = effort;
  out.goal = goal;
  out.collidedAt = hit;
  return total;
}

const scratch: RewardTerms = { total: 0, progress: 0, collision: 0, proximity: 0, effort: 0, goal: 0, collidedAt: -1 };

export function trueReward(scene: Scene, s: RobotState, v: number, w: number): number {
  return evalReward(scene, s, v, w, scratch, startTimeToGo(scene, s));
}

/** The true reward of every (v, w) row of `cands` (K x 2) into `out` (length K). */
export function scoreCandidates(
  scene: Scene,
  s: RobotState,
  cands: Float32Array,
  out: Float32Array = new Float32Array(cands.length >> 1),
): Float32Array {
  const k = cands.length >> 1;
  const t0 = startTimeToGo(scene, s); // shared by all candidates
  for (let i = 0; i < k; i++) out[i] = evalReward(scene, s, cands[2 * i]!, cands[2 * i + 1]!, scratch, t0);
  return out;
}

/** Index of the largest score; the first one on ties, so choices are deterministic. */
export function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
}
