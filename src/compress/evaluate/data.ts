/**
 * Evaluation / calibration data: named float inputs whose first dimension is the row.
 *
 * Accepted files (never synthetic samples — fidelity on made-up inputs says nothing):
 * - JSONL: one object per line, `{ "<input>": number | number[] | number[][], ... }` (one row each),
 * - a `.ref.json` fixture: `{ inputs: { <name>: { dims, data } }, outputs?: {...} }`,
 * - a JSON file holding `{ inputs: { <name>: { dims, data } } }` in general,
 * - the simulator's binary dataset (`edgereward sim dataset`): each state's candidates as rows.
 */
import { readFileSync } from 'node:fs';
import { EdgeError } from '../../errors.js';
import { DATASET_MAGIC as SIM_DATASET_MAGIC, decodeDataset as decodeSimDataset, stateInputs, type Dataset as SimDataset } from '../../sim/dataset.js';

export interface InputArray {
  /** [rows, ...perRow] */
  dims: number[];
  data: Float32Array;
}

export interface Dataset {
  rows: number;
  inputs: Record<string, InputArray>;
  /** Reference outputs that came with the data (a .ref.json), if any. */
  outputs?: Record<string, InputArray>;
  source: string;
}

function flatten(v: unknown, out: number[], what: string): number[] {
  if (typeof v === 'number') {
    out.push(v);
    return [];
  }
  if (!Array.isArray(v)) throw new EdgeError('E_COMPRESS_DATA', `${what} holds ${typeof v}; expected numbers or nested arrays of numbers`);
  let inner: number[] = [];
  v.forEach((x, i) => {
    const d = flatten(x, out, what);
    if (i === 0) inner = d;
  });
  return [v.length, ...inner];
}

function fromTensorMap(m: unknown, what: string): Record<string, InputArray> {
  if (!m || typeof m !== 'object') throw new EdgeError('E_COMPRESS_DATA', `${what}: expected an object of {dims, data} tensors`);
  const out: Record<string, InputArray> = {};
  for (const [name, t] of Object.entries(m as Record<string, unknown>)) {
    const tt = t as { dims?: unknown; data?: unknown };
    if (!Array.isArray(tt.dims) || !Array.isArray(tt.data)) throw new EdgeError('E_COMPRESS_DATA', `${what}: "${name}" needs "dims" and "data" arrays`);
    const dims = tt.dims.map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== tt.data.length) throw new EdgeError('E_COMPRESS_DATA', `${what}: "${name}" declares ${n} values but holds ${tt.data.length}`);
    out[name] = { dims, data: Float32Array.from(tt.data as number[]) };
  }
  return out;
}

function rowsOf(inputs: Record<string, InputArray>, what: string): number {
  const counts = new Set(Object.values(inputs).map((a) => a.dims[0] ?? 1));
  if (counts.size !== 1) throw new EdgeError('E_COMPRESS_DATA', `${what}: inputs have different row counts (${[...counts].join(', ')})`);
  return [...counts][0]!;
}

export function parseDataset(text: string, source: string): Dataset {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    // One JSON document, or JSONL whose first line is an object: try whole-document first.
    try {
      const doc = JSON.parse(text) as { inputs?: unknown; outputs?: unknown };
      if (doc && typeof doc === 'object' && 'inputs' in doc) {
        const inputs = fromTensorMap(doc.inputs, source);
        const ds: Dataset = { rows: rowsOf(inputs, source), inputs, source };
        if (doc.outputs) ds.outputs = fromTensorMap(doc.outputs, source);
        return ds;
      }
    } catch {
      // not a single document: JSONL below
    }
  }
  const lines = text.split('\n').filter((l) => l.trim().length);
  if (!lines.length) throw new EdgeError('E_COMPRESS_DATA', `${source} holds no rows`);
  const cols = new Map<string, { data: number[]; inner: number[] }>();
  lines.forEach((line, i) => {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new EdgeError('E_COMPRESS_DATA', `${source} line ${i + 1} is not JSON; expected one object per line`, { cause: e });
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new EdgeError('E_COMPRESS_DATA', `${source} line ${i + 1} is not an object of named inputs`);
    for (const [name, v] of Object.entries(row as Record<string, unknown>)) {
      let c = cols.get(name);
      const data: number[] = [];
      const inner = flatten(v, data, `${source} line ${i + 1} "${name}"`);
      if (!c) {
        if (i !== 0) throw new EdgeError('E_COMPRESS_DATA', `${source} line ${i + 1} has input "${name}" missing from earlier lines`);
        c = { data: [], inner };
        cols.set(name, c);
      } else if (inner.join('x') !== c.inner.join('x')) {
        throw new EdgeError('E_COMPRESS_DATA', `${source} line ${i + 1} "${name}" has shape [${inner.join(',')}], earlier lines [${c.inner.join(',')}]`);
      }
      c.data.push(...data);
    }
  });
  const inputs: Record<string, InputArray> = {};
  for (const [name, c] of cols) inputs[name] = { dims: [lines.length, ...c.inner], data: Float32Array.from(c.data) };
  return { rows: lines.length, inputs, source };
}

export function readDataset(path: string): Dataset {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_COMPRESS_DATA', `cannot read data file ${path}; check the path`, { cause: e });
  }
  if (bytes.toString('latin1', 0, 4) === SIM_DATASET_MAGIC) return simDatasetRows(decodeSimDataset(bytes, path), path);
  return parseDataset(bytes.toString('utf8'), path);
}

/**
 * The simulator's dataset (`edgereward sim dataset`, docs/dataset.md) as model rows: every state
 * expands into its K candidate rows, in state order, so groups of K are one state's candidates.
 * The rows feed the input `x`, the name every model of the reference task uses.
 */
function simDatasetRows(ds: SimDataset, source: string, maxStates = 2000): Dataset {
  const n = Math.min(ds.states, maxStates);
  const k = ds.candidateCount;
  const d = ds.meta.featureMap.length;
  const data = new Float32Array(n * k * d);
  for (let i = 0; i < n; i++) stateInputs(ds, i, data.subarray(i * k * d, (i + 1) * k * d));
  return { rows: n * k, inputs: { x: { dims: [n * k, d], data } }, source };
}

/** Rows [from, to) of every input. */
export function sliceRows(ds: Dataset, from: number, to: number): Dataset {
  const inputs: Record<string, InputArray> = {};
  for (const [name, a] of Object.entries(ds.inputs)) {
    const per = a.data.length / (a.dims[0] ?? 1);
    inputs[name] = { dims: [to - from, ...a.dims.slice(1)], data: a.data.slice(from * per, to * per) };
  }
  return { rows: to - from, inputs, source: `${ds.source}[${from}:${to}]` };
}

/** Split into (calibration, held-out) by row: the first `share` of rows calibrate. */
export function splitRows(ds: Dataset, share = 0.5): { calib: Dataset; heldOut: Dataset } {
  const cut = Math.max(1, Math.min(ds.rows - 1, Math.round(ds.rows * share)));
  return { calib: sliceRows(ds, 0, cut), heldOut: sliceRows(ds, cut, ds.rows) };
}
