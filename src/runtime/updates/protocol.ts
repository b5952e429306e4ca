/**
 * The fleet update protocol on MQTT: topics, the announcement a fleet publishes (retained)
 * for each model, the chunk request a device sends for what it still misses, and the
 * rollout selector that decides whether an announcement is meant for this device.
 *
 *   <p>/fleet/<fleet>/models/<model>                       retained announcement (JSON, below)
 *   <p>/fleet/<fleet>/models/<model>/<version>/chunk/<i>   raw bundle bytes [i*chunk_size, …)
 *   <p>/fleet/<fleet>/models/<model>/<version>/request     {device, have: base64 bitmap, n}
 *
 * Like AWS IoT's MQTT file streams, a device asks for blocks with a bitmap of what it has
 * (bit i of byte i>>3, LSB first, set = received), and the fleet server answers with the
 * missing blocks only; after a disconnect the same request resumes the download.
 */
import { createHash } from 'node:crypto';
import { EdgeError } from '../../errors.js';
import { compile, explain } from '../../validate.js';
import { parseManifest, type Manifest, type Signature } from '../bundle/manifest.js';

export const ANNOUNCE_FORMAT = 1;
/** 64 KiB: fits brokers capping messages at 128 KB (AWS IoT Core) with room for headers. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 1 << 20;

export interface FleetScope {
  prefix: string;
  fleet: string;
}

export const announceTopic = (s: FleetScope, model: string): string => `${s.prefix}/fleet/${s.fleet}/models/${model}`;
export const announceFilter = (s: FleetScope): string => `${s.prefix}/fleet/${s.fleet}/models/+`;
export const versionBase = (s: FleetScope, model: string, version: string): string => `${announceTopic(s, model)}/${version}`;
export const chunkTopic = (s: FleetScope, model: string, version: string, i: number): string => `${versionBase(s, model, version)}/chunk/${i}`;
export const chunkFilter = (s: FleetScope, model: string, version: string): string => `${versionBase(s, model, version)}/chunk/+`;
export const requestTopic = (s: FleetScope, model: string, version: string): string => `${versionBase(s, model, version)}/request`;
export const requestFilter = (s: FleetScope): string => `${s.prefix}/fleet/${s.fleet}/models/+/+/request`;
export const eventsFilter = (prefix: string): string => `${prefix}/+/events`;
export const statusFilter = (prefix: string): string => `${prefix}/+/status`;

/** Who takes an announcement. Empty (or absent) selector: every device of the fleet. */
export interface Rollout {
  /** Explicit device ids. */
  devices?: string[];
  /** 0–100: devices whose stable hash bucket is below this take it. */
  percent?: number;
  /** Devices carrying at least one of these tags. */
  tags?: string[];
}

export interface Announcement {
  format: 1;
  kind: 'release';
  model: string;
  version: string;
  /** The signed manifest, checked before a byte of the bundle is fetched. */
  manifest: Manifest;
  signature: Signature;
  /** The whole bundle file. */
  size: number;
  sha256: string;
  chunk_size: number;
  chunks: number;
  /** When set, fetch the bundle over HTTP(S) from here instead of in MQTT chunks. */
  url?: string;
  rollout?: Rollout;
  /** Unix ms of publication. */
  t: number;
}

/** `fleet rollback`: devices running model@version go back to their last-known-good. Signed. */
export interface Revocation {
  format: 1;
  kind: 'revoke';
  model: string;
  version: string;
  t: number;
  /** ed25519 over canonicalJson of the other fields, by a trusted publisher key. */
  signature: Signature;
}

export type FleetMessage = Announcement | Revocation;

const signatureSchema = {
  type: 'object',
  required: ['alg', 'key_id', 'sig'],
  additionalProperties: false,
  properties: { alg: { const: 'ed25519' }, key_id: { type: 'string', pattern: '^[0-9a-f]{16}$' }, sig: { type: 'string', maxLength: 200 } },
};
const name = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
const version = { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.-]+)?$' };

const validateFleetMessage = compile<FleetMessage>({
  oneOf: [
    {
      type: 'object',
      required: ['format', 'kind', 'model', 'version', 'manifest', 'signature', 'size', 'sha256', 'chunk_size', 'chunks', 't'],
      additionalProperties: false,
      properties: {
        format: { const: ANNOUNCE_FORMAT },
        kind: { const: 'release' },
        model: name,
        version,
        manifest: { type: 'object' },
        signature: signatureSchema,
        size: { type: 'integer', minimum: 1 },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        chunk_size: { type: 'integer', minimum: 1024, maximum: MAX_CHUNK_SIZE },
        chunks: { type: 'integer', minimum: 1, maximum: 1 << 20 },
        url: { type: 'string', pattern: '^https?://', maxLength: 2048 },
        rollout: {
          type: 'object',
          additionalProperties: false,
          properties: {
            devices: { type: 'array', maxItems: 100_000, items: { type: 'string', minLength: 1, maxLength: 128 } },
            percent: { type: 'number', minimum: 0, maximum: 100 },
            tags: { type: 'array', maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 128 } },
          },
        },
        t: { type: 'number' },
      },
    },
    {
      type: 'object',
      required: ['format', 'kind', 'model', 'version', 't', 'signature'],
      additionalProperties: false,
      properties: { format: { const: ANNOUNCE_FORMAT }, kind: { const: 'revoke' }, model: name, version, t: { type: 'number' }, signature: signatureSchema },
    },
  ],
});

