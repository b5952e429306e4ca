/**
 * The device page: a top-down view of what the robot perceives and why it chose what it did,
 * beside the decision loop's figures, the active model and the update events. Everything
 * arrives over server-sent events (see types.ts); this file only draws.
 */
import { $, age, clock, el, fmt, hidpi, live, ramp, setConn } from './common.js';
import type { EventMsg, FrameMsg, HelloMsg, ModelMsg, StatusMsg } from './types.js';

const HORIZON_S = 1; // predicted arcs: the unicycle model over this long
const VIEW_M = 3; // radius of the main view (m)
const INSET_M = 0.7; // the zoomed candidate inset shows this far ahead of the robot (m)

let hello: HelloMsg | undefined;
let model: ModelMsg | undefined;
let frame: FrameMsg | undefined;
let frames = 0;
let dirty = false;

function vw(m: ModelMsg | undefined): [number, number] | undefined {
  if (!m) return undefined;
  const v = m.actions.findIndex((n) => n === 'v' || n === 'linear' || n === 'vx');
  const w = m.actions.findIndex((n) => n === 'w' || n === 'omega' || n === 'angular' || n === 'wz');
  return v >= 0 && w >= 0 ? [v, w] : undefined;
}

/** Points of the unicycle arc for (v, ω) over the horizon, in the robot frame (x ahead, y left). */
function arc(v: number, w: number, steps = 16): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let k = 0; k <= steps; k++) {
    const t = (k / steps) * HORIZON_S;
    if (Math.abs(w) < 1e-6) pts.push([v * t, 0]);
    else pts.push([(v / w) * Math.sin(w * t), (v / w) * (1 - Math.cos(w * t))]);
  }
  return pts;
}

