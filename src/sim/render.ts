import { DEFAULT_ACTION_GRID, gridCandidates, type ActionGrid } from './actions.js';
import { resolveConfig, type SimConfig, type SimConfigInput } from './config.js';
import { stepState, type RobotState } from './kinematics.js';
import { castRay, lidarAngles } from './lidar.js';
import { scoreCandidates } from './reward.js';
import { createScene } from './sim.js';
import { circlePolygon, clipPolygon, clipPolyline, type Pt, type Rect } from './svgclip.js';
import type { World } from './world.js';

export interface RenderOptions {
  /** Trajectory indices where lidar rays are drawn (default: 3 evenly spaced). */
  lidarAt?: number[];
  /** Trajectory indices where candidate arcs are drawn (default: 3 evenly spaced). */
  candidatesAt?: number[];
  /** Scores of the candidates at an index (e.g. a model's predictions); default: the true reward. */
  scores?: ReadonlyMap<number, Float32Array>;
  /** What the colours mean, for the legend (default "true reward"). */
  scoreLabel?: string;
  config?: SimConfigInput | SimConfig;
  grid?: ActionGrid;
  title?: string;
  /** Pixels per metre (default 60). */
  scale?: number;
}

// Viridis at 5 stops: perceptually even and readable in grey, so low and high rewards stay apart.
const STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
];

export function colorScale(u: number): string {
  const x = Math.min(1, Math.max(0, u)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  const c = (j: number) => Math.round(a[j]! + (b[j]! - a[j]!) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
}

function spread(n: number, count: number): number[] {
  if (n <= 0) return [];
  return Array.from({ length: count }, (_, i) => Math.round(((i + 1) * (n - 1)) / (count + 1)));
}

const f2 = (x: number) => (Math.round(x * 100) / 100).toString();
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Frame {
  X: (x: number) => string;
  Y: (y: number) => string;
  /** Pixels per metre. */
  s: number;
}

const polyPath = (pts: readonly Pt[], f: Frame, close: boolean) =>
  pts.map((p, i) => `${i ? 'L' : 'M'}${f.X(p[0])},${f.Y(p[1])}`).join('') + (close ? 'Z' : '');

function obstaclesSvg(world: World, f: Frame, clip?: Rect): string[] {
  const out: string[] = [];
  if (clip) {
    const walls: Pt[] = [[0, 0], [world.width, 0], [world.width, world.height], [0, world.height]];
    const inside = clipPolygon(walls, clip);
    if (inside.length) out.push(`<path d="${polyPath(inside, f, true)}" fill="#fafafa"/>`);
    for (const run of clipPolyline([...walls, walls[0]!], clip)) out.push(`<path d="${polyPath(run, f, false)}" fill="none" stroke="black" stroke-width="3"/>`);
    const shapes = [
      ...world.circles.map((c) => circlePolygon(c.x, c.y, c.r)),
      ...world.boxes.map((b): Pt[] => [[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]]),
    ];
    for (const poly of shapes) {
      const c = clipPolygon(poly, clip);
      if (c.length >= 3) out.push(`<path d="${polyPath(c, f, true)}" fill="#7f7f7f"/>`);
    }
    return out;
  }
  out.push(`<rect x="${f.X(0)}" y="${f.Y(world.height)}" width="${f2(world.width * f.s)}" height="${f2(world.height * f.s)}" fill="#fafafa" stroke="black" stroke-width="3"/>`);
  for (const c of world.circles) out.push(`<circle cx="${f.X(c.x)}" cy="${f.Y(c.y)}" r="${f2(c.r * f.s)}" fill="#7f7f7f"/>`);
  for (const b of world.boxes) {
    out.push(`<rect x="${f.X(b.x0)}" y="${f.Y(b.y1)}" width="${f2((b.x1 - b.x0) * f.s)}" height="${f2((b.y1 - b.y0) * f.s)}" fill="#7f7f7f"/>`);
  }
  return out;
}

function pathSvg(trajectory: readonly RobotState[], f: Frame, width: number, clip?: Rect): string[] {
  if (trajectory.length < 2) return [];
  if (clip) {
    return clipPolyline(trajectory.map((p): Pt => [p.x, p.y]), clip).map(
      (run) => `<path d="${polyPath(run, f, false)}" fill="none" stroke="#1f77b4" stroke-width="${width}" stroke-linejoin="round" stroke-opacity="0.8"/>`,
    );
  }
  const pts = trajectory.map((p) => `${f.X(p.x)},${f.Y(p.y)}`).join(' ');
  return [`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="${width}" stroke-linejoin="round" stroke-opacity="0.8"/>`];
}

/** Each candidate's predicted arc over the reward horizon, worst first so the best is on top. */
function arcsSvg(p0: RobotState, cands: Float32Array, r: Float32Array, cfg: SimConfig, f: Frame, lo: number, span: number, width: number): string[] {
  const out: string[] = [];
  const k = cands.length >> 1;
  const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => r[a]! - r[b]!);
  const n = Math.round(cfg.reward.horizon / cfg.reward.substep);
  for (const c of order) {
    const st: RobotState = { ...p0 };
    const pts = [`${f.X(st.x)},${f.Y(st.y)}`];
    for (let q = 0; q < n; q++) {
      stepState(st, cands[2 * c]!, cands[2 * c + 1]!, cfg.reward.horizon / n, cfg.limits, st);
      pts.push(`${f.X(st.x)},${f.Y(st.y)}`);
    }
    const best = c === order[k - 1];
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colorScale((r[c]! - lo) / span)}" stroke-width="${best ? width * 2 : width}"${best ? ' stroke-dasharray="none"' : ''}/>`);
    if (best) out.push(`<circle cx="${f.X(st.x)}" cy="${f.Y(st.y)}" r="${f2(width * 1.8)}" fill="${colorScale((r[c]! - lo) / span)}" stroke="black" stroke-width="0.8"/>`);
  }
  out.push(`<circle cx="${f.X(p0.x)}" cy="${f.Y(p0.y)}" r="${f2(cfg.robotRadius * f.s)}" fill="none" stroke="black" stroke-width="1"/>`);
  out.push(`<line x1="${f.X(p0.x)}" y1="${f.Y(p0.y)}" x2="${f.X(p0.x + cfg.robotRadius * Math.cos(p0.theta))}" y2="${f.Y(p0.y + cfg.robotRadius * Math.sin(p0.theta))}" stroke="black" stroke-width="1.5"/>`);
  return out;
}

