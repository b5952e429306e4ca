/**
 * Publisher side of the update protocol: the announcement of a bundle and the signed
 * revocation of a version (see src/runtime/updates/protocol.ts for the wire format).
 */
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { EdgeError } from '../errors.js';
import { decodeBundle } from '../runtime/bundle/format.js';
import { keyIdOf } from '../runtime/bundle/keys.js';
import { canonicalJson } from '../runtime/bundle/sign.js';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, revocationBody, type Announcement, type Revocation, type Rollout } from '../runtime/updates/protocol.js';

export interface AnnounceOptions {
  chunkSize?: number;
  rollout?: Rollout;
  url?: string;
  now?: number;
}

/** Build the announcement of a bundle file's bytes (structure and sha256 of its files checked). */
export function makeAnnouncement(bytes: Uint8Array, o: AnnounceOptions = {}): Announcement {
  const b = decodeBundle(bytes, 'the bundle');
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024 || chunkSize > MAX_CHUNK_SIZE) {
    throw new EdgeError('E_FLEET_CHUNK_SIZE', `the chunk size must be 1 KiB to 1 MiB, got ${chunkSize}; 64 KiB fits brokers with a 128 KB message cap`);
  }
  const a: Announcement = {
    format: 1,
    kind: 'release',
    model: b.manifest.name,
    version: b.manifest.version,
    manifest: b.manifest,
    signature: b.signature,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    chunk_size: chunkSize,
    chunks: Math.ceil(bytes.length / chunkSize),
    t: o.now ?? Date.now(),
  };
  if (o.url) a.url = o.url;
  if (o.rollout && (o.rollout.devices?.length || o.rollout.tags?.length || o.rollout.percent !== undefined)) a.rollout = o.rollout;
  return a;
}

export function makeRevocation(model: string, version: string, privateKeyPem: string, now = Date.now()): Revocation {
  const body = { format: 1 as const, kind: 'revoke' as const, model, version, t: now };
  const key = createPrivateKey(privateKeyPem);
  const sig = sign(null, Buffer.from(canonicalJson(revocationBody(body)), 'utf8'), key).toString('base64');
  return { ...body, signature: { alg: 'ed25519', key_id: keyIdOf(key), sig } };
}

/** "64KiB", "65536", "1MiB", "128kB" -> bytes. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m)?\s*$/i.exec(s);
  if (!m) throw new EdgeError('E_CLI_ARG', `"${s}" is not a size; write e.g. 64KiB or 65536`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'kb' ? 1000 : unit === 'k' || unit === 'kib' ? 1024 : unit === 'mb' ? 1e6 : unit === 'm' || unit === 'mib' ? 1 << 20 : 1;
  return Math.round(Number(m[1]) * mult);
}

/** CLI selector flags -> a rollout. `--rollout 10%`. */
export function parseRollout(o: { rollout?: string; devices?: string; tags?: string }): Rollout | undefined {
  const r: Rollout = {};
  if (o.rollout !== undefined) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(o.rollout);
    const p = m ? Number(m[1]) : NaN;
    if (!(p >= 0 && p <= 100)) throw new EdgeError('E_CLI_ARG', `--rollout takes a percentage from 0 to 100 such as 10%, got "${o.rollout}"`);
    r.percent = p;
  }
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (o.devices) r.devices = list(o.devices);
  if (o.tags) r.tags = list(o.tags);
  return Object.keys(r).length > 0 ? r : undefined;
}
