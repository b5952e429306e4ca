import { open, readFile, rename, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { EdgeError } from '../errors.js';
import type { ActionGrid } from './actions.js';
import type { FeatureColumn } from './features.js';

/**
 * The distillation dataset (format in docs/dataset.md): per visited state, the observation's
 * feature vector and the true reward of every candidate of the action grid.
 */
export interface DatasetMeta {
  grid: ActionGrid;
  /** Full feature map: the F observation columns, then the action columns. */
  featureMap: FeatureColumn[];
  seed: number;
  episodes: number;
  [extra: string]: unknown;
}

export interface Dataset {
  meta: DatasetMeta;
  states: number;
  /** Observation features per state (F). */
  featureDim: number;
  /** Candidates per state (K). */
  candidateCount: number;
  /** Values per candidate action (A). */
  actionDim: number;
  /** K x A, the candidate actions in reward order. */
  candidates: Float32Array;
  /** N x F */
  features: Float32Array;
  /** N x K */
  rewards: Float32Array;
  /** N: the episode each state came from, for splits that keep episodes whole. */
  episode: Uint32Array;
}

export const DATASET_MAGIC = 'ERDS';
export const DATASET_VERSION = 1;
const FIXED = 28;

function fail(msg: string): never {
  throw new EdgeError('E_DATASET_FORMAT', msg);
}

/** The header (fixed fields + padded JSON); the arrays follow it unchanged. */
export function encodeDatasetHeader(ds: Dataset): Buffer {
  const json = Buffer.from(JSON.stringify(ds.meta), 'utf8');
  const j = Math.ceil(json.length / 4) * 4;
  const h = Buffer.alloc(FIXED + j, 0x20);
  h.write(DATASET_MAGIC, 0, 'latin1');
  h.writeUInt32LE(DATASET_VERSION, 4);
  h.writeUInt32LE(ds.states, 8);
  h.writeUInt32LE(ds.featureDim, 12);
  h.writeUInt32LE(ds.candidateCount, 16);
  h.writeUInt32LE(ds.actionDim, 20);
  h.writeUInt32LE(j, 24);
  json.copy(h, FIXED);
  return h;
}

function checkShapes(ds: Dataset): void {
  const { states: n, featureDim: f, candidateCount: k, actionDim: a } = ds;
  if (ds.candidates.length !== k * a || ds.features.length !== n * f || ds.rewards.length !== n * k || ds.episode.length !== n) {
    fail(`dataset arrays do not match its counts (states ${n}, features ${f}, candidates ${k}, action dims ${a})`);
  }
}

function bytes(a: Float32Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The whole file in memory (small datasets and tests; writeDataset streams the arrays instead). */
export function encodeDataset(ds: Dataset): Buffer {
  checkShapes(ds);
  return Buffer.concat([encodeDatasetHeader(ds), bytes(ds.candidates), bytes(ds.features), bytes(ds.rewards), bytes(ds.episode)]);
}

// Typed arrays are host-endian and the format is little-endian; every supported target (x64, arm64)
// is little-endian, so refuse rather than silently byte-swap on anything else.
function requireLE(): void {
  if (endianness() !== 'LE') throw new EdgeError('E_DATASET_ENDIAN', 'datasets are little-endian and this host is big-endian');
}

function view<T extends Float32Array | Uint32Array>(
  ctor: { new (b: ArrayBuffer, o: number, n: number): T; new (n: number): T },
  buf: Buffer,
  off: number,
  n: number,
): T {
  const abs = buf.byteOffset + off;
  // Zero-copy when aligned (readFile gives an unpooled buffer at offset 0, and the header is padded).
  if (abs % 4 === 0) return new ctor(buf.buffer as ArrayBuffer, abs, n);
  const out = new ctor(n);
  new Uint8Array(out.buffer).set(buf.subarray(off, off + n * 4));
  return out;
}

export function decodeDataset(buf: Buffer, name = 'dataset'): Dataset {
  requireLE();
  if (buf.length < FIXED || buf.toString('latin1', 0, 4) !== DATASET_MAGIC) {
    fail(`${name} is not an edgereward dataset (no "${DATASET_MAGIC}" magic); generate one with \`edgereward sim dataset\``);
  }
  const version = buf.readUInt32LE(4);
  if (version !== DATASET_VERSION) fail(`${name} has format version ${version}; this build reads version ${DATASET_VERSION}, regenerate it`);
  const n = buf.readUInt32LE(8);
  const f = buf.readUInt32LE(12);
  const k = buf.readUInt32LE(16);
  const a = buf.readUInt32LE(20);
  const j = buf.readUInt32LE(24);
  const data = FIXED + j;
  const want = data + 4 * (k * a + n * f + n * k + n);
  if (j % 4 !== 0 || buf.length !== want) {
    fail(`${name} is ${buf.length} bytes but its header promises ${want}; the file is truncated or corrupt, regenerate it`);
  }
  let meta: DatasetMeta;
  try {
    meta = JSON.parse(buf.toString('utf8', FIXED, data)) as DatasetMeta;
  } catch (e) {
    fail(`${name} has an unreadable JSON header (${(e as Error).message}); regenerate it`);
  }
  if (!meta || typeof meta !== 'object' || meta.grid?.type !== 'grid' || !Array.isArray(meta.featureMap)) {
    fail(`${name}'s header lacks the action grid or the feature map; regenerate it`);
  }
  let o = data;
  const candidates = view(Float32Array, buf, o, k * a);
  o += 4 * k * a;
  const features = view(Float32Array, buf, o, n * f);
  o += 4 * n * f;
  const rewards = view(Float32Array, buf, o, n * k);
  o += 4 * n * k;
  const episode = view(Uint32Array, buf, o, n);
  return { meta, states: n, featureDim: f, candidateCount: k, actionDim: a, candidates, features, rewards, episode };
}

export async function readDataset(path: string): Promise<Dataset> {
  return decodeDataset(await readFile(path), path);
}

/**
 * Writes atomically: a temp file beside the target, fsynced, renamed over it, then the directory
 * fsynced, so a power cut leaves the old file or the new one, never half of one.
 */
export async function writeDataset(path: string, ds: Dataset): Promise<void> {
  requireLE();
  checkShapes(ds);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    for (const b of [encodeDatasetHeader(ds), bytes(ds.candidates), bytes(ds.features), bytes(ds.rewards), bytes(ds.episode)]) {
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * The K x (F + A) model input of state i under a feature map whose action columns are plain scales
 * of the candidate's values (as DEFAULT_FEATURE_MAP's are).
 */
export function stateInputs(ds: Dataset, i: number, out: Float32Array = new Float32Array(ds.candidateCount * ds.meta.featureMap.length)): Float32Array {
  const f = ds.featureDim;
  const d = ds.meta.featureMap.length;
  const acts = ds.meta.featureMap.slice(f);
  const names = ds.meta.grid.dims.map((x) => x.name);
  const obs = ds.features.subarray(i * f, (i + 1) * f);
  for (let k = 0; k < ds.candidateCount; k++) {
    out.set(obs, k * d);
    acts.forEach((c, j) => {
      if (!('action' in c)) fail(`feature column ${f + j} is not an action column; observation columns come first`);
      const a = names.indexOf(c.action);
      let y = ds.candidates[k * ds.actionDim + a]! * c.scale + (c.offset ?? 0);
      if (c.clip) y = Math.min(c.clip[1], Math.max(c.clip[0], y));
      out[k * d + f + j] = y;
    });
  }
  return out;
}
