import type { LidarConfig } from './config.js';
import type { Pose, World } from './world.js';

/**
 * Beam angles relative to the robot's heading, counter-clockwise positive, in the ROS LaserScan
 * convention: a full circle starts at -PI (straight behind) with increment 2*PI/beams, so beam
 * beams/2 looks straight ahead; a partial field of view spans [-fov/2, +fov/2] inclusive.
 */
export function lidarAngles(cfg: LidarConfig): Float64Array {
  const a = new Float64Array(cfg.beams);
  const full = cfg.fov >= 2 * Math.PI - 1e-9;
  const inc = full ? cfg.fov / cfg.beams : cfg.beams > 1 ? cfg.fov / (cfg.beams - 1) : 0;
  const start = full ? -Math.PI : cfg.beams > 1 ? -cfg.fov / 2 : 0;
  for (let i = 0; i < cfg.beams; i++) a[i] = start + i * inc;
  return a;
}

/**
 * Exact distance along the ray from (ox, oy) in direction angle to the first obstacle surface or
 * wall, capped at maxRange. The origin is assumed inside the walls.
 */
export function castRay(w: World, ox: number, oy: number, angle: number, maxRange: number): number {
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  let best = maxRange;
  // Walls: the ray leaves the [0,W]x[0,H] rectangle through the nearer of two candidate sides.
  if (dx > 1e-12) best = Math.min(best, (w.width - ox) / dx);
  else if (dx < -1e-12) best = Math.min(best, -ox / dx);
  if (dy > 1e-12) best = Math.min(best, (w.height - oy) / dy);
  else if (dy < -1e-12) best = Math.min(best, -oy / dy);
  for (const c of w.circles) {
    // |o + t d - c|^2 = r^2 with |d| = 1: t^2 + 2 b t + cc = 0.
    const fx = ox - c.x;
    const fy = oy - c.y;
    const b = fx * dx + fy * dy;
    const cc = fx * fx + fy * fy - c.r * c.r;
    const disc = b * b - cc;
    if (disc < 0) continue;
    const s = Math.sqrt(disc);
    let t = -b - s;
    if (t < 0) t = -b + s; // origin inside the circle: the exit point
    if (t >= 0 && t < best) best = t;
  }
  for (const bx of w.boxes) {
    // Slab method.
    let tmin = -Infinity;
    let tmax = Infinity;
    if (Math.abs(dx) < 1e-12) {
      if (ox < bx.x0 || ox > bx.x1) continue;
    } else {
      const t1 = (bx.x0 - ox) / dx;
      const t2 = (bx.x1 - ox) / dx;
      tmin = Math.max(tmin, Math.min(t1, t2));
      tmax = Math.min(tmax, Math.max(t1, t2));
    }
    if (Math.abs(dy) < 1e-12) {
      if (oy < bx.y0 || oy > bx.y1) continue;
    } else {
      const t1 = (bx.y0 - oy) / dy;
      const t2 = (bx.y1 - oy) / dy;
      tmin = Math.max(tmin, Math.min(t1, t2));
      tmax = Math.min(tmax, Math.max(t1, t2));
    }
    if (tmax < tmin || tmax < 0) continue;
    const t = tmin >= 0 ? tmin : tmax;
    if (t < best) best = t;
  }
  return best < 0 ? 0 : best;
}

/** One scan from the robot's centre; writes into `out` when given. */
export function scanLidar(
  w: World,
  pose: Pose,
  cfg: LidarConfig,
  out: Float64Array = new Float64Array(cfg.beams),
  angles: Float64Array = lidarAngles(cfg),
): Float64Array {
  for (let i = 0; i < cfg.beams; i++) out[i] = castRay(w, pose.x, pose.y, pose.theta + angles[i]!, cfg.maxRange);
  return out;
}