/** Parse an untrusted announcement payload; throws E_UPDATE_ANNOUNCEMENT. */
export function parseFleetMessage(payload: Uint8Array, topicModel?: string): FleetMessage {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new EdgeError('E_UPDATE_ANNOUNCEMENT', 'the model announcement is not JSON; publish it with `edgereward fleet publish`');
  }
  if (!validateFleetMessage(v)) {
    const kind = typeof v === 'object' && v !== null ? (v as { kind?: unknown }).kind : undefined;
    throw new EdgeError('E_UPDATE_ANNOUNCEMENT', `the model announcement${kind === 'revoke' ? ' (revoke)' : ''} is invalid: ${explain(validateFleetMessage.errors)}; publish it with \`edgereward fleet publish\``);
  }
  const m = v;
  if (topicModel !== undefined && m.model !== topicModel) {
    throw new EdgeError('E_UPDATE_ANNOUNCEMENT', `an announcement for model "${m.model}" arrived on the topic of model "${topicModel}"; it is ignored`);
  }
  if (m.kind === 'release') {
    m.manifest = parseManifest(m.manifest, `the manifest announced for ${m.model}@${m.version}`);
    if (m.manifest.name !== m.model || m.manifest.version !== m.version) {
      throw new EdgeError('E_UPDATE_ANNOUNCEMENT', `the announcement names ${m.model}@${m.version} but carries the manifest of ${m.manifest.name}@${m.manifest.version}`);
    }
    if (m.chunks !== Math.ceil(m.size / m.chunk_size)) {
      throw new EdgeError('E_UPDATE_ANNOUNCEMENT', `the announcement of ${m.model}@${m.version} says ${m.chunks} chunks, but ${m.size} bytes in chunks of ${m.chunk_size} make ${Math.ceil(m.size / m.chunk_size)}`);
    }
  }
  return m;
}

/** What a revocation signs: every field but the signature, canonical. */
export function revocationBody(r: Omit<Revocation, 'signature'>): Record<string, unknown> {
  return { format: r.format, kind: r.kind, model: r.model, version: r.version, t: r.t };
}

/**
 * Stable bucket 0 ≤ b < 100 of a device for a model: the same device stays in the same
 * bucket for every version, so raising a rollout from 10 % to 50 % keeps the first 10 %.
 */
export function rolloutBucket(device: string, model: string): number {
  const h = createHash('sha256').update(`${model}\u0000${device}`).digest();
  return (h.readUInt32BE(0) / 2 ** 32) * 100;
}

/** Does the selector pick this device? Any matching clause selects; no clause = everyone. */
export function isSelected(r: Rollout | undefined, device: string, tags: readonly string[], model: string): boolean {
  if (!r) return true;
  const has = (r.devices?.length ?? 0) > 0 || r.percent !== undefined || (r.tags?.length ?? 0) > 0;
  if (!has) return true;
  if (r.devices?.includes(device)) return true;
  if (r.tags?.some((t) => tags.includes(t))) return true;
  if (r.percent !== undefined && rolloutBucket(device, model) < r.percent) return true;
  return false;
}

// ---- chunk bitmap -------------------------------------------------------------------------

export function newBitmap(n: number): Uint8Array {
  return new Uint8Array(Math.ceil(n / 8));
}
export const hasBit = (b: Uint8Array, i: number): boolean => (b[i >> 3]! & (1 << (i & 7))) !== 0;
export const setBit = (b: Uint8Array, i: number): void => {
  b[i >> 3] = b[i >> 3]! | (1 << (i & 7));
};

/** Indices 0..n-1 whose bit is clear. */
export function missingFrom(b: Uint8Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!hasBit(b, i)) out.push(i);
  return out;
}

export interface ChunkRequest {
  device: string;
  /** base64 bitmap of the chunks the device HAS. */
  have: string;
  n: number;
  chunk_size: number;
  /** sha256 of the bundle asked for (guards against a re-published version). */
  sha256: string;
}

const validateRequest = compile<ChunkRequest>({
  type: 'object',
  required: ['device', 'have', 'n', 'chunk_size', 'sha256'],
  additionalProperties: false,
  properties: {
    device: { type: 'string', minLength: 1, maxLength: 128 },
    have: { type: 'string', maxLength: 200_000 },
    n: { type: 'integer', minimum: 1, maximum: 1 << 20 },
    chunk_size: { type: 'integer', minimum: 1024, maximum: MAX_CHUNK_SIZE },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
});

export function parseChunkRequest(payload: Uint8Array): ChunkRequest {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    throw new EdgeError('E_FLEET_REQUEST', 'a chunk request is not JSON');
  }
  if (!validateRequest(v)) throw new EdgeError('E_FLEET_REQUEST', `a chunk request is invalid: ${explain(validateRequest.errors)}`);
  return v;
}

/** Device update events on `<prefix>/<device>/events`. */
export type UpdateEventKind = 'ready' | 'announced' | 'ignored' | 'received' | 'verified' | 'stored' | 'rejected' | 'canary' | 'activated' | 'confirmed' | 'rolled_back' | 'resumed';

export interface UpdateEvent {
  event: UpdateEventKind;
  t: number;
  device: string;
  fleet: string;
  /** name@version the event is about. */
  model: string;
  /** The model running after the event. */
  active: string | null;
  code?: string;
  reason?: string;
  [figure: string]: unknown;
}
