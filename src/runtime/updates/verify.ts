/**
 * What a device checks before and after downloading an announced bundle. Before: the size
 * limit, the signature over the announced manifest, the runtime version, and compatibility
 * (feature map against the streams this daemon consumes, the action space). After: sha256
 * of the whole file, then the bundle's own checks (`openBundleBytes`), then that the bundle
 * carries exactly the manifest that was announced.
 */
import { createHash } from 'node:crypto';
import { EdgeError, isEdgeError } from '../../errors.js';
import { checkFeatures, checkRuntime, openBundleBytes } from '../bundle/create.js';
import type { Bundle } from '../bundle/format.js';
import type { TrustStore } from '../bundle/keys.js';
import { modelId } from '../bundle/manifest.js';
import { canonicalJson, verifySignature } from '../bundle/sign.js';
import { compileFeatures } from '../features/assemble.js';
import { candidateSet } from '../features/candidates.js';
import { actionNames } from '../bundle/create.js';
import type { Announcement, Revocation } from './protocol.js';
import { revocationBody } from './protocol.js';
import { verify as edVerify } from 'node:crypto';

export interface CompatOptions {
  trust: TrustStore;
  /** Streams this daemon consumes; a model needing another one is refused. Undefined: any. */
  streams?: ReadonlySet<string>;
  maxBundleBytes: number;
  /** Most candidates the loop will score per tick. Default 65536. */
  maxCandidates?: number;
}

/** Checks on the announcement alone (no bundle bytes yet). Throws EdgeError with the reason. */
export function checkAnnouncement(ann: Announcement, o: CompatOptions): void {
  const id = `${ann.model}@${ann.version}`;
  if (ann.size > o.maxBundleBytes) {
    throw new EdgeError('E_UPDATE_TOO_LARGE', `${id} is ${ann.size} bytes, over this device's limit of ${o.maxBundleBytes} (updates.maxBundleBytes); compress the model or raise the limit`, { details: { size: ann.size, limit: o.maxBundleBytes } });
  }
  verifySignature({ manifest: ann.manifest, signature: ann.signature }, o.trust);
  checkRuntime(ann.manifest);
  checkFeatures(ann.manifest);
  const cands = candidateSet(ann.manifest.actions);
  if (cands.count > (o.maxCandidates ?? 65536) || cands.count < 1) {
    throw new EdgeError('E_UPDATE_INCOMPATIBLE', `${id} has ${cands.count} candidate actions; this device scores at most ${o.maxCandidates ?? 65536} per tick`);
  }
  if (o.streams) {
    const plan = compileFeatures(ann.manifest.features, actionNames(ann.manifest));
    const missing = [...plan.streams.keys()].filter((s) => !o.streams!.has(s));
    if (missing.length > 0) {
      throw new EdgeError('E_UPDATE_INCOMPATIBLE', `${id} reads stream${missing.length > 1 ? 's' : ''} ${missing.map((s) => `"${s}"`).join(', ')}, which this device does not consume (it has ${[...o.streams].map((s) => `"${s}"`).join(', ') || 'none'}); configure the stream and restart, or publish a model for this sensor set`, { details: { missing } });
    }
  }
}

/** Checks on the downloaded bytes; returns the opened bundle. */
export function verifyDownloaded(bytes: Uint8Array, ann: Announcement, o: CompatOptions): Bundle {
  const id = `${ann.model}@${ann.version}`;
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== ann.sha256) {
    throw new EdgeError('E_UPDATE_SHA256', `${id}: the received bundle has sha256 ${got.slice(0, 12)}…, but the announcement says ${ann.sha256.slice(0, 12)}…; it was altered or corrupted in transit — it is discarded`, { details: { expected: ann.sha256, actual: got } });
  }
  const b = openBundleBytes(bytes, o.trust, id);
  if (canonicalJson(b.manifest) !== canonicalJson(ann.manifest)) {
    throw new EdgeError('E_UPDATE_MISMATCH', `${id}: the bundle's manifest (${modelId(b.manifest)}) is not the one announced; republish with \`edgereward fleet publish\``);
  }
  return b;
}

/** Check a revocation's signature against the trust store. */
export function verifyRevocation(r: Revocation, trust: TrustStore): void {
  const key = trust.keys.get(r.signature.key_id);
  if (!key) throw new EdgeError('E_BUNDLE_UNTRUSTED', `the rollback of ${r.model}@${r.version} is signed by key ${r.signature.key_id}, which is not trusted; it is ignored`);
  const sig = Buffer.from(r.signature.sig, 'base64');
  const ok = sig.length === 64 && edVerify(null, Buffer.from(canonicalJson(revocationBody(r)), 'utf8'), key, sig);
  if (!ok) throw new EdgeError('E_BUNDLE_SIGNATURE', `the rollback of ${r.model}@${r.version} carries a signature that does not match; it is ignored`);
}

/** The EdgeError code of anything thrown (E_INTERNAL for plain errors). */
export function codeOf(e: unknown): string {
  return isEdgeError(e) ? e.code : 'E_INTERNAL';
}
