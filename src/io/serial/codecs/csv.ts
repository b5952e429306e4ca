/**
 * CSV lines: numbers separated by commas, in configured columns. The stream is named by a
 * column (default: the first) or fixed for the whole port. A header line equal to the column
 * names is skipped. Example, columns `s,t,ax,ay,az`: `imu,1712345678901,0.1,0.0,9.8`.
 */
import { validateSensor, type DecodeOptions, type DecodeResult } from '../../messages/sensor.js';

export interface CsvOptions {
  /** column names, in order; must include `t` */
  columns: readonly string[];
  /** the column naming the stream (default: the first column) — ignored when `stream` is set */
  streamColumn?: string;
  /** every line belongs to this stream (no stream column) */
  stream?: string;
  /** separator (default ",") */
  separator?: string;
}

export type CsvDecode = { stream: string; result: DecodeResult } | { header: true };

const decoder = new TextDecoder();

export function checkCsvOptions(o: CsvOptions): void {
  if (!Array.isArray(o.columns) || o.columns.length < 2) throw new TypeError('"csv.columns" must name at least two columns');
  if (!o.columns.includes('t')) throw new TypeError('"csv.columns" must include "t" (unix ms)');
  if (o.stream === undefined && o.streamColumn !== undefined && !o.columns.includes(o.streamColumn)) throw new TypeError(`"csv.streamColumn" "${o.streamColumn}" is not one of the columns`);
}

export function decodeCsvLine(line: Uint8Array, o: CsvOptions, opts: DecodeOptions = {}): CsvDecode {
  const cells = decoder.decode(line).split(o.separator ?? ',');
  const cols = o.columns;
  const sIdx = o.stream !== undefined ? -1 : cols.indexOf(o.streamColumn ?? cols[0]!);
  let stream = o.stream ?? (cells[sIdx]?.trim() || '?');
  if (cells.length === cols.length && cells.every((c, i) => c.trim() === cols[i])) return { header: true };
  if (stream.length > 64) stream = stream.slice(0, 64);
  if (cells.length !== cols.length) return { stream, result: { ok: false, reason: 'bad_length', detail: `${cells.length} columns, expected ${cols.length}` } };
  const msg: Record<string, number> = {};
  for (let i = 0; i < cols.length; i++) {
    if (i === sIdx) continue;
    const cell = cells[i]!.trim();
    const x = cell === '' ? NaN : Number(cell);
    if (Number.isNaN(x) && !/^[+-]?nan$/i.test(cell)) return { stream, result: { ok: false, reason: 'bad_type', detail: `column "${cols[i]}" is not a number` } };
    msg[cols[i]!] = x;
  }
  return { stream, result: validateSensor(stream, msg, opts) };
}
