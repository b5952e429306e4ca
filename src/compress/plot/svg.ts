/**
 * Small SVG plots as hand-written strings (no dependency): a scatter plot with a Pareto front
 * and a row of bar charts. Good enough to look at in a browser or a markdown viewer.
 */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2).replace(/\.?0+$/, '') : a >= 0.01 ? x.toFixed(3).replace(/\.?0+$/, '') : x.toExponential(1);
}

/** "Nice" tick values spanning [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1-2-5 ticks per decade within [lo, hi] (log axes). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(Number(v.toPrecision(6)));
    }
  }
  return out;
}

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
  /** 'front' points are joined by the front line; 'chosen' is highlighted. */
  kind?: 'point' | 'front' | 'chosen' | 'reference';
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  logX?: boolean;
  /** A vertical dashed line (e.g. the latency target). */
  xLine?: { x: number; label: string };
}

export function scatterSvg(points: ScatterPoint[], o: ScatterOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 420;
  const m = { l: 64, r: 20, t: 40, b: 52 };
  const tx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const xs = points.map((p) => tx(p.x)).concat(o.xLine ? [tx(o.xLine.x)] : []);
  const ys = points.map((p) => p.y);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x1 + 1];
  if (!(y1 > y0)) [y0, y1] = [y0 - 0.05, y1 + 0.05];
  const px = (x1 - x0) * 0.05;
  const py = (y1 - y0) * 0.08;
  x0 -= px; x1 += px; y0 -= py; y1 += py;
  const X = (v: number) => m.l + ((tx(v) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  s.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  s.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  // Axes and ticks.
  const xt = o.logX ? logTicks(10 ** x0, 10 ** x1) : ticks(x0, x1, 6);
  for (const v of xt) {
    const x = X(v);
    if (x < m.l - 0.5 || x > W - m.r + 0.5) continue;
    s.push(`<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${H - m.b}" stroke="#eee"/>`);
    s.push(`<text x="${x.toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const v of ticks(y0, y1, 6)) {
    const y = Y(v);
    if (y < m.t - 0.5 || y > H - m.b + 0.5) continue;
    s.push(`<line x1="${m.l}" y1="${y.toFixed(1)}" x2="${W - m.r}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    s.push(`<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  s.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#444"/>`);
  s.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  s.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  if (o.xLine) {
    const x = X(o.xLine.x);
    s.push(`<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${H - m.b}" stroke="#c33" stroke-dasharray="5 4"/>`);
    s.push(`<text x="${(x + 4).toFixed(1)}" y="${m.t + 12}" fill="#c33">${esc(o.xLine.label)}</text>`);
  }
  const front = points.filter((p) => p.kind === 'front' || p.kind === 'chosen').sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    s.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${front.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
  }
  for (const p of points) {
    const x = X(p.x).toFixed(1);
    const y = Y(p.y).toFixed(1);
    const title = p.label ? `<title>${esc(p.label)}</title>` : '';
    if (p.kind === 'chosen') s.push(`<circle cx="${x}" cy="${y}" r="7" fill="#d62728" stroke="black">${title}</circle>`);
    else if (p.kind === 'front') s.push(`<circle cx="${x}" cy="${y}" r="4.5" fill="#1f77b4">${title}</circle>`);
    else if (p.kind === 'reference') s.push(`<rect x="${(X(p.x) - 5).toFixed(1)}" y="${(Y(p.y) - 5).toFixed(1)}" width="10" height="10" fill="#2ca02c">${title}</rect>`);
    else s.push(`<circle cx="${x}" cy="${y}" r="3" fill="#999" fill-opacity="0.7">${title}</circle>`);
    if (p.label && p.kind && p.kind !== 'point') s.push(`<text x="${(X(p.x) + 8).toFixed(1)}" y="${(Y(p.y) - 6).toFixed(1)}" font-size="10">${esc(p.label)}</text>`);
  }
  // Legend.
  const lx = W - m.r - 150;
  const ly = H - m.b - 58;
  s.push(`<rect x="${lx}" y="${ly}" width="146" height="54" fill="white" stroke="#ccc"/>`);
  s.push(`<circle cx="${lx + 10}" cy="${ly + 12}" r="3" fill="#999"/><text x="${lx + 20}" y="${ly + 16}">candidate</text>`);
  s.push(`<circle cx="${lx + 10}" cy="${ly + 27}" r="4.5" fill="#1f77b4"/><text x="${lx + 20}" y="${ly + 31}">Pareto front</text>`);
  s.push(`<circle cx="${lx + 10}" cy="${ly + 42}" r="6" fill="#d62728" stroke="black"/><text x="${lx + 20}" y="${ly + 46}">chosen</text>`);
  s.push('</svg>');
  return s.join('\n');
}

export interface BarPanel {
  title: string;
  unit: string;
  values: Array<{ label: string; value: number }>;
  logScale?: boolean;
}

/** A row of bar-chart panels sharing the x categories (e.g. pipeline stages). */
export function barsSvg(panels: BarPanel[], o: { title: string; panelWidth?: number; height?: number }): string {
  const PW = o.panelWidth ?? 260;
  const H = o.height ?? 300;
  const W = PW * panels.length;
  const colors = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#d62728'];
  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="10">`);
  s.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  s.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`);
  panels.forEach((p, pi) => {
    const ox = pi * PW;
    const m = { l: 14, r: 10, t: 52, b: 30 };
    const n = p.values.length;
    const bw = (PW - m.l - m.r) / Math.max(1, n);
    const tv = (v: number) => (p.logScale ? Math.log10(Math.max(v, 1e-12)) : v);
    const vals = p.values.map((v) => tv(v.value)).filter(Number.isFinite);
    const lo = p.logScale ? Math.min(...vals) - 0.3 : 0;
    const hi = Math.max(...vals, lo + 1e-9);
    const Y = (v: number) => H - m.b - ((tv(v) - lo) / (hi - lo || 1)) * (H - m.t - m.b);
    s.push(`<text x="${ox + PW / 2}" y="38" text-anchor="middle" font-size="12">${esc(p.title)}${p.logScale ? ' (log)' : ''}</text>`);
    s.push(`<line x1="${ox + m.l}" y1="${H - m.b}" x2="${ox + PW - m.r}" y2="${H - m.b}" stroke="#444"/>`);
    p.values.forEach((v, i) => {
      const x = ox + m.l + i * bw + bw * 0.15;
      const y = Number.isFinite(v.value) ? Y(v.value) : H - m.b;
      s.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${Math.max(0, H - m.b - y).toFixed(1)}" fill="${colors[i % colors.length]}"/>`);
      s.push(`<text x="${(x + bw * 0.35).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${Number.isFinite(v.value) ? fmt(v.value) : 'n/a'}${esc(p.unit)}</text>`);
      s.push(`<text x="${(x + bw * 0.35).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${esc(v.label)}</text>`);
    });
  });
  s.push('</svg>');
  return s.join('\n');
}
