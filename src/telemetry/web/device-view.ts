/**
 * The device page's server side: samples the loop's state on its own timers and streams it
 * to the open pages as server-sent events. Nothing here runs inside a tick: the loop's only
 * contact is the `LiveTap` (a latency write per tick, and a copy into a preallocated
 * snapshot when a frame was asked for). Frames are taken at most `maxFps` (≤ 10) times a
 * second and only while a page is open; the status (loop figures, stream health, latency
 * sparkline) once a second.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoopStats } from '../../agent/loop.js';
import type { LatencyRing } from '../../agent/latency.js';
import type { ModelSource } from '../../agent/scorer.js';
import type { StreamValue } from '../../runtime/features/assemble.js';
import { RUNTIME_VERSION } from '../../version.js';
import { registry } from '../metrics.js';
import type { EventMsg, FrameMsg, HelloMsg, LidarView, ModelMsg, StatusMsg, StreamHealth } from '../../web/types.js';
import { LiveTap } from './tap.js';
import { SseHub } from './sse.js';
import { createWebHandler, sendJson, SECURITY_HEADERS, type WebAccess } from './http.js';

export interface DeviceViewOptions {
  device: string;
  deadlineMs: number;
  loop: { readonly stats: LoopStats; readonly latency: LatencyRing };
  models: ModelSource;
  /** The loop's latest values (read on the view's timers; the tap references them per frame). */
  latest: { readonly view: Readonly<Record<string, StreamValue | undefined>>; age(stream: string, now: number): number };
  /** Streams shown in the health table, with their max age. */
  streams: Array<{ name: string; maxAgeMs: number }>;
  /** The MQTT link's state (online, offline, ...). */
  mqtt?: () => string;
  access: WebAccess;
  /** ≤ 10. Default 10. */
  maxFps?: number;
  /** Which streams hold the lidar scan, the goal (robot frame) and odometry. */
  lidarStream?: string;
  goalStream?: string;
  odomStream?: string;
  maxViewers?: number;
  assets?: string;
  /** The tap already handed to the loop (else one is made: give `view.tap` to the loop). */
  tap?: LiveTap;
  /** false: serve no pages, only apply the access rule to the port. Default true. */
  pages?: boolean;
}

