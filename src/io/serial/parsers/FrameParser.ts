/**
 * Frames the binary protocol of `codecs/frame.ts` out of a byte stream, resynchronising on
 * garbage: bytes before a sync pattern are skipped, a header with an impossible length or a
 * frame with a bad CRC costs one byte (we search for the next sync from the byte after the
 * false one, since the length itself may be the corrupted part). Emits each valid frame's
 * body (stream id + t + values) as a Buffer, in object mode.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc16 } from '../crc16.js';
import { DEFAULT_MAX_BODY, FRAME_HEADER, FRAME_MIN_BODY, FRAME_SYNC0, FRAME_SYNC1, FRAME_TRAILER } from '../codecs/frame.js';

export type FrameDropReason = 'garbage' | 'bad_length' | 'bad_crc';

export interface FrameParserOptions {
  /** largest body accepted, bytes (default 1024) */
  maxBody?: number;
  onDrop?: (reason: FrameDropReason, bytes: number) => void;
}

export class FrameParser extends Transform {
  private readonly maxBody: number;
  private readonly onDrop: NonNullable<FrameParserOptions['onDrop']>;
  private buf: Buffer = Buffer.alloc(0);

  constructor(o: FrameParserOptions = {}) {
    super({ readableObjectMode: true });
    this.maxBody = o.maxBody ?? DEFAULT_MAX_BODY;
    if (!(this.maxBody >= FRAME_MIN_BODY && this.maxBody <= 0xffff)) throw new TypeError(`"maxBody" must be between ${FRAME_MIN_BODY} and 65535`);
    this.onDrop = o.onDrop ?? (() => {});
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    this.scan();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.reset();
    cb();
  }

  /** Drop whatever partial frame is held (after an unplug). */
  reset(): void {
    if (this.buf.length > 0) this.onDrop('garbage', this.buf.length);
    this.buf = Buffer.alloc(0);
  }

  private scan(): void {
    const b = this.buf;
    let i = 0;
    let garbage = 0;
    while (i < b.length) {
      if (b[i] !== FRAME_SYNC0 || (i + 1 < b.length && b[i + 1] !== FRAME_SYNC1)) {
        i++;
        garbage++;
        continue;
      }
      if (b.length - i < FRAME_HEADER) break; // need the length
      const len = b.readUInt16LE(i + 2);
      if (len < FRAME_MIN_BODY || len > this.maxBody) {
        this.onDrop('bad_length', 1);
        i++;
        continue;
      }
      const total = FRAME_HEADER + len + FRAME_TRAILER;
      if (b.length - i < total) break; // wait for the rest
      const want = b.readUInt16BE(i + FRAME_HEADER + len);
      if (crc16(b, i + 2, i + FRAME_HEADER + len) !== want) {
        this.onDrop('bad_crc', 1);
        i++;
        continue;
      }
      if (garbage > 0) {
        this.onDrop('garbage', garbage);
        garbage = 0;
      }
      this.push(Buffer.from(b.subarray(i + FRAME_HEADER, i + FRAME_HEADER + len)));
      i += total;
    }
    if (garbage > 0) this.onDrop('garbage', garbage);
    this.buf = i >= b.length ? Buffer.alloc(0) : b.subarray(i);
  }
}
