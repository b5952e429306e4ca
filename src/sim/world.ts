import { EdgeError } from '../errors.js';
import type { WorldOptions } from './config.js';
import { DEFAULT_SIM_CONFIG } from './config.js';
import { deriveSeed, mulberry32, uniform, type Rng } from './rng.js';

export interface Circle {
  x: number;
  y: number;
  r: number;
}

/** Axis-aligned box, x0 < x1, y0 < y1. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Pose {
  x: number;
  y: number;
  theta: number;
}

/** The walls are the rectangle [0, width] x [0, height]. */
export interface World {
  seed: number;
  width: number;
  height: number;
  circles: Circle[];
  boxes: Box[];
  start: Pose;
  goal: { x: number; y: number };
}

type Shape = { kind: 'circle'; c: Circle } | { kind: 'box'; b: Box };

/** Distance between the surfaces of two shapes (0 if they touch or overlap). */
function shapeGap(a: Shape, b: Shape): number {
  if (a.kind === 'circle' && b.kind === 'circle') {
    return Math.hypot(a.c.x - b.c.x, a.c.y - b.c.y) - a.c.r - b.c.r;
  }
  if (a.kind === 'box' && b.kind === 'box') {
    const dx = Math.max(0, a.b.x0 - b.b.x1, b.b.x0 - a.b.x1);
    const dy = Math.max(0, a.b.y0 - b.b.y1, b.b.y0 - a.b.y1);
    return Math.hypot(dx, dy);
  }
  const c = a.kind === 'circle' ? a.c : (b as { c: Circle }).c;
  const bx = a.kind === 'box' ? a.b : (b as { b: Box }).b;
  return boxDistance(bx, c.x, c.y) - c.r;
}

/** Signed distance from a point to a box (negative inside). */
export function boxDistance(b: Box, x: number, y: number): number {
  const dx = Math.max(b.x0 - x, x - b.x1);
  const dy = Math.max(b.y0 - y, y - b.y1);
  if (dx <= 0 && dy <= 0) return Math.max(dx, dy);
  const ex = dx > 0 ? dx : 0;
  const ey = dy > 0 ? dy : 0;
  return Math.sqrt(ex * ex + ey * ey);
}

function randomShape(rng: Rng, o: WorldOptions): Shape {
  if (rng() < o.circleProb) {
    const r = uniform(rng, o.circleRadius[0], o.circleRadius[1]);
    const x = uniform(rng, o.gap + r, o.width - o.gap - r);
    const y = uniform(rng, o.gap + r, o.height - o.gap - r);
    return { kind: 'circle', c: { x, y, r } };
  }
  const w = uniform(rng, o.boxSide[0], o.boxSide[1]);
  // Thin walls are what make straight-to-goal fail; square blocks are easy to slip past.
  const h = rng() < 0.5 ? uniform(rng, o.boxSide[0], o.boxSide[1]) : uniform(rng, 0.2, 0.4);
  const [bw, bh] = rng() < 0.5 ? [w, h] : [h, w];
  const x0 = uniform(rng, o.gap, o.width - o.gap - bw);
  const y0 = uniform(rng, o.gap, o.height - o.gap - bh);
  return { kind: 'box', b: { x0, y0, x1: x0 + bw, y1: y0 + bh } };
}

/** Distance from a point to the nearest obstacle surface or wall (negative inside an obstacle). */
export function worldClearance(w: World, x: number, y: number): number {
  let d = Math.min(x, y, w.width - x, w.height - y);
  for (const c of w.circles) {
    // sqrt, not Math.hypot: this is the reward rollout's inner loop and hypot is several times slower.
    const ex = x - c.x;
    const ey = y - c.y;
    const dc = Math.sqrt(ex * ex + ey * ey) - c.r;
    if (dc < d) d = dc;
  }
  for (const b of w.boxes) {
    const db = boxDistance(b, x, y);
    if (db < d) d = db;
  }
  return d;
}

/**
 * A random world from a seed: convex obstacles kept `gap` apart from each other and from the walls,
 * so that free space is connected and has no concave traps (a reward model sees only 5 m of lidar and
 * cannot be asked to solve mazes), and a start and goal at least `startGoalMinDist` apart.
 */
export function generateWorld(seed: number, opts: Partial<WorldOptions> = {}): World {
  const o: WorldOptions = { ...DEFAULT_SIM_CONFIG.world, ...opts };
  const rng = mulberry32(deriveSeed(seed, 1));
  const target = o.minObstacles + Math.floor(rng() * (o.maxObstacles - o.minObstacles + 1));
  const shapes: Shape[] = [];
  for (let tries = 0; shapes.length < target && tries < target * 200; tries++) {
    const s = randomShape(rng, o);
    if (shapes.every((t) => shapeGap(s, t) >= o.gap)) shapes.push(s);
  }
  const circles = shapes.flatMap((s) => (s.kind === 'circle' ? [s.c] : []));
  const boxes = shapes.flatMap((s) => (s.kind === 'box' ? [s.b] : []));
  const partial = { seed, width: o.width, height: o.height, circles, boxes };
  const probe: World = { ...partial, start: { x: 0, y: 0, theta: 0 }, goal: { x: 0, y: 0 } };
  const free = (): { x: number; y: number } | undefined => {
    for (let i = 0; i < 1000; i++) {
      const x = uniform(rng, 0, o.width);
      const y = uniform(rng, 0, o.height);
      if (worldClearance(probe, x, y) >= o.startGoalClearance) return { x, y };
    }
    return undefined;
  };
  for (let i = 0; i < 500; i++) {
    const s = free();
    const g = free();
    if (!s || !g) break;
    if (Math.hypot(s.x - g.x, s.y - g.y) < o.startGoalMinDist) continue;
    const theta = uniform(rng, -Math.PI, Math.PI);
    return { ...partial, start: { x: s.x, y: s.y, theta }, goal: g };
  }
  throw new EdgeError(
    'E_SIM_WORLD',
    `world ${seed}: found no free start and goal ${o.startGoalMinDist} m apart; lower startGoalMinDist or the obstacle count`,
  );
}
