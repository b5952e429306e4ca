/**
 * The daemon's configuration schema (convict). Every leaf has a doc line, a default and an
 * environment variable derived from its key (`loop.deadlineMs` -> EDGEREWARD_LOOP_DEADLINE_MS),
 * so docs/config.md can be generated from this one table (`edgereward config schema`).
 */
import type { Schema } from 'convict';
import { updatesSchema, type UpdatesConfig } from './updates.js';

export interface StreamConfig {
  /** Stream name: one topic level, e.g. `lidar` (topic `<prefix>/<device>/sensors/lidar`). */
  name: string;
  source: 'mqtt' | 'serial';
  qos: 0 | 1 | 2;
  /** Oldest acceptable latest value, ms; older -> fallback `stale_input`. */
  maxAgeMs: number;
  /** Larger payloads are counted and dropped. */
  maxBytes: number;
}

export interface SerialConfig {
  path: string;
  baud: number;
  codec: 'jsonl' | 'csv' | 'frame';
  /** csv: the column names, `t` first is recommended. */
  columns: string[];
  /** csv/frame: the stream the lines belong to (jsonl lines name theirs in `s`). */
  stream: string;
  /** Write actions back to this port as JSON lines. */
  actions: boolean;
}

export interface EdgeConfig {
  device: { id: string };
  mqtt: {
    broker: 'external' | 'embedded';
    url: string;
    protocolVersion: 4 | 5;
    keepalive: number;
    prefix: string;
    clientId: string;
    username: string;
    password: string;
    tls: { ca: string; cert: string; key: string; rejectUnauthorized: boolean };
  };
  streams: StreamConfig[];
  serial: SerialConfig[];
  loop: {
    rateHz: number;
    trigger: string;
    deadlineMs: number;
    maxAgeMs: number;
    fallback: Record<string, number>;
    policy: 'argmax' | 'softmax';
    temperature: number;
    seed: number;
  };
  actions: { mqtt: boolean; qos: 0 | 1 | 2; maxAgeMs: number };
  score: { enabled: boolean; maxCandidates: number };
  model: { bundle: string; trust: string[]; dir: string; allowUnsigned: boolean };
  engine: {
    intraOpThreads: number;
    graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
    executionProviders: string[];
    warmupRuns: number;
  };
  telemetry: { host: string; port: number; logLevel: string; live: 'auto' | 'on' | 'off'; statusIntervalMs: number; watchdog: boolean; web: boolean; token: string; webFps: number };
  demo: { robot: boolean; seed: number };
  record: { enabled: boolean; dir: string; maxFileBytes: number; maxFileAgeMs: number; maxTotalBytes: number; chunkBytes: number; flushMs: number; queue: number };
  foxglove: { enabled: boolean; host: string; port: number; token: string; rateHz: number };
  updates: UpdatesConfig;
}

/** Keys whose values are file paths: relative ones in a config file are relative to that file. */
export const PATH_KEYS = ['mqtt.tls.ca', 'mqtt.tls.cert', 'mqtt.tls.key', 'model.bundle', 'model.trust', 'model.dir', 'record.dir', 'serial.path'] as const;

