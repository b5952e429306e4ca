/**
 * Signatures over the manifest. The manifest lists the sha256 of every file in the bundle,
 * so signing the manifest signs the files. We sign a canonical form so that whitespace and
 * key order (which JSON tools change freely) never break a valid signature.
 */
import { createPrivateKey, sign, verify } from 'node:crypto';
import { EdgeError, describeError } from '../../errors.js';
import { modelId, type Manifest, type Signature } from './manifest.js';
import { keyIdOf, type TrustStore } from './keys.js';
import type { Bundle } from './format.js';

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, like RFC 8785), no whitespace,
 * strings and numbers exactly as `JSON.stringify` writes them. Keys whose value is
 * `undefined` are left out and `undefined` in arrays becomes `null`, as `JSON.stringify`
 * does, so `canonicalJson(x) === canonicalJson(JSON.parse(JSON.stringify(x)))`.
 * Non-finite numbers and BigInts are refused (JSON cannot carry them faithfully).
 */
export function canonicalJson(value: unknown): string {
  return canon(value, '', 0);
}

/** Deeper nesting than any honest manifest has; refusing it keeps a hostile header from overflowing the stack. */
export const MAX_JSON_DEPTH = 64;

function canon(v: unknown, path: string, depth: number): string {
  if (depth > MAX_JSON_DEPTH) throw new EdgeError('E_BUNDLE_MANIFEST', `the manifest nests deeper than ${MAX_JSON_DEPTH} levels at ${path.slice(0, 80)}…; flatten it`);
  if (v === null) return 'null';
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new EdgeError('E_BUNDLE_MANIFEST', `the manifest holds ${String(v)} at ${path || '(root)'}; JSON has no such number — use a finite value`);
      return JSON.stringify(v);
    case 'bigint':
      throw new EdgeError('E_BUNDLE_MANIFEST', `the manifest holds a BigInt at ${path || '(root)'}; use a number or a string`);
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        return `[${v.map((x, i) => (x === undefined || typeof x === 'function' || typeof x === 'symbol' ? 'null' : canon(x, `${path}/${i}`, depth + 1))).join(',')}]`;
      }
      const o = v as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of Object.keys(o).sort()) {
        const x = o[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        parts.push(`${JSON.stringify(k)}:${canon(x, `${path}/${k}`, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}

export function signManifest(m: Manifest, privateKeyPem: string): Signature {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (e) {
    throw new EdgeError('E_KEY_FORMAT', `the signing key is not a PEM private key (${describeError(e)}); use the .key file written by \`edgereward keys generate\``, { cause: e });
  }
  const sig = sign(null, Buffer.from(canonicalJson(m), 'utf8'), key);
  return { alg: 'ed25519', key_id: keyIdOf(key), sig: sig.toString('base64') };
}

/**
 * Check that the bundle's manifest was signed by a key in `trust`.
 * Throws `E_BUNDLE_UNTRUSTED` (signer unknown) or `E_BUNDLE_SIGNATURE` (signature wrong).
 */
export function verifySignature(b: Pick<Bundle, 'manifest' | 'signature'>, trust: TrustStore): void {
  const id = modelId(b.manifest);
  const s = b.signature;
  if (s.alg !== 'ed25519') {
    throw new EdgeError('E_BUNDLE_SIGNATURE', `${id} is signed with "${String(s.alg)}", but only ed25519 signatures are accepted; re-sign it with \`edgereward bundle create\``);
  }
  const key = trust.keys.get(s.key_id);
  if (!key) {
    const where = trust.source ?? 'the trust store';
    const empty = trust.keys.size === 0 ? ' (it holds no keys)' : '';
    throw new EdgeError('E_BUNDLE_UNTRUSTED', `${id} is signed by key ${s.key_id}, which is not in the trust store ${where}${empty}; add its public key there if you trust it`, { details: { keyId: s.key_id } });
  }
  const sig = Buffer.from(s.sig, 'base64');
  const ok = sig.length === 64 && verify(null, Buffer.from(canonicalJson(b.manifest), 'utf8'), key, sig);
  if (!ok) {
    throw new EdgeError('E_BUNDLE_SIGNATURE', `${id} claims to be signed by trusted key ${s.key_id}, but the signature does not match its manifest; the bundle was altered after signing — do not load it, fetch it again from the publisher`, { details: { keyId: s.key_id } });
  }
}
