/**
 * MqttLink options and their translation into MQTT.js client options.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { EdgeError } from '../../errors.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DEFAULT_OFFLINE_QUEUE, type OfflineQueueOptions } from './OfflineQueue.js';
import { isTopicLevel } from './topics.js';
import type { StreamSpec } from '../messages/sensor.js';

export interface MqttLinkOptions {
  /** `mqtt://host:1883`, `mqtts://host:8883`, `ws://…` */
  url: string;
  /** default `edgereward-<device>-<random>` */
  clientId?: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5 (default 4) */
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** PEM file paths, read at construction (TLS) */
  ca?: string;
  cert?: string;
  key?: string;
  /** default true: refuse a broker certificate the CA does not vouch for */
  rejectUnauthorized?: boolean;
  /** seconds between PINGREQs; the link is declared dead after 1.5× without traffic (default 10) */
  keepalive?: number;
  /** ms to wait for CONNACK (default 5000) */
  connectTimeout?: number;
  reconnect?: Partial<BackoffOptions>;
  /** topic prefix (default `edgereward`) */
  prefix?: string;
  /** device name, one topic level */
  device: string;
  /** extra fields of the retained birth message; `false` disables birth/death (default {}) */
  status?: Record<string, unknown> | false;
  /** the offline queue for publishes made while disconnected */
  queue?: Partial<OfflineQueueOptions>;
  /** sensor decoding defaults for `stream$` */
  maxBytes?: number;
  maxFutureMs?: number;
  /** per-stream field expectations (e.g. `specsFromPlan(plan.streams)`) */
  streams?: ReadonlyMap<string, StreamSpec | undefined>;
  /** clean session (default true: a robot wants fresh data, not a backlog) */
  clean?: boolean;
}

export interface ResolvedOptions {
  url: string;
  prefix: string;
  device: string;
  keepalive: number;
  reconnect: BackoffOptions;
  queue: OfflineQueueOptions;
  status: Record<string, unknown> | false;
  maxBytes: number | undefined;
  maxFutureMs: number | undefined;
  streams: ReadonlyMap<string, StreamSpec | undefined> | undefined;
  client: IClientOptions;
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_MQTT_TLS_FILE', `cannot read the MQTT ${what} file ${path}: ${(e as Error).message}; check the path and that the daemon's user may read it`, { cause: e });
  }
}

export function resolveOptions(o: MqttLinkOptions): ResolvedOptions {
  if (typeof o.url !== 'string' || o.url === '') throw new TypeError('"url" must be a broker URL such as mqtt://127.0.0.1:1883');
  if (!isTopicLevel(o.device)) throw new TypeError('"device" must be one MQTT topic level (no "/", "+", "#")');
  const prefix = o.prefix ?? 'edgereward';
  if (prefix.includes('+') || prefix.includes('#') || prefix === '') throw new TypeError('"prefix" must be a topic without wildcards');
  const keepalive = o.keepalive ?? 10;
  if (!Number.isInteger(keepalive) || keepalive < 1) throw new TypeError('"keepalive" must be a whole number of seconds >= 1');
  const protocolVersion = o.protocolVersion ?? 4;
  if (protocolVersion !== 4 && protocolVersion !== 5) throw new TypeError('"protocolVersion" must be 4 (MQTT 3.1.1) or 5');
  const client: IClientOptions = {
    clientId: o.clientId ?? `edgereward-${o.device}-${Math.random().toString(16).slice(2, 10)}`,
    protocolVersion,
    keepalive,
    connectTimeout: o.connectTimeout ?? 5000,
    clean: o.clean ?? true,
    // We drive reconnects ourselves (backoff + jitter): MQTT.js re-arms a fixed setInterval.
    reconnectPeriod: 0,
    // Publishes are only handed to MQTT.js while connected; its own offline queue stays off,
    // so a QoS 0 publish that races a disconnect fails instead of waiting in an unbounded queue.
    queueQoSZero: false,
    resubscribe: true,
    manualConnect: true,
    rejectUnauthorized: o.rejectUnauthorized ?? true,
  };
  if (o.username !== undefined) client.username = o.username;
  if (o.password !== undefined) client.password = o.password;
  const ca = readPem(o.ca, 'CA certificate');
  const cert = readPem(o.cert, 'client certificate');
  const key = readPem(o.key, 'client key');
  if (ca) client.ca = ca;
  if (cert) client.cert = cert;
  if (key) client.key = key;
  return {
    url: o.url,
    prefix,
    device: o.device,
    keepalive,
    reconnect: { ...DEFAULT_BACKOFF, ...o.reconnect },
    queue: { ...DEFAULT_OFFLINE_QUEUE, ...o.queue },
    status: o.status ?? {},
    maxBytes: o.maxBytes,
    maxFutureMs: o.maxFutureMs,
    streams: o.streams,
    client,
  };
}
