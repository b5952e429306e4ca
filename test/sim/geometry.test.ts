import t from 'tap';
import { DEFAULT_SIM_CONFIG } from '../../src/sim/config.js';
import { collides } from '../../src/sim/collision.js';
import { stepState, type RobotState } from '../../src/sim/kinematics.js';
import { castRay, lidarAngles, scanLidar } from '../../src/sim/lidar.js';
import type { World } from '../../src/sim/world.js';

const lim = DEFAULT_SIM_CONFIG.limits;
const empty = (): World => ({ seed: 0, width: 10, height: 10, circles: [], boxes: [], start: { x: 1, y: 1, theta: 0 }, goal: { x: 9, y: 9 } });

t.test('kinematics: acceleration limit from rest, then cruise', async (t) => {
  const s: RobotState = { x: 0, y: 0, theta: 0, v: 0, w: 0 };
  stepState(s, 0.6, 0, 0.1, lim, s);
  t.equal(s.v, 0.1, 'v rises by accel * dt');
  t.ok(Math.abs(s.x - 0.01) < 1e-12, 'moves v * dt');
  for (let i = 0; i < 20; i++) stepState(s, 5, 0, 0.1, lim, s);
  t.equal(s.v, lim.vmax, 'clamped to vmax');
  t.equal(s.y, 0);
  stepState(s, -1, 0, 0.1, lim, s);
  t.ok(Math.abs(s.v - 0.5) < 1e-12, 'vmin = 0: brakes at the acceleration limit, never reverses');
});

t.test('kinematics: a half circle at constant (v, w) ends at (0, 2v/w)', async (t) => {
  const v = 0.5;
  const w = 1;
  const s: RobotState = { x: 0, y: 0, theta: 0, v, w };
  const n = 100;
  for (let i = 0; i < n; i++) stepState(s, v, w, Math.PI / w / n, lim, s);
  t.ok(Math.abs(s.x) < 1e-9, `x = ${s.x}`);
  t.ok(Math.abs(s.y - (2 * v) / w) < 1e-9, `y = ${s.y}`);
  t.ok(Math.abs(Math.abs(s.theta) - Math.PI) < 1e-9, 'heading turned by PI');
});

t.test('kinematics: turn rate limited by alpha', async (t) => {
  const s: RobotState = { x: 1, y: 1, theta: 0, v: 0, w: 0 };
  stepState(s, 0, 1.5, 0.1, lim, s);
  t.ok(Math.abs(s.w - 0.3) < 1e-12);
  t.ok(Math.abs(s.theta - 0.03) < 1e-12);
  t.equal(s.x, 1, 'rotating in place does not move');
});

t.test('lidar: walls at known distances', async (t) => {
  const w = empty();
  const cfg = { beams: 32, fov: 2 * Math.PI, maxRange: 10 };
  const a = lidarAngles(cfg);
  t.equal(a[0], -Math.PI, 'beam 0 looks straight back');
  t.equal(a[16], 0, 'beam 16 looks straight ahead');
  const r = scanLidar(w, { x: 2, y: 5, theta: 0 }, cfg);
  t.ok(Math.abs(r[16]! - 8) < 1e-12, 'ahead: wall x=10 at 8 m');
  t.ok(Math.abs(r[0]! - 2) < 1e-12, 'behind: wall x=0 at 2 m');
  t.ok(Math.abs(r[24]! - 5) < 1e-12, 'left: wall y=10 at 5 m');
  t.ok(Math.abs(r[8]! - 5) < 1e-12, 'right: wall y=0 at 5 m');
  t.ok(Math.abs(r[20]! - 5 * Math.SQRT2) < 1e-9, '45 degrees left: corner direction, hits y=10 at 5*sqrt2');
  t.equal(castRay(w, 2, 5, 0, 5), 5, 'capped at max range');
  const h = scanLidar(w, { x: 2, y: 5, theta: Math.PI / 2 }, cfg);
  t.ok(Math.abs(h[16]! - 5) < 1e-12, 'heading rotates the scan');
});

t.test('lidar: circle and box at known distances', async (t) => {
  const w = empty();
  w.circles.push({ x: 6, y: 5, r: 1 });
  t.ok(Math.abs(castRay(w, 2, 5, 0, 10) - 3) < 1e-12, 'circle centre 4 m ahead, r 1: 3 m');
  // Tangent-ish: a ray offset by 0.6 in y hits at x = 6 - sqrt(1 - 0.36) = 5.2.
  t.ok(Math.abs(castRay(w, 2, 5.6, 0, 10) - 3.2) < 1e-12, 'offset chord');
  t.ok(Math.abs(castRay(w, 2, 6.01, 0, 10) - 8) < 1e-12, 'misses above the circle, hits the wall');
  const b = empty();
  b.boxes.push({ x0: 4, y0: 4, x1: 5, y1: 6 });
  t.ok(Math.abs(castRay(b, 2, 5, 0, 10) - 2) < 1e-12, 'box face 2 m ahead');
  t.ok(Math.abs(castRay(b, 4.5, 1, Math.PI / 2, 10) - 3) < 1e-12, 'box bottom 3 m above');
  t.ok(Math.abs(castRay(b, 2, 2, Math.PI / 4, 10) - 2 * Math.SQRT2) < 1e-9, 'diagonal to the corner (4, 4)');
  t.ok(Math.abs(castRay(b, 6, 5, Math.PI, 10) - 1) < 1e-12, 'from the other side');
});

t.test('lidar: partial field of view spans [-fov/2, fov/2]', async (t) => {
  const a = lidarAngles({ beams: 5, fov: Math.PI, maxRange: 5 });
  t.same(Array.from(a), [-Math.PI / 2, -Math.PI / 4, 0, Math.PI / 4, Math.PI / 2]);
});

t.test('collision: the robot disc against walls, circles and boxes', async (t) => {
  const w = empty();
  w.circles.push({ x: 5, y: 5, r: 1 });
  w.boxes.push({ x0: 2, y0: 2, x1: 3, y1: 3 });
  t.notOk(collides(w, 5, 6.25, 0.2), '0.05 m clear of the circle');
  t.ok(collides(w, 5, 6.15, 0.2), 'overlapping the circle');
  t.notOk(collides(w, 3.25, 2.5, 0.2), 'clear of the box face');
  t.ok(collides(w, 3.1, 3.1, 0.2), 'box corner at 0.14 m');
  t.notOk(collides(w, 3.15, 3.15, 0.2), 'box corner at 0.21 m');
  t.ok(collides(w, 0.1, 5, 0.2), 'wall');
  t.ok(collides(w, 2.5, 2.5, 0.2), 'inside the box');
});
