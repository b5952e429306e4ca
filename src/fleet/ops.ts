/**
 * One-shot fleet operations for the CLI: publish an announcement, read the fleet's status,
 * revoke a version (fleet rollback).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { EdgeError, describeError } from '../errors.js';
import { announceTopic, eventsFilter, parseFleetMessage, statusFilter, type Announcement, type Revocation, type Rollout, type UpdateEvent } from '../runtime/updates/protocol.js';
import { makeAnnouncement, makeRevocation } from './announce.js';

export interface BrokerOptions {
  url: string;
  prefix?: string;
  username?: string;
  password?: string;
}

async function connect(o: BrokerOptions): Promise<MqttClient> {
  try {
    return await mqtt.connectAsync(o.url, {
      protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 5000,
      ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}),
    });
  } catch (e) {
    throw new EdgeError('E_FLEET_BROKER', `cannot connect to the broker at ${o.url} (${describeError(e)}); check --broker`, { cause: e });
  }
}

export interface PublishOptions extends BrokerOptions {
  fleet: string;
  bundle: string;
  chunkSize?: number;
  rollout?: Rollout;
  /** Serve the bundle from this URL instead of MQTT chunks. */
  bundleUrl?: string;
  /** Copy the bundle into the fleet server's bundles directory first. */
  bundles?: string;
}

export async function publishBundle(o: PublishOptions): Promise<{ announcement: Announcement; topic: string; copiedTo?: string }> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(o.bundle);
  } catch (e) {
    throw new EdgeError('E_BUNDLE_READ', `cannot read ${o.bundle} (${describeError(e)})`, { cause: e });
  }
  const ann = makeAnnouncement(bytes, { ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}), ...(o.rollout ? { rollout: o.rollout } : {}), ...(o.bundleUrl ? { url: o.bundleUrl } : {}) });
  let copiedTo: string | undefined;
  if (o.bundles) {
    mkdirSync(o.bundles, { recursive: true });
    copiedTo = join(o.bundles, `${ann.model}@${ann.version}-${ann.sha256.slice(0, 12)}.erwb`);
    if (basename(o.bundle) !== basename(copiedTo) || !o.bundle.startsWith(o.bundles)) copyFileSync(o.bundle, copiedTo);
  }
  const topic = announceTopic({ prefix: o.prefix ?? 'edgereward', fleet: o.fleet }, ann.model);
  const c = await connect(o);
  try {
    await c.publishAsync(topic, JSON.stringify(ann), { qos: 1, retain: true });
  } finally {
    await c.endAsync();
  }
  return copiedTo ? { announcement: ann, topic, copiedTo } : { announcement: ann, topic };
}

export interface DeviceRow {
  device: string;
  online: boolean | null;
  model: string | null;
  lastEvent: string | null;
  lastEventAt: number | null;
  p99Ms: number | null;
  fleet: string | null;
}

/** Read retained status and last events of every device for `waitMs`; keep the fleet's. */
export async function fleetStatus(o: BrokerOptions & { fleet: string; waitMs?: number; all?: boolean }): Promise<DeviceRow[]> {
  const prefix = o.prefix ?? 'edgereward';
  const rows = new Map<string, DeviceRow>();
  // The model comes from whichever is newer: the retained status or the last update event.
  const modelAt = new Map<string, number>();
  const row = (d: string): DeviceRow => {
    let r = rows.get(d);
    if (!r) rows.set(d, (r = { device: d, online: null, model: null, lastEvent: null, lastEventAt: null, p99Ms: null, fleet: null }));
    return r;
  };
  const c = await connect(o);
  c.on('message', (topic, payload) => {
    const parts = topic.split('/');
    const device = parts[parts.length - 2]!;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const r = row(device);
    if (topic.endsWith('/status')) {
      r.online = v['state'] !== 'offline';
      const t = typeof v['t'] === 'number' ? v['t'] : 0;
      if (typeof v['model'] === 'string' && t >= (modelAt.get(device) ?? -1)) {
        r.model = v['model'];
        modelAt.set(device, t);
      }
      if (typeof v['p99_ms'] === 'number') r.p99Ms = v['p99_ms'];
      if (typeof v['fleet'] === 'string') r.fleet = v['fleet'];
    } else {
      const ev = v as Partial<UpdateEvent>;
      if (typeof ev.t === 'number' && (r.lastEventAt === null || ev.t >= r.lastEventAt)) {
        r.lastEventAt = ev.t;
        r.lastEvent = `${ev.event ?? '?'} ${ev.model ?? ''}${ev.code ? ` ${ev.code}` : ''}`.trim();
        if (typeof ev.fleet === 'string') r.fleet = ev.fleet;
        if (typeof ev.active === 'string' && ev.t >= (modelAt.get(device) ?? -1)) {
          r.model = ev.active;
          modelAt.set(device, ev.t);
        }
      }
    }
  });
  try {
    await c.subscribeAsync({ [statusFilter(prefix)]: { qos: 1 }, [eventsFilter(prefix)]: { qos: 1 } });
    await new Promise((r) => setTimeout(r, o.waitMs ?? 1500));
  } finally {
    await c.endAsync();
  }
  return [...rows.values()].filter((r) => o.all || r.fleet === o.fleet).sort((a, b) => a.device.localeCompare(b.device));
}

export function formatStatus(rows: DeviceRow[], now = Date.now()): string {
  const head = ['DEVICE', 'ONLINE', 'MODEL', 'LAST EVENT', 'AGE', 'P99 MS'];
  const age = (t: number | null): string => {
    if (t === null) return '-';
    const s = Math.max(0, Math.round((now - t) / 1000));
    return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
  };
  const body = rows.map((r) => [r.device, r.online === null ? '?' : r.online ? 'yes' : 'no', r.model ?? '-', r.lastEvent ?? '-', age(r.lastEventAt), r.p99Ms === null ? '-' : r.p99Ms.toFixed(2)]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => cell.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

/** Read the retained announcement of a model (undefined when none). */
async function currentAnnouncement(c: MqttClient, topic: string, waitMs: number): Promise<Announcement | Revocation | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    c.on('message', (t, payload) => {
      if (t !== topic || payload.length === 0) return;
      clearTimeout(timer);
      try {
        resolve(parseFleetMessage(payload));
      } catch {
        resolve(undefined);
      }
    });
    void c.subscribeAsync(topic, { qos: 1 });
  });
}

/**
 * `fleet rollback`: replace the model's retained announcement with a signed revocation of
 * its version (or `version`). Devices running it go back to their last-known-good and
 * block it; devices that start later no longer see the release.
 */
export async function revokeModel(o: BrokerOptions & { fleet: string; model: string; version?: string; privateKeyPem: string }): Promise<Revocation> {
  const topic = announceTopic({ prefix: o.prefix ?? 'edgereward', fleet: o.fleet }, o.model);
  const c = await connect(o);
  try {
    let version = o.version;
    if (!version) {
      const cur = await currentAnnouncement(c, topic, 1500);
      if (!cur) throw new EdgeError('E_FLEET_NO_RELEASE', `fleet "${o.fleet}" has no announcement of model "${o.model}" on ${topic}; name the version with --version`);
      version = cur.version;
    }
    const r = makeRevocation(o.model, version, o.privateKeyPem);
    await c.publishAsync(topic, JSON.stringify(r), { qos: 1, retain: true });
    return r;
  } finally {
    await c.endAsync();
  }
}
