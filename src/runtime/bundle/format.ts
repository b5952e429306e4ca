/**
 * The bundle file: one file a robot downloads, verifies and loads.
 *
 * ```
 * offset 0   "ERWB"                      magic
 *        4   u16 LE format version (1)
 *        6   u16 LE reserved (0)
 *        8   u32 LE header length H      (1 ≤ H ≤ 1 MiB)
 *       12   H bytes UTF-8 JSON          {"manifest": {...}, "signature": {...}}
 *   12 + H   the files' bytes, concatenated in manifest order (sizes from the manifest)
 * ```
 *
 * Every size is checked against the real byte count before anything is sliced, so a
 * hostile file cannot make us allocate more than it is long, and a robot can tell a cut
 * download (`E_BUNDLE_TRUNCATED`: fetch again) from a tampered one (`E_BUNDLE_SHA256`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EdgeError, describeError } from '../../errors.js';
import { compile, explain } from '../../validate.js';
import { canonicalJson } from './sign.js';
import { modelId, parseManifest, type Manifest, type Signature } from './manifest.js';

export const BUNDLE_MAGIC = 'ERWB';
export const BUNDLE_FORMAT_VERSION = 1;
export const PREAMBLE_BYTES = 12;
/** A manifest is a few kB; 1 MiB leaves room for long provenance and refuses absurd headers. */
export const MAX_HEADER_BYTES = 1 << 20;

export interface Bundle {
  manifest: Manifest;
  signature: Signature;
  /** File bytes by name; views into the bundle's bytes (no copies). */
  files: Map<string, Uint8Array>;
  /** Total size of the bundle file in bytes. */
  size: number;
}

const MAGIC = Buffer.from(BUNDLE_MAGIC, 'latin1');

const validateSignature = compile<Signature>({
  type: 'object',
  required: ['alg', 'key_id', 'sig'],
  additionalProperties: false,
  properties: {
    alg: { type: 'string' },
    key_id: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    sig: { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$' },
  },
});

export function isBundleBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2] && bytes[3] === MAGIC[3];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodeBundle(manifest: Manifest, signature: Signature, files: Map<string, Uint8Array>): Uint8Array {
  const header = Buffer.from(JSON.stringify({ manifest, signature }), 'utf8');
  if (header.length > MAX_HEADER_BYTES) {
    throw new EdgeError('E_BUNDLE_MANIFEST', `the manifest of ${modelId(manifest)} takes ${header.length} bytes; the limit is ${MAX_HEADER_BYTES} — move bulky provenance into an extra file`);
  }
  const body: Uint8Array[] = [];
  let total = PREAMBLE_BYTES + header.length;
  for (const f of manifest.files) {
    const data = files.get(f.name);
    if (!data) throw new EdgeError('E_BUNDLE_MANIFEST', `the manifest lists file "${f.name}" but no bytes were given for it`);
    if (data.length !== f.size) throw new EdgeError('E_BUNDLE_MANIFEST', `file "${f.name}" has ${data.length} bytes but the manifest says ${f.size}`);
    body.push(data);
    total += data.length;
  }
  const out = Buffer.allocUnsafe(total);
  MAGIC.copy(out, 0);
  out.writeUInt16LE(BUNDLE_FORMAT_VERSION, 4);
  out.writeUInt16LE(0, 6);
  out.writeUInt32LE(header.length, 8);
  header.copy(out, PREAMBLE_BYTES);
  let off = PREAMBLE_BYTES + header.length;
  for (const d of body) {
    out.set(d, off);
    off += d.length;
  }
  return out;
}

function looksLikeOnnx(bytes: Uint8Array): boolean {
  // A ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
  return bytes.length > 2 && bytes[0] === 0x08;
}

/**
 * Parse and check a bundle: structure, sizes, the manifest schema and the sha256 of every
 * file. It does NOT check the signature (see `verifySignature`, or `openBundle` for both).
 * @param what how to name the bundle in errors (a path or a URL)
 */
