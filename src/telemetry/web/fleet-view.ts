/**
 * The fleet page's server side: its own read-only MQTT subscriptions (NOT the fleet server's
 * shared ones, which split messages between instances) to every device's retained status and
 * events and to the fleet's retained announcements; one `fleet` message a second to the open
 * pages. A rollout's progress counts the targeted devices by the furthest stage their events
 * reached (a device's retained last event alone already tells how far it got).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import mqtt, { type MqttClient } from 'mqtt';
import { describeError } from '../../errors.js';
import { moduleLogger, rateLimitedLog } from '../log.js';
import { announceFilter, eventsFilter, isSelected, parseFleetMessage, statusFilter, type FleetMessage } from '../../runtime/updates/protocol.js';
import type { FleetDevice, FleetMsg, FleetRollout, RolloutStage } from '../../web/types.js';
import { SseHub } from './sse.js';
import { createWebHandler, sendJson, SECURITY_HEADERS, type WebAccess } from './http.js';

const log = moduleLogger('web');
const warn = rateLimitedLog(log);

export interface FleetViewOptions {
  url: string;
  fleet: string;
  prefix?: string;
  username?: string;
  password?: string;
  access: WebAccess;
  maxViewers?: number;
  assets?: string;
}

/** Event -> the stage it proves (later stages imply the earlier ones). */
const STAGE_OF: Record<string, RolloutStage> = { received: 'received', verified: 'verified', stored: 'verified', canary: 'canaried', activated: 'activated', confirmed: 'activated', rolled_back: 'rolled_back', rejected: 'rejected' };
const ORDER: RolloutStage[] = ['received', 'verified', 'canaried', 'activated'];

interface DeviceState extends FleetDevice {
  modelAt: number;
  /** model@version -> furthest stage seen. */
  stages: Map<string, RolloutStage>;
}

export class FleetView {
  readonly hub: SseHub;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => boolean;
  private client: MqttClient | undefined;
  private readonly devices = new Map<string, DeviceState>();
  private readonly releases = new Map<string, FleetMessage>();
  private timer: NodeJS.Timeout | undefined;
  private readonly prefix: string;

  constructor(private readonly o: FleetViewOptions) {
    this.prefix = o.prefix ?? 'edgereward';
    this.hub = new SseHub(o.maxViewers ?? 16);
    this.handler = createWebHandler({
      access: o.access,
      page: 'fleet',
      ...(o.assets ? { assets: o.assets } : {}),
      routes: {
        '/live': (req, res) => {
          this.hub.open(req, res, SECURITY_HEADERS, (send) => send('fleet', this.snapshot()));
        },
        '/api/fleet.json': (_req, res) => sendJson(res, this.snapshot()),
      },
    });
  }

