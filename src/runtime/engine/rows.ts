/**
 * Rows of model inputs from JSON lines (the `score` command): one object per line keyed by
 * input name, each value a flat or nested array of numbers for one candidate. Untrusted
 * input: every problem is an `E_SCORE_INPUT` naming the line and what is wrong with it.
 */
import { EdgeError, describeError } from '../../errors.js';
import type { ModelLayout } from './layout.js';

export interface Rows {
  count: number;
  /** Per model input (layout order): `count × rowSize` for batched inputs, one tensor otherwise. */
  values: Float32Array[];
}

/** Flatten a number or nested arrays of numbers into `out`; false on anything else. */
function flatten(v: unknown, out: number[]): boolean {
  if (typeof v === 'number') {
    out.push(v);
    return true;
  }
  if (!Array.isArray(v)) return false;
  for (const x of v) if (!flatten(x, out)) return false;
  return true;
}

export function parseRows(text: string, layout: ModelLayout, what = 'input'): Rows {
  const lines = text.split('\n');
  const parsed: number[][][] = [];
  const fail = (line: number, msg: string): never => {
    throw new EdgeError('E_SCORE_INPUT', `${what} line ${line}: ${msg}`, { details: { line } });
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      fail(line, `not valid JSON (${describeError(e)})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      fail(line, `expected a JSON object keyed by input name (${layout.inputs.map((l) => l.name).join(', ')})`);
    }
    const rec = obj as Record<string, unknown>;
    const row = layout.inputs.map((l) => {
      if (!(l.name in rec)) fail(line, `missing input "${l.name}" (the model takes ${layout.inputs.map((x) => `"${x.name}"`).join(', ')})`);
      const vals: number[] = [];
      if (!flatten(rec[l.name], vals)) fail(line, `input "${l.name}" must be a number or a (nested) array of numbers`);
      if (vals.length !== l.rowSize) {
        fail(line, `input "${l.name}" has ${vals.length} values; the model takes ${l.rowSize} ${l.batched ? 'per row' : 'in all'} (shape [${l.rowShape.join(', ')}]${l.batched ? ' after the batch axis' : ''})`);
      }
      const bad = vals.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) fail(line, `input "${l.name}" value ${bad} is not a finite number`);
      return vals;
    });
    const first = parsed[0];
    if (first) {
      layout.inputs.forEach((l, k) => {
        if (!l.batched && row[k]!.some((x, j) => x !== first[k]![j])) {
          fail(line, `input "${l.name}" has no batch axis in this model, so every row must give it the same values as the first row`);
        }
      });
    }
    parsed.push(row);
  }
  const count = parsed.length;
  if (count === 0) throw new EdgeError('E_SCORE_INPUT', `${what} holds no rows; give one JSON object per line`);
  const values = layout.inputs.map((l, k) => {
    if (!l.batched) return Float32Array.from(parsed[0]![k]!);
    const buf = new Float32Array(count * l.rowSize);
    parsed.forEach((r, i) => buf.set(r[k]!, i * l.rowSize));
    return buf;
  });
  return { count, values };
}