function drawView(): void {
  const canvas = $('view') as HTMLCanvasElement;
  const W = canvas.clientWidth || 640;
  const ctx = hidpi(canvas, W, W);
  const cx = W / 2;
  const cy = W / 2;
  const s = (W / 2 - 14) / VIEW_M; // px per metre
  // Robot frame -> screen: ahead is up, left is left.
  const X = (x: number, y: number): number => cx - y * s;
  const Y = (x: number, _y: number): number => cy - x * s;
  ctx.clearRect(0, 0, W, W);
  // range rings
  ctx.strokeStyle = '#1c232d';
  ctx.fillStyle = '#3a4452';
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let r = 1; r <= VIEW_M; r++) {
    ctx.beginPath();
    ctx.arc(cx, cy, r * s, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.fillText(`${r} m`, cx + 4, cy - r * s + 12);
  }
  const f = frame;
  if (!f) {
    ctx.fillStyle = '#8b949e';
    ctx.fillText('waiting for the first decision…', cx - 80, cy);
    return;
  }
  // lidar: rays to the hits, hits as dots (rays beyond the view end at its edge)
  if (f.lidar) {
    const { ranges, a0, da } = f.lidar;
    for (let i = 0; i < ranges.length; i++) {
      const a = a0 + i * da;
      const r = ranges[i]!;
      const rr = Math.min(r, VIEW_M);
      const x = Math.cos(a) * rr;
      const y = Math.sin(a) * rr;
      ctx.strokeStyle = r > VIEW_M ? 'rgba(255,112,67,0.18)' : 'rgba(255,112,67,0.45)';
      ctx.beginPath();
      ctx.moveTo(cx, cy);
      ctx.lineTo(X(x, y), Y(x, y));
      ctx.stroke();
      if (r <= VIEW_M && r < f.lidar.max - 1e-3) {
        ctx.fillStyle = '#ff7043';
        ctx.beginPath();
        ctx.arc(X(x, y), Y(x, y), 3.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  // robot body and heading
  ctx.fillStyle = 'rgba(79,195,247,0.8)';
  ctx.beginPath();
  ctx.arc(cx, cy, 0.12 * s, 0, 2 * Math.PI);
  ctx.fill();
  ctx.strokeStyle = '#0e1116';
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(cx, cy);
  ctx.lineTo(cx, cy - 0.12 * s);
  ctx.stroke();
  drawCandidates(ctx, f, cx, cy, s, 3);
  // inset: the candidates zoomed in
  const box = Math.round(W * 0.3);
  const ix = W - box - 8;
  const iy = W - box - 8;
  ctx.fillStyle = 'rgba(10,13,18,0.92)';
  ctx.strokeStyle = '#2a313c';
  ctx.lineWidth = 1;
  ctx.fillRect(ix, iy, box, box);
  ctx.strokeRect(ix, iy, box, box);
  ctx.save();
  ctx.beginPath();
  ctx.rect(ix, iy, box, box);
  ctx.clip();
  const is = (box * 0.66) / INSET_M;
  const icx = ix + box / 2;
  const icy = iy + box * 0.82;
  drawCandidates(ctx, f, icx, icy, is, 1.6);
  ctx.fillStyle = '#4fc3f7';
  ctx.beginPath();
  ctx.arc(icx, icy, 5, 0, 2 * Math.PI);
  ctx.fill();
  ctx.restore();
  ctx.fillStyle = '#8b949e';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(`candidates ×${(is / s).toFixed(1)}, ${HORIZON_S} s ahead`, ix + 6, iy + 14);
  // goal (drawn last, over the inset): a marker when in view, else an arrow at the edge with its distance
  if (f.goal) {
    const d = Math.hypot(f.goal.dx, f.goal.dy);
    const inView = d <= VIEW_M;
    const k = inView ? 1 : (VIEW_M - 0.15) / d;
    const gx = X(f.goal.dx * k, f.goal.dy * k);
    const gy = Y(f.goal.dx * k, f.goal.dy * k);
    ctx.setLineDash([4, 5]);
    ctx.strokeStyle = 'rgba(63,185,80,0.6)';
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(gx, gy);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#3fb950';
    ctx.beginPath();
    if (inView) ctx.arc(gx, gy, 9, 0, 2 * Math.PI);
    else {
      // beyond the view: an arrowhead at the edge pointing at it
      const a = Math.atan2(gy - cy, gx - cx);
      ctx.moveTo(gx + Math.cos(a) * 12, gy + Math.sin(a) * 12);
      ctx.lineTo(gx + Math.cos(a + 2.5) * 10, gy + Math.sin(a + 2.5) * 10);
      ctx.lineTo(gx + Math.cos(a - 2.5) * 10, gy + Math.sin(a - 2.5) * 10);
      ctx.closePath();
    }
    ctx.fill();
    ctx.fillStyle = '#c9f7d0';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText(`goal ${d.toFixed(1)} m`, gx + 10, gy - 8);
  }
  if (f.fallback) {
    ctx.strokeStyle = '#f85149';
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(cx, cy, 0.3 * s, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

function drawCandidates(ctx: CanvasRenderingContext2D, f: FrameMsg, cx: number, cy: number, s: number, width: number): void {
  const m = model;
  const idx = vw(m);
  if (!m || !idx || m.count === 0) return;
  const d = m.actions.length;
  const r = f.rewards;
  let lo = Infinity;
  let hi = -Infinity;
  if (r) for (const x of r) if (Number.isFinite(x)) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
  const order = [...Array(m.count).keys()];
  if (r) order.sort((a, b) => (r[a] ?? -Infinity) - (r[b] ?? -Infinity));
  const path = (i: number): void => {
    const pts = arc(m.candidates[i * d + idx[0]]!, m.candidates[i * d + idx[1]]!);
    ctx.beginPath();
    ctx.moveTo(cx - pts[0]![1] * s, cy - pts[0]![0] * s);
    for (const [x, y] of pts) ctx.lineTo(cx - y * s, cy - x * s);
  };
  ctx.lineCap = 'round';
  for (const i of order) {
    if (i === f.best) continue;
    ctx.strokeStyle = r && hi > lo ? ramp(((r[i] ?? lo) - lo) / (hi - lo)) : 'rgba(139,148,158,0.5)';
    ctx.globalAlpha = f.fallback ? 0.35 : 0.9;
    ctx.lineWidth = width;
    path(i);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  if (f.best >= 0 && f.best < m.count) {
    ctx.strokeStyle = 'rgba(255,255,255,0.25)';
    ctx.lineWidth = width + 6;
    path(f.best);
    ctx.stroke();
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = width + 1.5;
    path(f.best);
    ctx.stroke();
  }
}

function drawColorbar(): void {
  const c = $('colorbar') as HTMLCanvasElement;
  const ctx = c.getContext('2d')!;
  for (let x = 0; x < c.width; x++) {
    ctx.fillStyle = ramp(x / (c.width - 1));
    ctx.fillRect(x, 0, 1, c.height);
  }
}

function showFrame(): void {
  const f = frame;
  if (!f) return;
  const r = f.rewards?.filter(Number.isFinite) ?? [];
  $('rmin').textContent = r.length ? fmt(Math.min(...r)) : '';
  $('rmax').textContent = r.length ? fmt(Math.max(...r)) : '';
  const act = Object.entries(f.action).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
  $('decision').textContent = `#${f.seq} · ${act} · ${f.fallback ? 'fallback' : `reward ${fmt(f.reward)}`} · ${fmt(f.latencyMs)} ms`;
  const b = $('fallback');
  if (f.fallback) {
    b.textContent = `Fallback: ${f.fallback.replace(/_/g, ' ')} — published ${act}`;
    b.classList.remove('hidden');
  } else b.classList.add('hidden');
  $('modelpill').textContent = f.model || model?.id || ''; // the model that made this decision
}

function showModel(m: ModelMsg): void {
  model = m;
  $('modelpill').textContent = m.id;
  const box = $('model');
  box.replaceChildren();
  const h = el('div', 'mono', m.id);
  h.id = 'model-id';
  box.append(h);
  if (m.description) box.append(el('p', 'muted', m.description));
  const dl = el('dl', 'prov');
  const row = (k: string, v: string): void => {
    dl.append(el('dt', undefined, k), el('dd', undefined, v));
  };
  row('candidates', `${m.count} (${m.actions.join(', ')})`);
  row('active since', clock(m.since));
  const rows = provenanceRows(m.provenance);
  for (const [k, v] of rows.slice(0, 5)) row(k, v);
  box.append(dl);
  if (rows.length > 5) {
    // the rest of the provenance folds away so the streams and events stay in view
    const more = el('details');
    more.append(el('summary', 'muted', `more provenance (${rows.length - 5})`));
    const dl2 = el('dl', 'prov');
    for (const [k, v] of rows.slice(5)) dl2.append(el('dt', undefined, k), el('dd', undefined, v));
    more.append(dl2);
    box.append(more);
  }
}

/** Provenance flattened to rows: teacher, compression steps and fidelity first. */
function provenanceRows(p: Record<string, unknown> | null): Array<[string, string]> {
  if (!p) return [['provenance', 'none in the manifest']];
  const first = ['teacher', 'steps', 'compression', 'pipeline', 'fidelity', 'fidelity_test', 'closed_loop', 'fidelity_train'];
  const keys = [...first.filter((k) => k in p), ...Object.keys(p).filter((k) => !first.includes(k))];
  const out: Array<[string, string]> = [];
  const show = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : String(v);
    if (Array.isArray(v)) return v.map(show).join(' → ');
    return Object.entries(v).map(([k, x]) => `${k} ${show(x)}`).join(', ');
  };
  for (const k of keys) {
    if (out.length >= 14) break;
    const v = show(p[k]);
    out.push([k.replace(/_/g, ' '), v.length > 180 ? `${v.slice(0, 177)}…` : v]);
  }
  return out;
}

function showStatus(s: StatusMsg): void {
  $('title').textContent = s.device;
  const dl = $('loop');
  dl.replaceChildren();
  const cell = (k: string, v: string, bad = false): void => {
    const d = el('div');
    const dd = el('dd', bad ? 'bad' : undefined, v);
    dd.id = `loop-${k.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
    d.append(el('dt', undefined, k), dd);
    dl.append(d);
  };
  cell('ticks/s', fmt(s.ticksPerSec, 1));
  cell('p50', `${fmt(s.p50Ms)} ms`);
  cell('p99', `${fmt(s.p99Ms)} ms`, hello !== undefined && s.p99Ms !== null && s.p99Ms > hello.deadlineMs);
  cell('deadline misses', String(s.deadlineMisses), s.deadlineMisses > 0);
  cell('fallbacks', String(s.fallbacks));
  cell('last fallback', s.lastFallback ?? 'none', s.lastFallback !== null);
  drawSpark(s);
  const tb = ($('streams') as HTMLTableElement).tBodies[0]!;
  tb.replaceChildren();
  for (const h of s.streams) {
    const tr = el('tr');
    const stale = h.ageMs === null || h.ageMs > h.maxAgeMs;
    tr.append(el('td', 'mono', h.name), el('td', undefined, `${fmt(h.rateHz, 1)} Hz`), el('td', stale ? 'bad' : 'ok', age(h.ageMs)), el('td', h.invalid > 0 ? 'warn' : undefined, String(h.invalid)));
    tb.append(tr);
  }
  $('footer').textContent = `edgereward ${hello?.runtime ?? ''} · uptime ${age(s.uptimeS * 1000)} · ${s.ticks} ticks, ${s.decisions} decisions · MQTT ${s.mqtt} · ${frames} frames shown · ${s.viewers} viewer${s.viewers === 1 ? '' : 's'}`;
}

/** p50/p99 per second over the last minute, on a log scale (0.1 ms .. 1 s) so a spike does not flatten the rest. */
function drawSpark(s: StatusMsg): void {
  const c = $('spark') as HTMLCanvasElement;
  const W = c.clientWidth || 380;
  const H = 90;
  const ctx = hidpi(c, W, H);
  ctx.clearRect(0, 0, W, H);
  const LO = -1; // log10 ms
  const HI = 3;
  const yOf = (ms: number): number => {
    const l = Math.min(HI, Math.max(LO, Math.log10(Math.max(ms, 1e-3))));
    return H - 4 - ((l - LO) / (HI - LO)) * (H - 8);
  };
  ctx.font = '10px system-ui, sans-serif';
  for (const g of [0.1, 1, 10, 100]) {
    const y = yOf(g);
    ctx.strokeStyle = '#1c232d';
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(W, y);
    ctx.stroke();
    ctx.fillStyle = '#3a4452';
    ctx.fillText(g >= 1 ? `${g} ms` : `${g}`, 2, y - 2);
  }
  const all = [...s.series.p99].filter((x): x is number => x !== null);
  $('sparkmax').textContent = all.length ? `max p99 ${fmt(Math.max(...all), 1)} ms (log scale)` : '';
  const n = 60;
  const x = (i: number, len: number): number => W - ((len - 1 - i) / (n - 1)) * W;
  const line = (ys: Array<number | null>, color: string): void => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    ys.forEach((y, i) => {
      if (y === null) return void (pen = false);
      const px = x(i, ys.length);
      const py = yOf(y);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    });
    ctx.stroke();
  };
  if (hello) {
    const py = yOf(hello.deadlineMs);
    ctx.setLineDash([3, 4]);
    ctx.strokeStyle = '#f85149';
    ctx.beginPath();
    ctx.moveTo(0, py);
    ctx.lineTo(W, py);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  line(s.series.p50, '#4fc3f7');
  line(s.series.p99, '#ffd54f');
}

const events: EventMsg[] = [];
function showEvent(e: EventMsg): void {
  events.unshift(e);
  if (events.length > 100) events.pop();
  const ol = $('events');
  ol.replaceChildren();
  for (const x of events) {
    const li = el('li');
    const what = x.event === 'swap' ? `now deciding with ${x.model}${x.figures['from'] ? ` (was ${x.figures['from']})` : ''}` : `${x.model}${x.code ? ` · ${x.code}` : ''}${summary(x)}${x.reason ? ` · ${x.reason}` : ''}`;
    li.append(el('span', 'muted', clock(x.t)), el('span', `ev ${x.event}`, x.event.replace(/_/g, ' ')), el('span', undefined, what));
    ol.append(li);
  }
}

function summary(e: EventMsg): string {
  const f = e.figures;
  const parts: string[] = [];
  if (typeof f['passed'] === 'boolean') parts.push(f['passed'] ? 'passed' : 'failed');
  if (typeof f['p99_ms'] === 'number') parts.push(`p99 ${fmt(f['p99_ms'])} ms`);
  if (typeof f['budget_ms'] === 'number') parts.push(`budget ${fmt(f['budget_ms'], 1)} ms`);
  if (typeof f['agreement'] === 'number') parts.push(`agreement ${fmt(f['agreement'] * 100, 0)}%`);
  if (typeof f['ticks'] === 'number') parts.push(`${f['ticks']} ticks`);
  if (typeof f['bytes'] === 'number') parts.push(`${Math.round(f['bytes'] / 1024)} KiB`);
  return parts.length ? ` · ${parts.join(', ')}` : '';
}

function tick(): void {
  if (dirty) {
    dirty = false;
    drawView();
    showFrame();
  }
  requestAnimationFrame(tick);
}

drawColorbar();
drawView();
live(
  {
    hello: (m) => {
      hello = m as HelloMsg;
      $('title').textContent = hello.device;
      document.title = `edgereward · ${hello.device}`;
    },
    model: (m) => {
      showModel(m as ModelMsg);
      dirty = true;
    },
    frame: (m) => {
      frame = m as FrameMsg;
      frames++;
      document.body.dataset['frames'] = String(frames);
      document.body.dataset['seq'] = String(frame.seq);
      dirty = true;
    },
    status: (m) => showStatus(m as StatusMsg),
    event: (m) => showEvent(m as EventMsg),
  },
  setConn,
);
requestAnimationFrame(tick);