/**
 * An SVG picture of an episode: walls, obstacles, the path, start and goal, lidar rays at a few
 * points, and at a few points every candidate's predicted arc over the reward horizon, coloured by
 * its score (legend on the right). The arcs span well under a metre, so each candidate point also
 * gets a zoomed inset below the map. A hand-written string: no dependency for one picture.
 */
export function renderEpisodeSvg(world: World, trajectory: readonly RobotState[], opts: RenderOptions = {}): string {
  const cfg = resolveConfig(opts.config as SimConfigInput);
  const s = opts.scale ?? 60;
  const m = 20;
  const legendW = 200;
  const top = m + 24;
  const mapW = world.width * s;
  const mapH = world.height * s;
  const cands = gridCandidates(opts.grid ?? DEFAULT_ACTION_GRID);
  const at = (opts.candidatesAt ?? spread(trajectory.length, 3)).filter((i) => trajectory[i]);
  const insetPx = 240;
  const insetM = 2.0;
  const insetRow = at.length ? insetPx + 40 : 0;
  const W = Math.max(mapW + 2 * m + legendW, m + at.length * (insetPx + 20) + m);
  const H = top + mapH + m + insetRow;
  const main: Frame = { X: (x) => f2(m + x * s), Y: (y) => f2(top + (world.height - y) * s), s };
  const { X, Y } = main;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const title = opts.title ?? `world ${world.seed}: ${trajectory.length - 1} steps`;
  out.push(`<text x="${m}" y="${m + 4}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(...obstaclesSvg(world, main));

  // Lidar rays: beams that hit something end in a red dot; beams at max range are fainter.
  const angles = lidarAngles(cfg.lidar);
  for (const i of opts.lidarAt ?? spread(trajectory.length, 2)) {
    const p = trajectory[i];
    if (!p) continue;
    for (const a of angles) {
      const r = castRay(world, p.x, p.y, p.theta + a, cfg.lidar.maxRange);
      const hx = p.x + r * Math.cos(p.theta + a);
      const hy = p.y + r * Math.sin(p.theta + a);
      const hit = r < cfg.lidar.maxRange - 1e-9;
      out.push(`<line x1="${X(p.x)}" y1="${Y(p.y)}" x2="${X(hx)}" y2="${Y(hy)}" stroke="#ff7f0e" stroke-width="0.8" stroke-opacity="${hit ? 0.7 : 0.3}"/>`);
      if (hit) out.push(`<circle cx="${X(hx)}" cy="${Y(hy)}" r="2.2" fill="#d62728"/>`);
    }
  }
  out.push(...pathSvg(trajectory, main, 2.5));

  const scene = at.some((i) => !opts.scores?.has(i)) ? createScene(world, cfg) : undefined;
  const sets = at.map((i) => opts.scores?.get(i) ?? scoreCandidates(scene!, trajectory[i]!, cands));
  const all = sets.flatMap((r) => Array.from(r)).sort((a, b) => a - b);
  // Collisions score far below everything else; spreading the scale over them would flatten the
  // differences between the safe candidates, so the scale starts at the 10th percentile.
  const lo = all.length ? all[Math.floor(all.length * 0.1)]! : 0;
  const hi = all.length ? all[all.length - 1]! : 1;
  const span = hi - lo > 1e-9 ? hi - lo : 1;
  const letter = (j: number) => String.fromCharCode(65 + j);
  at.forEach((i, j) => {
    const p0 = trajectory[i]!;
    out.push(...arcsSvg(p0, cands, sets[j]!, cfg, main, lo, span, 1.4));
    out.push(`<text x="${f2(m + p0.x * s + 12)}" y="${f2(top + (world.height - p0.y) * s - 10)}" font-weight="bold" font-size="14">${letter(j)}</text>`);
  });

  // Start (with heading), goal (with tolerance), final robot footprint.
  const st = world.start;
  out.push(`<circle cx="${X(st.x)}" cy="${Y(st.y)}" r="${f2(cfg.robotRadius * s)}" fill="#2ca02c" fill-opacity="0.8"/>`);
  out.push(`<line x1="${X(st.x)}" y1="${Y(st.y)}" x2="${X(st.x + 0.35 * Math.cos(st.theta))}" y2="${Y(st.y + 0.35 * Math.sin(st.theta))}" stroke="black" stroke-width="2"/>`);
  out.push(`<circle cx="${X(world.goal.x)}" cy="${Y(world.goal.y)}" r="${f2(cfg.goalTolerance * s)}" fill="#d62728" fill-opacity="0.25" stroke="#d62728" stroke-width="2"/>`);
  out.push(`<path d="M${X(world.goal.x - 0.12)},${Y(world.goal.y)}h${f2(0.24 * s)}M${X(world.goal.x)},${Y(world.goal.y - 0.12)}v${f2(-0.24 * s)}" stroke="#d62728" stroke-width="2"/>`);
  const last = trajectory[trajectory.length - 1];
  if (last) out.push(`<circle cx="${X(last.x)}" cy="${Y(last.y)}" r="${f2(cfg.robotRadius * s)}" fill="#1f77b4" fill-opacity="0.5" stroke="#1f77b4"/>`);

  // Zoomed insets of the candidate points, clipped on the geometry (svgclip.ts).
  const iy = top + mapH + m + 18;
  at.forEach((i, j) => {
    const p0 = trajectory[i]!;
    const z = insetPx / insetM;
    const ix = m + j * (insetPx + 20);
    const f: Frame = { X: (x) => f2((x - p0.x + insetM / 2) * z), Y: (y) => f2((p0.y + insetM / 2 - y) * z), s: z };
    out.push(`<text x="${ix}" y="${iy - 5}" font-weight="bold">${letter(j)}: t = ${f2(i * cfg.dt)} s, v = ${f2(p0.v)} m/s</text>`);
    const win: Rect = { x0: p0.x - insetM / 2, y0: p0.y - insetM / 2, x1: p0.x + insetM / 2, y1: p0.y + insetM / 2 };
    out.push(`<g transform="translate(${ix},${iy})">`);
    out.push(`<rect width="${insetPx}" height="${insetPx}" fill="white"/>`);
    // Arcs reach at most vmax * horizon (0.6 m) from the robot, inside the window: not clipped.
    out.push(...obstaclesSvg(world, f, win), ...pathSvg(trajectory, f, 4, win), ...arcsSvg(p0, cands, sets[j]!, cfg, f, lo, span, 2.2));
    out.push('</g>');
    out.push(`<rect x="${ix}" y="${iy}" width="${insetPx}" height="${insetPx}" fill="none" stroke="black"/>`);
  });

  // Legend.
  const lx = m + mapW + 25;
  let ly = top + 10;
  const item = (svg: string, label: string) => {
    out.push(svg.replace(/\$Y/g, f2(ly)).replace(/\$X/g, f2(lx)));
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(label)}</text>`);
    ly += 22;
  };
  item(`<line x1="$X" y1="$Y" x2="${lx + 22}" y2="$Y" stroke="#1f77b4" stroke-width="2.5"/>`, 'path');
  item(`<circle cx="${lx + 11}" cy="$Y" r="7" fill="#2ca02c"/>`, 'start');
  item(`<circle cx="${lx + 11}" cy="$Y" r="7" fill="#d62728" fill-opacity="0.25" stroke="#d62728" stroke-width="2"/>`, 'goal');
  item(`<line x1="$X" y1="$Y" x2="${lx + 22}" y2="$Y" stroke="#ff7f0e" stroke-width="1.5"/>`, 'lidar ray (dot = hit)');
  item(`<rect x="$X" y="${ly - 7}" width="22" height="14" fill="#7f7f7f"/>`, 'obstacle');
  ly += 10;
  out.push(`<text x="${lx}" y="${ly}" font-weight="bold">${esc(opts.scoreLabel ?? 'true reward')}</text>`);
  out.push(`<text x="${lx}" y="${ly + 15}" font-size="10">of each (v, ω) candidate arc,</text>`);
  out.push(`<text x="${lx}" y="${ly + 28}" font-size="10">${f2(cfg.reward.horizon)} s ahead; A, B, C zoomed below</text>`);
  ly += 40;
  // Stacked rectangles rather than a <linearGradient>: some renderers (ImageMagick's) draw those black.
  const barH = 200;
  const bands = 50;
  for (let b = 0; b < bands; b++) {
    out.push(`<rect x="${lx}" y="${f2(ly + (b * barH) / bands)}" width="22" height="${f2(barH / bands + 0.5)}" fill="${colorScale(1 - (b + 0.5) / bands)}"/>`);
  }
  out.push(`<rect x="${lx}" y="${ly}" width="22" height="${barH}" fill="none" stroke="black" stroke-width="0.5"/>`);
  for (const [u, txt] of [[1, f2(hi)], [0.5, f2(lo + span / 2)], [0, `≤ ${f2(lo)}`]] as const) {
    out.push(`<text x="${lx + 30}" y="${f2(ly + (1 - u) * barH + 4)}">${esc(txt)}</text>`);
  }
  out.push(`<text x="${lx}" y="${ly + barH + 20}" font-size="10">thick arc, dot = best candidate</text>`);
  out.push('</svg>');
  return out.join('\n');
}
