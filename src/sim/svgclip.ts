/**
 * Clipping for the zoomed insets of render.ts, done on the geometry rather than with <clipPath> or
 * nested <svg>: ImageMagick's SVG renderer ignores both, and the picture must survive `convert`.
 */
export type Pt = readonly [number, number];
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Sutherland-Hodgman: a convex or concave polygon against an axis-aligned rectangle. */
export function clipPolygon(poly: readonly Pt[], r: Rect): Pt[] {
  const edges: Array<[(p: Pt) => boolean, (a: Pt, b: Pt) => Pt]> = [
    [(p) => p[0] >= r.x0, (a, b) => lerpX(a, b, r.x0)],
    [(p) => p[0] <= r.x1, (a, b) => lerpX(a, b, r.x1)],
    [(p) => p[1] >= r.y0, (a, b) => lerpY(a, b, r.y0)],
    [(p) => p[1] <= r.y1, (a, b) => lerpY(a, b, r.y1)],
  ];
  let out: Pt[] = [...poly];
  for (const [inside, cut] of edges) {
    const inp = out;
    out = [];
    for (let i = 0; i < inp.length; i++) {
      const a = inp[(i + inp.length - 1) % inp.length]!;
      const b = inp[i]!;
      if (inside(b)) {
        if (!inside(a)) out.push(cut(a, b));
        out.push(b);
      } else if (inside(a)) out.push(cut(a, b));
    }
    if (out.length === 0) break;
  }
  return out;
}

function lerpX(a: Pt, b: Pt, x: number): Pt {
  const t = (x - a[0]) / (b[0] - a[0]);
  return [x, a[1] + t * (b[1] - a[1])];
}
function lerpY(a: Pt, b: Pt, y: number): Pt {
  const t = (y - a[1]) / (b[1] - a[1]);
  return [a[0] + t * (b[0] - a[0]), y];
}

/** Liang-Barsky per segment; returns the visible runs of a polyline. */
export function clipPolyline(pts: readonly Pt[], r: Rect): Pt[][] {
  const runs: Pt[][] = [];
  let cur: Pt[] | undefined;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    let t0 = 0;
    let t1 = 1;
    let visible = true;
    for (const [p, q] of [[-dx, a[0] - r.x0], [dx, r.x1 - a[0]], [-dy, a[1] - r.y0], [dy, r.y1 - a[1]]] as const) {
      if (p === 0) {
        if (q < 0) visible = false;
      } else {
        const t = q / p;
        if (p < 0) t0 = Math.max(t0, t);
        else t1 = Math.min(t1, t);
      }
    }
    if (!visible || t0 > t1) {
      cur = undefined;
      continue;
    }
    const s: Pt = [a[0] + t0 * dx, a[1] + t0 * dy];
    const e: Pt = [a[0] + t1 * dx, a[1] + t1 * dy];
    if (!cur || t0 > 0) {
      cur = [s];
      runs.push(cur);
    }
    cur.push(e);
    if (t1 < 1) cur = undefined;
  }
  return runs;
}

/** A circle as a polygon, fine enough that its edges do not show at inset zoom. */
export function circlePolygon(x: number, y: number, r: number, n = 64): Pt[] {
  return Array.from({ length: n }, (_, i): Pt => [x + r * Math.cos((2 * Math.PI * i) / n), y + r * Math.sin((2 * Math.PI * i) / n)]);
}
