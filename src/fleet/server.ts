/**
 * `edgereward fleet serve`: answers devices' chunk requests and records their events.
 *
 * Requests come through an MQTT 5 shared subscription (`$share/<group>/…/request`), so
 * several servers split the load and each request is answered once. Answers are broadcast
 * on the version's chunk topics: every device downloading that version receives them, so
 * requests arriving within `coalesceMs` of each other are served by ONE publish of each
 * chunk they lack (the broker fans it out) instead of one copy per device.
 * A broadcast made after a request arrived always reaches its device: the device subscribes
 * to the chunk topics before it sends the request, on the same connection.
 */
import { appendFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { describeError } from '../errors.js';
import { moduleLogger, rateLimitedLog } from '../telemetry/log.js';
import { chunkTopic, eventsFilter, hasBit, parseChunkRequest, requestFilter, type FleetScope, type UpdateEvent } from '../runtime/updates/protocol.js';
import { BundleDir } from './bundles.js';

const log = moduleLogger('fleet');
const warn = rateLimitedLog(log);

export interface FleetServerOptions {
  url: string;
  fleet: string;
  bundles: string;
  prefix?: string;
  /** Shared-subscription group (default `edgereward-fleet`). */
  group?: string;
  /** Gather requests this long before broadcasting (ms, default 200). */
  coalesceMs?: number;
  /**
   * Broadcast one chunk of a bundle at most once per this many ms (default 1000): a request
   * that arrives while a broadcast is still on its way to a slow device is served by that
   * broadcast, or by a later one, never by a burst of copies to every downloading device.
   */
  repeatMs?: number;
  /** Append every device event to this JSON-lines file. */
  eventsLog?: string;
  clientId?: string;
  username?: string;
  password?: string;
}

interface Batch {
  model: string;
  version: string;
  sha256: string;
  chunkSize: number;
  want: Set<number>;
  devices: Set<string>;
  timer: NodeJS.Timeout;
}

export interface DeviceRecord {
  device: string;
  lastEvent: UpdateEvent;
  events: number;
}

export class FleetServer {
  readonly scope: FleetScope;
  readonly bundles: BundleDir;
  readonly stats = { requests: 0, broadcasts: 0, chunksSent: 0, bytesSent: 0, events: 0, unknownBundle: 0 };
  readonly devices = new Map<string, DeviceRecord>();
  private client: MqttClient | undefined;
  private readonly batches = new Map<string, Batch>();
  /** key -> chunk index -> when it was last broadcast (performance.now()). */
  private readonly lastSent = new Map<string, Map<number, number>>();
  private readonly group: string;

  constructor(readonly o: FleetServerOptions) {
    this.scope = { prefix: o.prefix ?? 'edgereward', fleet: o.fleet };
    this.bundles = new BundleDir(o.bundles);
    this.group = o.group ?? 'edgereward-fleet';
  }

  async start(): Promise<void> {
    this.bundles.scan();
    const c = await mqtt.connectAsync(this.o.url, {
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      clientId: this.o.clientId ?? `edgereward-fleet-${this.o.fleet}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password ? { password: this.o.password } : {}),
    });
    this.client = c;
    c.on('error', (e) => warn('mqtt', { err: describeError(e) }, 'fleet server MQTT error'));
    c.on('message', (topic, payload) => this.onMessage(topic, payload));
    const subs = { [`$share/${this.group}/${requestFilter(this.scope)}`]: { qos: 1 as const }, [`$share/${this.group}/${eventsFilter(this.scope.prefix)}`]: { qos: 1 as const } };
    await c.subscribeAsync(subs);
    c.on('connect', () => void c.subscribeAsync(subs).catch(() => undefined));
    log.info({ url: this.o.url, fleet: this.o.fleet, bundles: this.o.bundles, group: this.group }, 'fleet server is serving chunk requests');
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic.endsWith('/request')) this.onRequest(topic, payload);
    else if (topic.endsWith('/events')) this.onEvent(topic, payload);
  }

  private onRequest(topic: string, payload: Buffer): void {
    this.stats.requests++;
    const parts = topic.split('/');
    const version = parts[parts.length - 2]!;
    const model = parts[parts.length - 3]!;
    let req;
    try {
      req = parseChunkRequest(payload);
    } catch (e) {
      warn('request', { topic, err: describeError(e) }, 'ignored a malformed chunk request');
      return;
    }
    const bytes = this.bundles.get(req.sha256);
    if (!bytes) {
      this.stats.unknownBundle++;
      warn(`unknown:${req.sha256}`, { model: `${model}@${version}`, sha256: req.sha256, dir: this.o.bundles }, `a device asks for ${model}@${version}, which is not in the bundles directory; copy the bundle there (fleet publish --bundles DIR)`);
      return;
    }
    const size = req.chunk_size;
    if (Math.ceil(bytes.length / size) !== req.n) {
      warn('n', { model, n: req.n, chunk_size: size }, 'a chunk request names a chunk count that does not fit the bundle');
      return;
    }
    const have = Buffer.from(req.have, 'base64');
    const key = `${model}/${version}/${req.sha256}/${size}`;
    let b = this.batches.get(key);
    if (!b) {
      b = { model, version, sha256: req.sha256, chunkSize: size, want: new Set(), devices: new Set(), timer: setTimeout(() => this.flush(key), this.o.coalesceMs ?? 200) };
      this.batches.set(key, b);
    }
    b.devices.add(req.device);
    for (let i = 0; i < req.n; i++) if (i >= have.length * 8 || !hasBit(have, i)) b.want.add(i);
  }

  private flush(key: string): void {
    const b = this.batches.get(key);
    this.batches.delete(key);
    if (!b || !this.client) return;
    const bytes = this.bundles.get(b.sha256);
    if (!bytes) return;
    const now = performance.now();
    const repeatMs = this.o.repeatMs ?? 1000;
    let sent = this.lastSent.get(key);
    if (!sent) this.lastSent.set(key, (sent = new Map()));
    const idx: number[] = [];
    let later = Infinity;
    for (const i of [...b.want].sort((x, y) => x - y)) {
      const at = sent.get(i);
      if (at !== undefined && now - at < repeatMs) later = Math.min(later, at + repeatMs);
      else idx.push(i);
    }
    if (later < Infinity) {
      // Sent a moment ago: ask again once the repeat window has passed.
      const deferred = [...b.want].filter((i) => !idx.includes(i));
      const nb: Batch = { ...b, want: new Set(deferred), devices: new Set(b.devices), timer: setTimeout(() => this.flush(key), Math.max(1, later - now)) };
      const existing = this.batches.get(key);
      if (existing) {
        for (const i of deferred) existing.want.add(i);
        clearTimeout(nb.timer);
      } else this.batches.set(key, nb);
    }
    if (idx.length === 0) return;
    this.stats.broadcasts++;
    for (const i of idx) {
      sent.set(i, now);
      const part = bytes.subarray(i * b.chunkSize, Math.min(bytes.length, (i + 1) * b.chunkSize));
      this.client.publish(chunkTopic(this.scope, b.model, b.version, i), part, { qos: 1 });
      this.stats.chunksSent++;
      this.stats.bytesSent += part.length;
    }
    log.debug({ model: `${b.model}@${b.version}`, chunks: idx.length, devices: b.devices.size }, 'broadcast chunks');
  }

  private onEvent(topic: string, payload: Buffer): void {
    let ev: UpdateEvent;
    try {
      ev = JSON.parse(payload.toString('utf8')) as UpdateEvent;
    } catch {
      return;
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.event !== 'string') return;
    if (ev.fleet !== undefined && ev.fleet !== this.o.fleet) return;
    const device = topic.split('/').slice(-2)[0]!;
    this.stats.events++;
    const r = this.devices.get(device);
    if (r && r.lastEvent.t === ev.t && r.lastEvent.event === ev.event) return; // a retained repeat
    this.devices.set(device, { device, lastEvent: ev, events: (r?.events ?? 0) + 1 });
    if (this.o.eventsLog) {
      try {
        appendFileSync(this.o.eventsLog, JSON.stringify({ ...ev, device }) + '\n');
      } catch (e) {
        warn('eventsLog', { err: describeError(e) }, 'cannot append to the events log');
      }
    }
  }

  async close(): Promise<void> {
    for (const b of this.batches.values()) clearTimeout(b.timer);
    this.batches.clear();
    await this.client?.endAsync().catch(() => undefined);
  }
}