export function decodeBundle(bytes: Uint8Array, what = 'bundle'): Bundle {
  if (!isBundleBytes(bytes)) {
    const hint = looksLikeOnnx(bytes) ? ' (it looks like a plain ONNX model: package it with `edgereward bundle create`)' : '';
    throw new EdgeError('E_BUNDLE_FORMAT', `${what} is not an edgereward bundle: it does not start with "${BUNDLE_MAGIC}"${hint}`);
  }
  if (bytes.length < PREAMBLE_BYTES) {
    throw new EdgeError('E_BUNDLE_TRUNCATED', `${what} is only ${bytes.length} bytes long, shorter than a bundle's fixed preamble; the download was cut short — fetch it again`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== BUNDLE_FORMAT_VERSION) {
    throw new EdgeError('E_BUNDLE_FORMAT', `${what} uses bundle format ${version}; this runtime reads format ${BUNDLE_FORMAT_VERSION} — upgrade edgereward or rebuild the bundle with this version`);
  }
  const headerLen = view.getUint32(8, true);
  if (headerLen === 0 || headerLen > MAX_HEADER_BYTES) {
    throw new EdgeError('E_BUNDLE_FORMAT', `${what} declares a ${headerLen}-byte header; a valid header is 1 byte to ${MAX_HEADER_BYTES} bytes, so the file is corrupt or hostile`);
  }
  const bodyStart = PREAMBLE_BYTES + headerLen;
  if (bytes.length < bodyStart) {
    throw new EdgeError('E_BUNDLE_TRUNCATED', `${what} ends inside its header (${bytes.length} of at least ${bodyStart} bytes); the download was cut short — fetch it again`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + PREAMBLE_BYTES, headerLen).toString('utf8'));
  } catch (e) {
    throw new EdgeError('E_BUNDLE_FORMAT', `${what} has a header that is not JSON (${describeError(e)}); the file is corrupt — fetch it again`, { cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new EdgeError('E_BUNDLE_FORMAT', `${what} has a header that is not an object with "manifest" and "signature"; the file is corrupt`);
  }
  const h = header as Record<string, unknown>;
  const manifest = parseManifest(h['manifest'], `the manifest of ${what}`);
  canonicalJson(manifest); // refuses what cannot be signed (hostile nesting) before anyone walks it
  const id = modelId(manifest);
  if (!validateSignature(h['signature'])) {
    throw new EdgeError('E_BUNDLE_SIGNATURE', `${id} (${what}) carries a malformed signature block: ${explain(validateSignature.errors)}; re-sign it with \`edgereward bundle create\``);
  }
  const signature = h['signature'];
  checkFileList(manifest, what);

  let expected = bodyStart;
  for (const f of manifest.files) expected += f.size;
  if (bytes.length < expected) {
    throw new EdgeError('E_BUNDLE_TRUNCATED', `${id} is ${expected - bytes.length} bytes shorter than its manifest says; the download was cut short — fetch it again`, { details: { expected, actual: bytes.length } });
  }
  if (bytes.length > expected) {
    throw new EdgeError('E_BUNDLE_FORMAT', `${id} has ${bytes.length - expected} bytes of trailing garbage after its last file; the file was corrupted or appended to — fetch it again`, { details: { expected, actual: bytes.length } });
  }
  const files = new Map<string, Uint8Array>();
  let off = bodyStart;
  for (const f of manifest.files) {
    const data = bytes.subarray(off, off + f.size);
    off += f.size;
    const got = sha256Hex(data);
    if (got !== f.sha256) {
      throw new EdgeError('E_BUNDLE_SHA256', `${id}: file "${f.name}" has sha256 ${got.slice(0, 12)}…, but the manifest says ${f.sha256.slice(0, 12)}…; its bytes were altered or corrupted — do not load it, fetch it again`, { details: { file: f.name, expected: f.sha256, actual: got } });
    }
    files.set(f.name, data);
  }
  return { manifest, signature, files, size: bytes.length };
}

/** File names unique, exactly one model: what the schema alone cannot say. */
export function checkFileList(m: Manifest, what = 'the manifest'): void {
  const seen = new Set<string>();
  for (const f of m.files) {
    if (seen.has(f.name)) throw new EdgeError('E_BUNDLE_MANIFEST', `${what} lists file "${f.name}" twice; file names must be unique`);
    seen.add(f.name);
  }
  const models = m.files.filter((f) => f.role === 'model');
  if (models.length !== 1) {
    throw new EdgeError('E_BUNDLE_MANIFEST', `${what} has ${models.length} files with role "model"; exactly one is needed (the ONNX graph the engine loads)`);
  }
}

export function readBundle(path: string): Bundle {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_BUNDLE_READ', `cannot read bundle ${path} (${describeError(e)}); check the path and its permissions`, { cause: e });
  }
  return decodeBundle(bytes, path);
}

/** The ONNX bytes of the bundle (the file with role "model"). */
export function modelBytes(b: Bundle): Uint8Array {
  const f = b.manifest.files.find((x) => x.role === 'model');
  const data = f && b.files.get(f.name);
  if (!data) throw new EdgeError('E_BUNDLE_MANIFEST', `${modelId(b.manifest)} has no file with role "model"`);
  return data;
}
