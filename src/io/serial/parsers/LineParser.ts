/**
 * Splits a byte stream into lines (LF, optional CR before it), like serialport's
 * ReadlineParser, but bounded: a line longer than `maxLineBytes` is discarded up to its
 * newline and reported, so a sender without newlines cannot grow our memory.
 * Emits each line as a Buffer (object mode, without the terminator).
 */
import { Transform, type TransformCallback } from 'node:stream';

export interface LineParserOptions {
  /** longest accepted line in bytes (default 4096) */
  maxLineBytes?: number;
  /** called for each discarded run of bytes: `overlong` lines, or a `partial` line left at end */
  onDrop?: (reason: 'overlong' | 'partial', bytes: number) => void;
}

export class LineParser extends Transform {
  private readonly max: number;
  private readonly onDrop: NonNullable<LineParserOptions['onDrop']>;
  private parts: Buffer[] = [];
  private pending = 0;
  private skipping = false;
  private skipped = 0;

  constructor(o: LineParserOptions = {}) {
    super({ readableObjectMode: true });
    this.max = o.maxLineBytes ?? 4096;
    if (!(this.max > 0)) throw new TypeError('"maxLineBytes" must be > 0');
    this.onDrop = o.onDrop ?? (() => {});
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        this.keep(chunk.subarray(start));
        break;
      }
      this.keep(chunk.subarray(start, nl));
      this.endLine();
      start = nl + 1;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.reset();
    cb();
  }

  /** Forget a half line (e.g. after the port was unplugged), reporting it as `partial`. */
  reset(): void {
    if (this.skipping) this.onDrop('overlong', this.skipped);
    else if (this.pending > 0) this.onDrop('partial', this.pending);
    this.parts = [];
    this.pending = 0;
    this.skipping = false;
    this.skipped = 0;
  }

  private keep(b: Buffer): void {
    if (b.length === 0) return;
    if (this.skipping) {
      this.skipped += b.length;
      return;
    }
    if (this.pending + b.length > this.max) {
      this.skipping = true;
      this.skipped = this.pending + b.length;
      this.parts = [];
      this.pending = 0;
      return;
    }
    // copy: the serialport read pool is reused
    this.parts.push(Buffer.from(b));
    this.pending += b.length;
  }

  private endLine(): void {
    if (this.skipping) {
      this.onDrop('overlong', this.skipped);
      this.skipping = false;
      this.skipped = 0;
      return;
    }
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > 0) this.push(line);
  }
}