const isName = (v: unknown): boolean => typeof v === 'string' && /^[^/+#\u0000]{1,128}$/.test(v);

function need(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

/** A number in [min, max] (integers when `int`), with a message naming the range. */
function range(min: number, max: number, int = false) {
  return (v: unknown): void => need(!Number.isNaN(v), `must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max} (the value given is not a number)`) ?? need(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!int || Number.isInteger(v)), `must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}`);
}

function oneOf<T extends string | number>(...values: T[]) {
  return (v: unknown): void => need(values.includes(v as T), `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
}

function stringList(v: unknown): void {
  need(Array.isArray(v) && v.every((x) => typeof x === 'string'), 'must be a list of strings');
}

function streamList(v: unknown): void {
  need(Array.isArray(v), 'must be a list of {name, source, qos, maxAgeMs, maxBytes}');
  const seen = new Set<string>();
  (v as unknown[]).forEach((s, i) => {
    const at = `item ${i}`;
    need(typeof s === 'object' && s !== null && !Array.isArray(s), `${at} must be an object`);
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o)) need(['name', 'source', 'qos', 'maxAgeMs', 'maxBytes'].includes(k), `${at} has unknown field "${k}" (known: name, source, qos, maxAgeMs, maxBytes)`);
    need(isName(o['name']), `${at}: "name" must be one MQTT topic level such as "lidar"`);
    need(!seen.has(o['name'] as string), `${at}: stream "${String(o['name'])}" is listed twice`);
    seen.add(o['name'] as string);
    need(o['source'] === undefined || o['source'] === 'mqtt' || o['source'] === 'serial', `${at}: "source" must be "mqtt" or "serial"`);
    need(o['qos'] === undefined || o['qos'] === 0 || o['qos'] === 1 || o['qos'] === 2, `${at}: "qos" must be 0, 1 or 2`);
    for (const k of ['maxAgeMs', 'maxBytes']) need(o[k] === undefined || (typeof o[k] === 'number' && (o[k] as number) > 0), `${at}: "${k}" must be a positive number`);
  });
}

function serialList(v: unknown): void {
  need(Array.isArray(v), 'must be a list of {path, baud, codec, columns, stream, actions}');
  (v as unknown[]).forEach((s, i) => {
    const at = `item ${i}`;
    need(typeof s === 'object' && s !== null && !Array.isArray(s), `${at} must be an object`);
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o)) need(['path', 'baud', 'codec', 'columns', 'stream', 'actions'].includes(k), `${at} has unknown field "${k}" (known: path, baud, codec, columns, stream, actions)`);
    need(typeof o['path'] === 'string' && o['path'] !== '', `${at}: "path" must name the port, e.g. /dev/ttyACM0 or /dev/serial/by-id/...`);
    need(o['baud'] === undefined || (Number.isInteger(o['baud']) && (o['baud'] as number) > 0), `${at}: "baud" must be a positive whole number such as 115200`);
    need(o['codec'] === undefined || ['jsonl', 'csv', 'frame'].includes(o['codec'] as string), `${at}: "codec" must be "jsonl", "csv" or "frame"`);
    need(o['columns'] === undefined || (Array.isArray(o['columns']) && (o['columns'] as unknown[]).every((c) => typeof c === 'string')), `${at}: "columns" must be a list of column names`);
    need(o['codec'] !== 'csv' || (Array.isArray(o['columns']) && (o['columns'] as unknown[]).length > 0), `${at}: the csv codec needs "columns"`);
    need(o['codec'] === undefined || o['codec'] === 'jsonl' || isName(o['stream']), `${at}: the ${String(o['codec'])} codec needs "stream" (the stream its lines belong to)`);
    need(o['actions'] === undefined || typeof o['actions'] === 'boolean', `${at}: "actions" must be true or false`);
  });
}

export function actionObject(v: unknown): void {
  need(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x)), 'must be an object of finite numbers, e.g. {"v": 0, "w": 0}');
}


/** Add `env: EDGEREWARD_<KEY>` to every leaf (camelCase and dots become underscores). */
function withEnv<T>(s: Schema<T>, path: string[] = []): Schema<T> {
  for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
    const node = v as Record<string, unknown>;
    if (node && typeof node === 'object' && 'default' in node && 'doc' in node) {
      node['env'] ??= 'EDGEREWARD_' + [...path, k].map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase();
    } else if (node && typeof node === 'object') withEnv(node as Schema<unknown>, [...path, k]);
  }
  return s;
}

export const schema: Schema<EdgeConfig> = withEnv<EdgeConfig>({
  device: {
    id: { doc: 'Device name: one MQTT topic level; topics are <prefix>/<device>/...', format: (v: unknown) => need(isName(v), 'must be one MQTT topic level (no "/", "+", "#")'), default: 'demo' },
  },
  mqtt: {
    broker: { doc: '"external": connect to mqtt.url; "embedded": start an in-process broker on a free loopback port (the demo)', format: oneOf('external', 'embedded'), default: 'external' },
    url: { doc: 'Broker URL: mqtt://host:1883, mqtts://host:8883 (TLS), ws://...', format: (v: unknown) => need(typeof v === 'string' && /^(mqtts?|wss?|tcp|ssl):\/\/./.test(v), 'must be a broker URL such as mqtt://127.0.0.1:1883 or mqtts://broker:8883'), default: 'mqtt://127.0.0.1:1883' },
    protocolVersion: { doc: '4 = MQTT 3.1.1, 5 = MQTT 5 (response topic and correlation data for the score service)', format: oneOf(4, 5), default: 5 },
    keepalive: { doc: 'Seconds between PINGREQs; the link is declared dead after 1.5x without traffic', format: range(1, 3600, true), default: 10 },
    prefix: { doc: 'Topic prefix', format: (v: unknown) => need(typeof v === 'string' && v !== '' && !/[+#]/.test(v), 'must be a topic without wildcards'), default: 'edgereward' },
    clientId: { doc: 'MQTT client id ("" = edgereward-<device>-<random>)', format: String, default: '' },
    username: { doc: 'Broker user name ("" = none)', format: String, default: '' },
    password: { doc: 'Broker password ("" = none); prefer the environment variable over a file', format: String, default: '', sensitive: true },
    tls: {
      ca: { doc: 'PEM file of the CA that signed the broker certificate ("" = system CAs)', format: String, default: '' },
      cert: { doc: 'PEM client certificate for mutual TLS ("" = none)', format: String, default: '' },
      key: { doc: 'PEM private key of the client certificate', format: String, default: '', sensitive: true },
      rejectUnauthorized: { doc: 'Refuse a broker certificate the CA does not vouch for', format: Boolean, default: true },
    },
  },
  streams: {
    doc: 'Sensor streams: [{name, source: "mqtt"|"serial", qos, maxAgeMs, maxBytes}]; streams the model reads but not listed here are subscribed over MQTT with the defaults (qos 0, loop.maxAgeMs, 65536 bytes)',
    format: streamList,
    default: [] as StreamConfig[],
  },
  serial: {
    doc: 'Serial ports: [{path, baud, codec: "jsonl"|"csv"|"frame", columns, stream, actions}]',
    format: serialList,
    default: [] as SerialConfig[],
  },
  loop: {
    rateHz: { doc: 'Decision rate (ticks per second) when no trigger stream is set', format: range(0.1, 1000), default: 10 },
    trigger: { doc: 'Tick once per message of this stream instead of at a fixed rate ("" = fixed rate)', format: String, default: '' },
    deadlineMs: { doc: 'A decision must be published within this many ms of its tick, else the fallback is', format: range(1, 10_000), default: 20 },
    maxAgeMs: { doc: 'Default maximum age of a stream\'s latest value (ms); per stream: streams[].maxAgeMs', format: range(1, 3_600_000), default: 500 },
    // format 'object' (registered in load.ts with actionObject): convict then treats nested
    // values as leaves; load.ts replaces the whole object (convict would merge it into the default).
    fallback: { doc: 'The action published when the model\'s choice cannot be used (stale input, deadline, NaN...)', format: 'object', default: { v: 0, w: 0 } },
    policy: { doc: '"argmax" (best candidate) or "softmax" (sample with loop.temperature, seeded by loop.seed)', format: oneOf('argmax', 'softmax'), default: 'argmax' },
    temperature: { doc: 'Softmax temperature (reward units)', format: range(1e-6, 1e6), default: 0.1 },
    seed: { doc: 'Softmax random seed', format: range(0, 2 ** 32 - 1, true), default: 1 },
  },
  actions: {
    mqtt: { doc: 'Publish actions to <prefix>/<device>/action', format: Boolean, default: true },
    qos: { doc: 'QoS of action messages', format: oneOf(0, 1, 2), default: 0 },
    maxAgeMs: { doc: 'An action waiting in the offline queue longer than this expires instead of being sent late', format: range(1, 3_600_000), default: 200 },
  },
  score: {
    enabled: { doc: 'Serve <prefix>/<device>/score/request (planners bringing their own candidates)', format: Boolean, default: true },
    maxCandidates: { doc: 'Most candidates accepted per score request', format: range(1, 65536, true), default: 4096 },
  },
  model: {
    bundle: { doc: 'The model bundle to run at start ("" = the active model of model.dir)', format: String, default: '' },
    trust: { doc: 'Trusted public keys: directories or PEM files (comma-separated in the environment)', format: stringList, default: [] as string[] },
    dir: { doc: 'The versioned model store (hot-swapped models, last known good)', format: String, default: '/var/lib/edgereward/models' },
    allowUnsigned: { doc: 'Run a bundle without checking its signature when model.trust is empty (development only)', format: Boolean, default: false },
  },
  engine: {
    intraOpThreads: { doc: 'ORT intra-op threads (1 keeps a core free for IO on a Pi)', format: range(0, 64, true), default: 1 },
    graphOptimization: { doc: 'ORT graph optimization level', format: oneOf('disabled', 'basic', 'extended', 'all'), default: 'all' },
    executionProviders: { doc: 'ORT execution providers in order of preference (cpu always works)', format: stringList, default: ['cpu'] },
    warmupRuns: { doc: 'Scoring runs before the first tick (first runs are slow)', format: range(0, 1000, true), default: 3 },
  },
  telemetry: {
    host: { doc: 'Address of the /metrics, /healthz, /readyz HTTP server (loopback by default)', format: String, default: '127.0.0.1' },
    port: { doc: 'Port of the HTTP server (0 = a free port, -1 = off)', format: range(-1, 65535, true), default: 9464 },
    logLevel: { doc: 'pino log level', format: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), default: 'info' },
    live: { doc: 'The one-line live view: "auto" (on a TTY refreshed in place, else every few seconds), "on", "off"', format: oneOf('auto', 'on', 'off'), default: 'auto' },
    statusIntervalMs: { doc: 'How often the retained status message is refreshed (ms)', format: range(100, 3_600_000), default: 10_000 },
    watchdog: { doc: 'Send READY/WATCHDOG to systemd (when NOTIFY_SOCKET is set) while the loop is healthy', format: Boolean, default: true },
    web: { doc: 'Serve the live page (GET /) on the telemetry port: perception, candidates, decisions, model, events (read-only)', format: Boolean, default: true },
    token: { doc: 'Bearer token for the telemetry port (live page, /metrics, /readyz); required when telemetry.host is not loopback (Authorization: Bearer, or ?token= once in a browser, then a cookie)', format: String, default: '', sensitive: true },
    webFps: { doc: 'Most live-page frames per second (sampled off the decision loop; at most 10)', format: range(0.1, 10), default: 10 },
  },
  demo: {
    robot: { doc: 'Run the simulated robot in-process: it publishes lidar/odom/goal and drives with the actions', format: Boolean, default: false },
    seed: { doc: 'World seed of the first demo episode (episode n uses seed + n)', format: range(0, 2 ** 31, true), default: 1 },
  },
  record: {
    enabled: { doc: 'Record sensor messages, decisions and model events to MCAP files in record.dir (`run --record DIR`)', format: Boolean, default: false },
    dir: { doc: 'Where recordings go (rotating MCAP files, oldest deleted first beyond record.maxTotalBytes)', format: String, default: '' },
    maxFileBytes: { doc: 'Start a new file when the current one reaches this size (bytes)', format: range(64 * 1024, 2 ** 40, true), default: 64 * 1024 * 1024 },
    maxFileAgeMs: { doc: 'Start a new file when the current one is this old (ms)', format: range(1000, 7 * 24 * 3_600_000, true), default: 10 * 60_000 },
    maxTotalBytes: { doc: 'Total size cap of record.dir: the oldest recordings are deleted first (bytes)', format: range(64 * 1024, 2 ** 50, true), default: 1024 * 1024 * 1024 },
    chunkBytes: { doc: 'MCAP chunk size: writes are batched into chunks of about this many bytes (SD cards wear out with small writes)', format: range(1024, 64 * 1024 * 1024, true), default: 256 * 1024 },
    flushMs: { doc: 'The open chunk is written and fdatasync\'ed at least this often: at most this much is lost on a power cut (ms)', format: range(50, 600_000, true), default: 1000 },
    queue: { doc: 'Records waiting for the disk; when full (the disk is too slow) records are dropped and counted, never the decision delayed', format: range(16, 1_000_000, true), default: 8192 },
  },
  foxglove: {
    enabled: { doc: 'Serve the Foxglove WebSocket protocol (Foxglove Studio: Open connection -> Foxglove WebSocket)', format: Boolean, default: false },
    host: { doc: 'Address of the Foxglove WebSocket server (loopback by default; any other address requires foxglove.token)', format: String, default: '127.0.0.1' },
    port: { doc: 'Port of the Foxglove WebSocket server (0 = a free port)', format: range(0, 65535, true), default: 8765 },
    token: { doc: 'Bearer token a client must send (Authorization header or ?token= in the URL); required when foxglove.host is not loopback', format: String, default: '', sensitive: true },
    rateHz: { doc: 'Most messages per second per Foxglove channel (sampled from the loop, off its hot path)', format: range(0.1, 100), default: 10 },
  },
  updates: updatesSchema,
});
