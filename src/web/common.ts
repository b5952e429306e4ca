/** Small helpers shared by the device and fleet pages (browser code; no framework). */

export function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}

/** Create an element; text is always set as textContent (never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

export function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function age(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/**
 * Subscribe to the page's event stream. EventSource reconnects by itself (the server sets
 * `retry`); `onState` shows the connection in the header.
 */
export function live(handlers: Record<string, (msg: unknown) => void>, onState: (state: 'live' | 'reconnecting') => void): EventSource {
  const es = new EventSource('/live');
  es.onopen = () => onState('live');
  es.onerror = () => onState('reconnecting');
  for (const [kind, fn] of Object.entries(handlers)) {
    es.addEventListener(kind, (ev) => {
      try {
        fn(JSON.parse((ev as MessageEvent<string>).data));
      } catch (e) {
        console.warn(`bad ${kind} message`, e);
      }
    });
  }
  return es;
}

export function setConn(state: 'live' | 'reconnecting'): void {
  const c = $('conn');
  c.textContent = state;
  c.className = `pill ${state === 'live' ? 'ok' : 'wait'}`;
}

/** A perceptual colour ramp (viridis-like) for 0..1. */
const RAMP: Array<[number, number, number]> = [
  [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
];
export function ramp(x: number): string {
  const t = Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(t));
  const f = t - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  const c = (k: 0 | 1 | 2): number => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
}

/** Scale a canvas's backing store to the device pixel ratio; returns the 2-D context in CSS pixels. */
export function hidpi(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const r = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * r)) {
    canvas.width = Math.round(w * r);
    canvas.height = Math.round(h * r);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(r, 0, 0, r, 0, 0);
  return ctx;
}