const EVENT_KEEP = 100;
const SERIES = 60;
const round = (x: number, k = 1e4): number => Math.round(x * k) / k;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class DeviceView {
  readonly tap: LiveTap;
  readonly hub: SseHub;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => boolean;
  private readonly o: DeviceViewOptions;
  private readonly events: EventMsg[] = [];
  private readonly series = { t: [] as number[], p50: [] as Array<number | null>, p99: [] as Array<number | null> };
  private readonly scratch: Float64Array;
  private readonly started = Date.now();
  private readonly statusTimer: NodeJS.Timeout;
  private frameTimer: NodeJS.Timeout | undefined;
  private lastWritten = 0;
  private lastTicks = 0;
  private lastAt = performance.now();
  private ticksPerSec = 0;
  private lastOk = new Map<string, number>();
  private streamHealth: StreamHealth[] = [];
  private fallbacksByReason: Record<string, number> = {};
  private model: ModelMsg | undefined;
  private status: StatusMsg | undefined;
  private readonly fps: number;
  private readonly names: { lidar: string; goal: string; odom: string };

  constructor(o: DeviceViewOptions) {
    this.o = o;
    this.names = { lidar: o.lidarStream ?? 'lidar', goal: o.goalStream ?? 'goal', odom: o.odomStream ?? 'odom' };
    this.tap = o.tap ?? new LiveTap({ view: o.latest.view, streams: frameStreams(o) });
    this.scratch = new Float64Array(this.tap.lat.length);
    this.hub = new SseHub(o.maxViewers ?? 8);
    this.fps = Math.min(10, Math.max(0.1, o.maxFps ?? 10));
    this.handler = createWebHandler({
      access: o.access,
      page: 'device',
      pages: o.pages !== false,
      ...(o.assets ? { assets: o.assets } : {}),
      routes: {
        '/live': (req, res) => this.openStream(req, res),
        '/api/device.json': (_req, res) => sendJson(res, { hello: this.hello(), model: this.currentModel(), status: this.status ?? null, events: this.events }),
      },
    });
    this.statusTimer = setInterval(() => void this.sampleStatus(), 1000);
    this.statusTimer.unref();
    void this.sampleStatus();
  }

  /** An update event from the device's events topic (untrusted JSON: sanitized here). */
  event(raw: unknown, source: EventMsg['source'] = 'events'): void {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
    const r = raw as Record<string, unknown>;
    if (typeof r['event'] !== 'string') return;
    const str = (v: unknown, n = 200): string | null => (typeof v === 'string' ? v.slice(0, n) : null);
    const t = num(r['t']) ?? Date.now();
    const figures: EventMsg['figures'] = {};
    let k = 0;
    for (const [key, v] of Object.entries(r)) {
      if (['event', 't', 'model', 'active', 'code', 'reason', 'device', 'fleet'].includes(key) || k >= 16) continue;
      if (typeof v === 'number' || typeof v === 'boolean' || v === null) figures[key.slice(0, 40)] = v;
      else if (typeof v === 'string') figures[key.slice(0, 40)] = v.slice(0, 80);
      else continue;
      k++;
    }
    const e: EventMsg = { kind: 'event', t, event: r['event'].slice(0, 40), model: str(r['model'], 120) ?? '', active: str(r['active'], 120), code: str(r['code'], 60), reason: str(r['reason'], 300), figures, source };
    const last = this.events[this.events.length - 1];
    if (last && last.t === e.t && last.event === e.event && last.model === e.model) return; // a retained repeat
    this.events.push(e);
    if (this.events.length > EVENT_KEEP) this.events.shift();
    this.hub.broadcast('event', e);
  }

  close(): void {
    clearInterval(this.statusTimer);
    clearInterval(this.frameTimer);
    this.hub.close();
  }

  private hello(): HelloMsg {
    return { kind: 'hello', device: this.o.device, runtime: RUNTIME_VERSION, deadlineMs: this.o.deadlineMs, maxFps: this.fps };
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    const ok = this.hub.open(req, res, SECURITY_HEADERS, (send) => {
      send('hello', this.hello());
      const m = this.currentModel();
      if (m) send('model', m);
      if (this.status) send('status', { ...this.status, viewers: this.hub.size });
      for (const e of this.events) send('event', e);
    });
    if (ok && !this.frameTimer) {
      this.tap.request();
      this.frameTimer = setInterval(() => this.sampleFrame(), 1000 / this.fps);
      this.frameTimer.unref();
    }
  }

  /** The active model as the page shows it; notices a swap (an event with source "loop"). */
  private currentModel(): ModelMsg | undefined {
    const m = this.o.models.current();
    if (!m) return undefined;
    if (this.model?.id === m.id) return this.model;
    const prev = this.model?.id;
    const man = m.scorer.manifest;
    const c = m.scorer.candidates;
    this.model = {
      kind: 'model', id: m.id, name: man?.name ?? null, version: man?.version ?? null,
      description: typeof (man as { description?: unknown } | undefined)?.description === 'string' ? (man as unknown as { description: string }).description : null,
      provenance: man?.provenance ?? null, actions: c?.names ?? [], count: c?.count ?? 0, candidates: c ? Array.from(c.values, (x) => round(x)) : [], since: Date.now(),
    };
    this.hub.broadcast('model', this.model);
    if (prev) this.event({ event: 'swap', t: Date.now(), model: m.id, active: m.id, from: prev }, 'loop');
    return this.model;
  }

  private sampleFrame(): void {
    if (this.hub.size === 0) {
      clearInterval(this.frameTimer);
      this.frameTimer = undefined;
      return;
    }
    const s = this.tap.snap;
    if (s.fresh) {
      s.fresh = false;
      this.currentModel();
      this.hub.broadcast('frame', this.buildFrame());
    }
    this.tap.request();
  }

  /** The frame of the tap's latest snapshot (the sampler's work; public for the benchmark). */
  buildFrame(): FrameMsg {
    const s = this.tap.snap;
    const action: Record<string, number> = {};
    for (let j = 0; j < s.actionNames.length; j++) action[s.actionNames[j]!] = round(s.action[j]!);
    let rewards: number[] | null = null;
    if (s.hasRewards) {
      rewards = new Array<number>(s.count);
      for (let i = 0; i < s.count; i++) rewards[i] = round(s.rewards[i]!);
    }
    const goal = s.obs[this.names.goal];
    const odom = s.obs[this.names.odom];
    const gx = num(goal?.['dx']);
    const gy = num(goal?.['dy']);
    const ov = num(odom?.['v']);
    const ow = num(odom?.['w']);
    return {
      kind: 'frame', seq: s.seq, t: s.t, model: s.model, action, reward: s.reward === null ? null : round(s.reward), fallback: s.fallback,
      latencyMs: round(s.latencyMs, 1e3), obsAgeMs: s.obsAgeMs === null ? null : round(s.obsAgeMs, 10), best: s.best, rewards,
      lidar: lidarView(s.obs[this.names.lidar]),
      goal: gx !== undefined && gy !== undefined ? { dx: round(gx, 1e3), dy: round(gy, 1e3) } : null,
      odom: ov !== undefined && ow !== undefined ? { v: round(ov, 1e3), w: round(ow, 1e3) } : null,
    };
  }

  private async sampleStatus(): Promise<void> {
    const now = performance.now();
    const st = this.o.loop.stats;
    const dt = (now - this.lastAt) / 1000;
    if (dt > 0.2) {
      this.ticksPerSec = (st.ticks - this.lastTicks) / dt;
      this.lastTicks = st.ticks;
      this.lastAt = now;
    }
    // Percentiles of the latencies written since the previous sample (the last second).
    const tap = this.tap;
    const n = Math.min(tap.written - this.lastWritten, tap.lat.length);
    let p50: number | null = null;
    let p99: number | null = null;
    if (n > 0) {
      const sc = this.scratch.subarray(0, n);
      for (let k = 0; k < n; k++) sc[k] = tap.lat[(tap.written - n + k) % tap.lat.length]!;
      sc.sort();
      p50 = round(sc[Math.max(0, Math.ceil(0.5 * n) - 1)]!, 1e3);
      p99 = round(sc[Math.max(0, Math.ceil(0.99 * n) - 1)]!, 1e3);
    }
    this.lastWritten = tap.written;
    const t = Date.now();
    this.series.t.push(t);
    this.series.p50.push(p50);
    this.series.p99.push(p99);
    if (this.series.t.length > SERIES) {
      this.series.t.shift();
      this.series.p50.shift();
      this.series.p99.shift();
    }
    await this.sampleMetrics(dt);
    this.currentModel();
    this.status = {
      kind: 'status', t, device: this.o.device, uptimeS: Math.round((t - this.started) / 1000), model: this.o.models.current()?.id ?? '',
      ticksPerSec: round(this.ticksPerSec, 10), ticks: st.ticks, decisions: st.decisions, fallbacks: st.fallbacks, deadlineMisses: st.deadlineMisses, overruns: st.overruns,
      lastFallback: st.lastFallback ?? null, fallbacksByReason: this.fallbacksByReason, p50Ms: p50, p99Ms: p99, series: this.series, streams: this.streamHealth,
      mqtt: this.o.mqtt?.() ?? 'off', viewers: this.hub.size,
    };
    this.hub.broadcast('status', this.status);
  }

  /** Stream counts and fallback reasons from the metrics registry (once a second). */
  private async sampleMetrics(dt: number): Promise<void> {
    const ok = new Map<string, number>();
    const bad = new Map<string, number>();
    try {
      const m = registry.getSingleMetric('edgereward_messages_total');
      if (m) {
        for (const v of (await m.get()).values) {
          const name = String(v.labels['stream'] ?? '');
          const into = v.labels['result'] === 'ok' ? ok : bad;
          into.set(name, (into.get(name) ?? 0) + v.value);
        }
      }
      const f = registry.getSingleMetric('edgereward_fallbacks_total');
      if (f) {
        const by: Record<string, number> = {};
        for (const v of (await f.get()).values) if (v.value > 0) by[String(v.labels['reason'])] = v.value;
        this.fallbacksByReason = by;
      }
    } catch {
      // metrics are best effort on the page
    }
    const now = Date.now();
    this.streamHealth = this.o.streams.map(({ name, maxAgeMs }) => {
      const okN = ok.get(name) ?? 0;
      const prev = this.lastOk.get(name);
      this.lastOk.set(name, okN);
      const age = this.o.latest.age(name, now);
      return { name, rateHz: prev === undefined || dt <= 0 ? 0 : round((okN - prev) / dt, 10), ageMs: Number.isFinite(age) ? Math.round(age) : null, maxAgeMs, ok: okN, invalid: bad.get(name) ?? 0 };
    });
  }
}

/** The streams a frame references: lidar, goal, odometry. */
export function frameStreams(o: Pick<DeviceViewOptions, 'lidarStream' | 'goalStream' | 'odomStream'> = {}): string[] {
  return [o.lidarStream ?? 'lidar', o.goalStream ?? 'goal', o.odomStream ?? 'odom'];
}

/**
 * Lidar angles: `angle_min`/`angle_increment` when the message has them (ROS LaserScan
 * style), else the demo robot's convention: beams spread evenly over a full turn from -π.
 */
function lidarView(m: StreamValue | undefined): LidarView | null {
  const r = m?.['ranges'];
  if (!Array.isArray(r) || r.length === 0 || r.length > 4096) return null;
  const ranges = r.map((x) => (typeof x === 'number' && Number.isFinite(x) ? round(x, 1e3) : 0));
  const a0 = num(m?.['angle_min']) ?? -Math.PI;
  const da = num(m?.['angle_increment']) ?? (2 * Math.PI) / ranges.length;
  let max = num(m?.['range_max']) ?? 0;
  if (!(max > 0)) for (const x of ranges) max = Math.max(max, x);
  return { ranges, a0, da, max };
}
