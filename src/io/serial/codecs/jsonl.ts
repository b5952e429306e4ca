/**
 * JSON lines, the default serial codec: one object per line, `s` names the stream:
 * `{"s":"imu","t":1712345678901,"ax":0.1,…}`. Actions go back the same way.
 */
import { decodeSensor, type DecodeOptions, type DecodeResult } from '../../messages/sensor.js';

export type LineDecode = { stream: string; result: DecodeResult };

const decoder = new TextDecoder();
const STREAM_RE = /"s"\s*:\s*"([^"\\]{1,64})"/;

/**
 * Decode one line (without the newline). The stream name is read before full validation so
 * a bad message can still be counted against its stream; "?" when the line has none.
 */
export function decodeJsonLine(line: Uint8Array, opts: DecodeOptions = {}): LineDecode {
  const text = decoder.decode(line);
  const m = STREAM_RE.exec(text);
  const stream = m ? m[1]! : '?';
  if (!m) {
    // Say why precisely: not JSON at all, or JSON without a stream name.
    const r = decodeSensor('?', text, { ...opts, streams: undefined, spec: undefined });
    return { stream, result: r.ok ? { ok: false, reason: 'missing_field', detail: 'field "s" (stream name) is missing' } : r };
  }
  return { stream, result: decodeSensor(stream, text, { ...opts, ignore: 's' }) };
}

/** One JSON line for `value` (newline included). */
export function encodeJsonLine(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) + '\n');
}
