/**
 * The binary frame codec: a length-prefixed frame with CRC-16 for microcontrollers that
 * would rather `memcpy` a struct of floats than print JSON. Pure functions; framing of the
 * byte stream (sync, resync on garbage, CRC check) is `parsers/FrameParser.ts`.
 *
 * ```
 * offset  size  field
 * 0       2     sync 0xAA 0x55
 * 2       2     len: uint16 LE, bytes of the body (9 + 4·k)
 * 4       1     stream id (uint8), mapped to a stream name and field list by configuration
 * 5       8     t: float64 LE, unix ms
 * 13      4·k   values: float32 LE, in the configured field order (arrays expanded)
 * 4+len   2     CRC-16/CCITT-FALSE over bytes 2 .. 4+len-1 (len and body), big-endian
 * ```
 * See docs/protocol.md.
 */
import { crc16 } from '../crc16.js';
import type { DecodeResult } from '../../messages/sensor.js';

export const FRAME_SYNC0 = 0xaa;
export const FRAME_SYNC1 = 0x55;
export const FRAME_HEADER = 4; // sync + len
export const FRAME_TRAILER = 2; // crc
export const FRAME_MIN_BODY = 9; // id + t
export const DEFAULT_MAX_BODY = 1024;

/** A field of a frame stream: a scalar name, or an array with a fixed count. */
export type FrameField = string | { name: string; count: number };

export interface FrameStream {
  stream: string;
  fields: readonly FrameField[];
}

/** stream id -> layout */
export type FrameSchema = ReadonlyMap<number, FrameStream>;

export function frameSchema(o: Record<string | number, FrameStream>): Map<number, FrameStream> {
  const m = new Map<number, FrameStream>();
  for (const [k, v] of Object.entries(o)) {
    const id = Number(k);
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new TypeError(`frame stream id "${k}" must be an integer 0..255`);
    m.set(id, v);
  }
  return m;
}

function valueCount(fields: readonly FrameField[]): number {
  let n = 0;
  for (const f of fields) n += typeof f === 'string' ? 1 : f.count;
  return n;
}

/** Build one frame (for tests, simulators and firmware authors checking their encoder). */
export function encodeFrame(id: number, t: number, values: ArrayLike<number>): Buffer {
  const bodyLen = FRAME_MIN_BODY + 4 * values.length;
  const b = Buffer.alloc(FRAME_HEADER + bodyLen + FRAME_TRAILER);
  b[0] = FRAME_SYNC0;
  b[1] = FRAME_SYNC1;
  b.writeUInt16LE(bodyLen, 2);
  b.writeUInt8(id, 4);
  b.writeDoubleLE(t, 5);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i]!, 13 + 4 * i);
  b.writeUInt16BE(crc16(b, 2, FRAME_HEADER + bodyLen), FRAME_HEADER + bodyLen);
  return b;
}

export type FrameDecode = { stream: string; known: boolean; result: DecodeResult };

/**
 * A frame body (CRC already checked) -> a message object; the caller validates it with
 * `validateSensor` (non-finite floats, future `t`, field specs).
 */
export function decodeFrameBody(body: Uint8Array, schema: FrameSchema): FrameDecode {
  const id = body[0]!;
  const layout = schema.get(id);
  if (!layout) return { stream: `#${id}`, known: false, result: { ok: false, reason: 'unknown_stream', detail: `frame stream id ${id} is not configured` } };
  const want = FRAME_MIN_BODY + 4 * valueCount(layout.fields);
  if (body.length !== want) {
    return { stream: layout.stream, known: true, result: { ok: false, reason: 'bad_length', detail: `frame for ${layout.stream} has ${body.length} body bytes, expected ${want}` } };
  }
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const msg: Record<string, number | number[]> = { t: dv.getFloat64(1, true) };
  let o = FRAME_MIN_BODY;
  for (const f of layout.fields) {
    if (typeof f === 'string') {
      msg[f] = dv.getFloat32(o, true);
      o += 4;
    } else {
      const a = new Array<number>(f.count);
      for (let i = 0; i < f.count; i++, o += 4) a[i] = dv.getFloat32(o, true);
      msg[f.name] = a;
    }
  }
  return { stream: layout.stream, known: true, result: { ok: true, msg: msg as { t: number } } };
}