  async start(): Promise<this> {
    const c = await mqtt.connectAsync(this.o.url, {
      // MQTT 3.1.1 is enough (plain subscriptions) and works with every broker, the demo's aedes included.
      protocolVersion: 4, clean: true, reconnectPeriod: 1000,
      clientId: `edgereward-fleet-view-${this.o.fleet}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      ...(this.o.username ? { username: this.o.username } : {}), ...(this.o.password ? { password: this.o.password } : {}),
    });
    this.client = c;
    c.on('error', (e) => warn('mqtt', { err: describeError(e) }, 'fleet page MQTT error'));
    c.on('message', (topic, payload) => this.onMessage(topic, payload));
    const subs = { [statusFilter(this.prefix)]: { qos: 1 as const }, [eventsFilter(this.prefix)]: { qos: 1 as const }, [announceFilter({ prefix: this.prefix, fleet: this.o.fleet })]: { qos: 1 as const } };
    await c.subscribeAsync(subs);
    c.on('connect', () => void c.subscribeAsync(subs).catch(() => undefined));
    this.timer = setInterval(() => this.hub.broadcast('fleet', this.snapshot()), 1000);
    this.timer.unref();
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.hub.close();
    await this.client?.endAsync().catch(() => undefined);
  }

  private device(id: string): DeviceState {
    let d = this.devices.get(id);
    if (!d) this.devices.set(id, (d = { device: id, online: null, model: null, lastEvent: null, lastEventAt: null, p99Ms: null, fleet: null, tags: [], modelAt: -1, stages: new Map() }));
    return d;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const annBase = announceFilter({ prefix: this.prefix, fleet: this.o.fleet }).slice(0, -1);
    if (topic.startsWith(annBase)) {
      const model = topic.slice(annBase.length);
      if (payload.length === 0) {
        this.releases.delete(model);
        return;
      }
      try {
        this.releases.set(model, parseFleetMessage(payload, model));
      } catch (e) {
        warn('announce', { topic, err: describeError(e) }, 'the fleet page ignored an invalid announcement');
      }
      return;
    }
    const parts = topic.split('/');
    if (parts.length !== 3 || parts[0] !== this.prefix) return;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    const d = this.device(parts[1]!);
    const t = typeof v['t'] === 'number' ? v['t'] : 0;
    if (parts[2] === 'status') {
      d.online = v['state'] !== 'offline';
      if (typeof v['model'] === 'string' && t >= d.modelAt) {
        d.model = v['model'].slice(0, 120);
        d.modelAt = t;
      }
      if (typeof v['p99_ms'] === 'number') d.p99Ms = v['p99_ms'];
      if (typeof v['fleet'] === 'string') d.fleet = v['fleet'];
      if (Array.isArray(v['tags'])) d.tags = v['tags'].filter((x): x is string => typeof x === 'string').slice(0, 32);
    } else if (parts[2] === 'events') {
      const ev = typeof v['event'] === 'string' ? v['event'] : '?';
      const model = typeof v['model'] === 'string' ? v['model'].slice(0, 120) : '';
      if (typeof v['fleet'] === 'string') d.fleet = v['fleet'];
      if (d.lastEventAt === null || t >= d.lastEventAt) {
        d.lastEventAt = t;
        d.lastEvent = `${ev} ${model}${typeof v['code'] === 'string' ? ` ${v['code']}` : ''}`.trim().slice(0, 200);
        if (typeof v['active'] === 'string' && t >= d.modelAt) {
          d.model = v['active'].slice(0, 120);
          d.modelAt = t;
        }
      }
      const stage = STAGE_OF[ev];
      if (stage && model) {
        const prev = d.stages.get(model);
        // rolled back / rejected are final; otherwise keep the furthest stage.
        if (!prev || stage === 'rolled_back' || stage === 'rejected' || (ORDER.includes(prev) && ORDER.indexOf(stage) > ORDER.indexOf(prev))) d.stages.set(model, stage);
      }
    }
  }

  snapshot(): FleetMsg {
    const devices = [...this.devices.values()].filter((d) => d.fleet === null || d.fleet === this.o.fleet).sort((a, b) => a.device.localeCompare(b.device));
    const rollouts: FleetRollout[] = [];
    for (const r of this.releases.values()) {
      const id = `${r.model}@${r.version}`;
      const rollout = r.kind === 'release' ? r.rollout : undefined;
      const targeted = r.kind === 'release' ? devices.filter((d) => isSelected(rollout, d.device, d.tags, r.model)).map((d) => d.device) : devices.filter((d) => d.stages.has(id)).map((d) => d.device);
      const counts: Record<RolloutStage, number> = { received: 0, verified: 0, canaried: 0, activated: 0, rolled_back: 0, rejected: 0 };
      const stages: Record<string, RolloutStage | null> = {};
      for (const dev of targeted) {
        const s = this.devices.get(dev)?.stages.get(id) ?? null;
        stages[dev] = s;
        if (!s) continue;
        if (s === 'rolled_back' || s === 'rejected') {
          counts[s]++;
          if (s === 'rolled_back') for (const k of ORDER) counts[k]++; // it got that far first
          continue;
        }
        for (const k of ORDER.slice(0, ORDER.indexOf(s) + 1)) counts[k]++;
      }
      rollouts.push({ model: r.model, version: r.version, kind: r.kind, t: r.t, selector: r.kind === 'revoke' ? 'revoked: devices running it roll back' : selectorText(rollout), targeted, counts, stages });
    }
    rollouts.sort((a, b) => b.t - a.t);
    return {
      kind: 'fleet', t: Date.now(), fleet: this.o.fleet, broker: redactUrl(this.o.url),
      devices: devices.map(({ device, online, model, lastEvent, lastEventAt, p99Ms, fleet, tags }) => ({ device, online, model, lastEvent, lastEventAt, p99Ms, fleet, tags })),
      rollouts,
    };
  }
}

function selectorText(r: { devices?: string[]; percent?: number; tags?: string[] } | undefined): string {
  const parts: string[] = [];
  if (r?.devices?.length) parts.push(`devices ${r.devices.slice(0, 20).join(', ')}${r.devices.length > 20 ? ` (+${r.devices.length - 20})` : ''}`);
  if (r?.percent !== undefined) parts.push(`${r.percent}% of devices`);
  if (r?.tags?.length) parts.push(`tags ${r.tags.join(', ')}`);
  return parts.length ? parts.join(' or ') : 'all devices';
}

function redactUrl(u: string): string {
  try {
    const x = new URL(u);
    x.username = '';
    x.password = '';
    return x.toString().replace(/\/$/, '');
  } catch {
    return u;
  }
}
