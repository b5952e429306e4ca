import { worldClearance, type World } from './world.js';

/**
 * Obstacle-aware distance to the goal on a grid (a navigation function). The reward's progress term
 * uses it instead of straight-line distance: with straight-line distance a one-second rollout has
 * local minima in front of any obstacle across the goal direction (stopping beats sliding sideways),
 * and the oracle would stall there; with this field it has none, so the oracle bounds what a model
 * can reach. Cells near obstacles cost more, so the field's descent keeps some clearance.
 */
export interface NavField {
  res: number;
  nx: number;
  ny: number;
  /** Distance-to-go at cell centres ((i + 0.5) * res, (j + 0.5) * res), row-major by y. */
  dist: Float32Array;
}

export interface NavOptions {
  res: number;
  robotRadius: number;
  /** Clearance (from the robot's edge) below which cells cost more. */
  margin: number;
}

// 16-connected neighbourhood: the metric error of 8-connected Dijkstra (up to 8%) biases the
// descent toward multiples of 45 degrees; with knight moves it falls under 3%.
const MOVES: ReadonlyArray<readonly [number, number]> = [
  [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1],
  [2, 1], [2, -1], [-2, 1], [-2, -1], [1, 2], [1, -2], [-1, 2], [-1, -2],
];

const MOVE_DI = Int8Array.from(MOVES, (m) => m[0]);
const MOVE_DJ = Int8Array.from(MOVES, (m) => m[1]);
const MOVE_LEN = Float64Array.from(MOVES, (m) => Math.hypot(m[0], m[1]));

export function buildNavField(w: World, o: NavOptions): NavField {
  const nx = Math.ceil(w.width / o.res);
  const ny = Math.ceil(w.height / o.res);
  const n = nx * ny;
  const cost = new Float32Array(n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const c = worldClearance(w, (i + 0.5) * o.res, (j + 0.5) * o.res) - o.robotRadius;
      const k = c < 0 ? 25 : c < o.margin ? 1 + 4 * ((o.margin - c) / o.margin) ** 2 : 1;
      cost[j * nx + i] = k;
    }
  }
  // Float64 while searching: comparing float64 keys with float32-rounded distances skips nodes.
  const dist = new Float64Array(n).fill(Infinity);
  const heap = new MinHeap(n * 4);
  const gi = Math.min(nx - 1, Math.max(0, Math.floor(w.goal.x / o.res)));
  const gj = Math.min(ny - 1, Math.max(0, Math.floor(w.goal.y / o.res)));
  // Seed a small disc of cells around the goal with their straight-line distance, so the field is
  // exact near the goal where the last decisions are made.
  for (let j = gj - 3; j <= gj + 3; j++) {
    for (let i = gi - 3; i <= gi + 3; i++) {
      if (i < 0 || j < 0 || i >= nx || j >= ny) continue;
      const d = Math.hypot((i + 0.5) * o.res - w.goal.x, (j + 0.5) * o.res - w.goal.y) * cost[j * nx + i]!;
      if (d < dist[j * nx + i]!) {
        dist[j * nx + i] = d;
        heap.push(d, j * nx + i);
      }
    }
  }
  while (heap.size > 0) {
    const d = heap.topKey();
    const k = heap.pop();
    if (d > dist[k]!) continue;
    const i = k % nx;
    const j = (k - i) / nx;
    for (let m = 0; m < MOVES.length; m++) {
      const di = MOVE_DI[m]!;
      const dj = MOVE_DJ[m]!;
      const a = i + di;
      const b = j + dj;
      if (a < 0 || b < 0 || a >= nx || b >= ny) continue;
      const kk = b * nx + a;
      const nd = d + MOVE_LEN[m]! * o.res * 0.5 * (cost[k]! + cost[kk]!);
      if (nd < dist[kk]!) {
        dist[kk] = nd;
        heap.push(nd, kk);
      }
    }
  }
  return { res: o.res, nx, ny, dist: Float32Array.from(dist) };
}

/** Bilinear interpolation of the field at (x, y), clamped to the grid. */
export function navDistance(f: NavField, x: number, y: number): number {
  let fx = x / f.res - 0.5;
  let fy = y / f.res - 0.5;
  fx = fx < 0 ? 0 : fx > f.nx - 1 ? f.nx - 1 : fx;
  fy = fy < 0 ? 0 : fy > f.ny - 1 ? f.ny - 1 : fy;
  const i = Math.min(Math.floor(fx), f.nx - 2);
  const j = Math.min(Math.floor(fy), f.ny - 2);
  const u = fx - i;
  const v = fy - j;
  const k = j * f.nx + i;
  const d = f.dist;
  return (1 - v) * ((1 - u) * d[k]! + u * d[k + 1]!) + v * ((1 - u) * d[k + f.nx]! + u * d[k + f.nx + 1]!);
}

/** Binary min-heap of (key, index) pairs with lazy deletion by the caller. */
class MinHeap {
  private keys: Float64Array;
  private vals: Int32Array;
  size = 0;
  constructor(cap: number) {
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
  }
  topKey(): number {
    return this.keys[0]!;
  }
  push(key: number, val: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      const v = new Int32Array(this.size * 2);
      v.set(this.vals);
      this.keys = k;
      this.vals = v;
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p]! <= key) break;
      this.keys[i] = this.keys[p]!;
      this.vals[i] = this.vals[p]!;
      i = p;
    }
    this.keys[i] = key;
    this.vals[i] = val;
  }
  pop(): number {
    const top = this.vals[0]!;
    const n = --this.size;
    const key = this.keys[n]!;
    const val = this.vals[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.keys[c + 1]! < this.keys[c]!) c++;
      if (this.keys[c]! >= key) break;
      this.keys[i] = this.keys[c]!;
      this.vals[i] = this.vals[c]!;
      i = c;
    }
    this.keys[i] = key;
    this.vals[i] = val;
    return top;
  }
}

/**
 * Direction of steepest descent of the field at (x, y) (radians), by central differences one cell
 * wide: where the obstacle-aware path to the goal leaves from here.
 */
export function navDescent(f: NavField, x: number, y: number): number {
  const h = f.res;
  const gx = navDistance(f, x + h, y) - navDistance(f, x - h, y);
  const gy = navDistance(f, x, y + h) - navDistance(f, x, y - h);
  return Math.atan2(-gy, -gx);
}
