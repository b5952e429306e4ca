/**
 * SerialLink: one serial port as a source of sensor samples and a sink for action lines.
 *
 * - Codecs: JSON lines (default), CSV, or binary frames with CRC-16 (`codecs/`, `parsers/`).
 * - Unplug: serialport emits `close` with a disconnect error on some systems and not on
 *   others (node-serialport#2043), so the link also watches the device path (`watch.ts`):
 *   if it vanishes or names another device, the port is closed and reopened. Reopen attempts
 *   back off exponentially with jitter (capped low: a replug should resume within a second
 *   or two), and an attempt is made at once when the path reappears.
 * - Bad bytes (garbage, half lines, overlong lines, bad CRC) are counted and dropped; bad
 *   messages are counted per stream and reason (`edgereward_messages_total`).
 * - Writes: JSON lines through `LatestWriter` — never more than one message pending.
 */
import { EventEmitter } from 'node:events';
import type { Transform } from 'node:stream';
import { SerialPort } from 'serialport';
import { BehaviorSubject, Observable, Subject, filter, firstValueFrom, timeout as rxTimeout } from 'rxjs';
import { describeError, EdgeError } from '../../errors.js';
import { moduleLogger, rateLimitedLog } from '../../telemetry/log.js';
import { counter, gauge } from '../../telemetry/metrics.js';
import { account, UNKNOWN_STREAM_LABEL } from '../messages/accounting.js';
import type { DecodeOptions, DecodeResult, SensorSample, StreamSpec } from '../messages/sensor.js';
import { validateSensor } from '../messages/sensor.js';
import { backoffDelay, type BackoffOptions } from '../mqtt/backoff.js';
import { checkCsvOptions, decodeCsvLine, type CsvOptions } from './codecs/csv.js';
import { decodeFrameBody, frameSchema, type FrameSchema, type FrameStream } from './codecs/frame.js';
import { decodeJsonLine, encodeJsonLine } from './codecs/jsonl.js';
import { LatestWriter, type WriteResult } from './LatestWriter.js';
import { FrameParser } from './parsers/FrameParser.js';
import { LineParser } from './parsers/LineParser.js';
import { identify, watchDevice, type DeviceIdentity } from './watch.js';

export type SerialCodecOptions =
  | { kind: 'jsonl' }
  | ({ kind: 'csv' } & CsvOptions)
  | { kind: 'frame'; streams: Record<number, FrameStream> | FrameSchema; maxBody?: number };

export interface SerialLinkOptions {
  /** device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/… */
  path: string;
  /** default 115200 */
  baudRate?: number;
  /** default `{kind: 'jsonl'}` */
  codec?: SerialCodecOptions;
  /** the streams expected on this port (names, or name -> spec); others are `unknown_stream` */
  streams?: ReadonlyMap<string, StreamSpec | undefined> | readonly string[];
  /** longest line, bytes (default 4096) */
  maxLineBytes?: number;
  /** clock-skew allowance for `t`, ms (default 5000) */
  maxFutureMs?: number;
  /** reopen backoff (default minMs 200, maxMs 2000, jitter 0.2) */
  reopen?: Partial<BackoffOptions>;
  /** device path poll interval, ms (default 500) */
  watchIntervalMs?: number;
}

export type SerialState = 'idle' | 'opening' | 'open' | 'waiting' | 'closed';

export interface SerialLinkEvents {
  open: [{ reopen: boolean }];
  lost: [{ reason: string }];
  reopen: [{ attempt: number; delayMs: number }];
  error: [Error];
}

const reopenTotal = counter('edgereward_serial_reopen_total', 'Serial ports reopened after they were lost', ['port'] as const);
const lostTotal = counter('edgereward_serial_disconnects_total', 'Serial ports lost: close (driver), vanished (path gone), replaced (path names another device), error', ['port', 'reason'] as const);
const openGauge = gauge('edgereward_serial_open', '1 while the serial port is open', ['port'] as const);
const droppedTotal = counter('edgereward_serial_dropped_total', 'Serial input dropped before decoding: garbage bytes, overlong or partial lines, frames with a bad length or CRC', ['port', 'reason'] as const);
const writeDroppedTotal = counter('edgereward_serial_write_dropped_total', 'Action lines not written: replaced by a newer one under backpressure, or no port', ['port', 'reason'] as const);
const writtenTotal = counter('edgereward_serial_written_total', 'Action lines handed to the serial port', ['port'] as const);

const MAX_STREAM_LABELS = 32;

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  readonly path: string;
  readonly state$ = new BehaviorSubject<SerialState>('idle');
  private readonly samples = new Subject<SensorSample>();
  /** every valid sample from this port, all streams */
  readonly samples$: Observable<SensorSample> = this.samples.asObservable();
  private readonly baudRate: number;
  private readonly codec: SerialCodecOptions;
  private readonly schema: FrameSchema | undefined;
  private readonly known: ReadonlyMap<string, StreamSpec | undefined> | undefined;
  private readonly labels = new Set<string>();
  private readonly dopts: DecodeOptions;
  private readonly reopenOpts: BackoffOptions;
  private readonly watchMs: number;
  private readonly maxLineBytes: number;
  private readonly writer = new LatestWriter();
  private port: SerialPort | undefined;
  private parser: LineParser | FrameParser | undefined;
  private stopWatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private everOpen = false;
  private readonly log = moduleLogger('serial');
  private readonly warn = rateLimitedLog(this.log, 60_000, 3);

  constructor(o: SerialLinkOptions) {
    super();
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError('"path" must be a device path such as /dev/ttyUSB0');
    this.path = o.path;
    this.baudRate = o.baudRate ?? 115200;
    this.codec = o.codec ?? { kind: 'jsonl' };
    if (this.codec.kind === 'csv') checkCsvOptions(this.codec);
    this.schema = this.codec.kind === 'frame' ? (this.codec.streams instanceof Map ? this.codec.streams : frameSchema(this.codec.streams as Record<number, FrameStream>)) : undefined;
    this.known = o.streams === undefined ? undefined : Array.isArray(o.streams) ? new Map((o.streams as readonly string[]).map((s) => [s, undefined])) : (o.streams as ReadonlyMap<string, StreamSpec | undefined>);
    this.maxLineBytes = o.maxLineBytes ?? 4096;
    this.dopts = { maxBytes: this.maxLineBytes, maxFutureMs: o.maxFutureMs, streams: this.known, now: 0 };
    this.reopenOpts = { minMs: 200, maxMs: 2000, jitter: 0.2, ...o.reopen };
    this.watchMs = o.watchIntervalMs ?? 500;
    this.writer.onDrop = (reason) => writeDroppedTotal.inc({ port: this.path, reason });
    this.on('error', () => {}); // reported through logs and metrics; never crash the daemon
  }

  get state(): SerialState {
    return this.state$.value;
  }
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Begin opening the port (idempotent); the link keeps retrying until `close()`. */
  start(): this {
    if (this.state !== 'idle') return this;
    this.openNow();
    return this;
  }

  /** Valid samples of one stream. */
  stream$(name: string): Observable<SensorSample> {
    this.start();
    return this.samples$.pipe(filter((s) => s.stream === name));
  }

  async whenOpen(timeoutMs = 10_000): Promise<void> {
    this.start();
    await firstValueFrom(this.state$.pipe(filter((s) => s === 'open' || s === 'closed'), rxTimeout({ first: timeoutMs, with: () => {
      throw new EdgeError('E_SERIAL_TIMEOUT', `serial port ${this.path} did not open within ${timeoutMs} ms; check that the device is plugged in and the daemon's user is in the dialout group`);
    } })));
    if (this.state === 'closed') throw new EdgeError('E_SERIAL_CLOSED', `serial link ${this.path} was closed before it opened`);
  }

  /** Write `value` as one JSON line; under backpressure the newest replaces the pending one. */
  writeLine(value: unknown): WriteResult {
    const r = this.writer.write(encodeJsonLine(value));
    if (r === 'written') writtenTotal.inc({ port: this.path });
    return r;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.setState('closed');
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.writer.attach(undefined);
    await this.closePort();
    this.samples.complete();
  }

  // ---- internals -------------------------------------------------------------------------

  private setState(s: SerialState): void {
    if (this.state$.value === s || this.state$.value === 'closed') return;
    openGauge.set({ port: this.path }, s === 'open' ? 1 : 0);
    this.state$.next(s);
  }

  private openNow(): void {
    if (this.state === 'closed' || this.state === 'opening' || this.state === 'open') return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.setState('opening');
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    port.on('error', (err) => {
      this.warn(`serial:error:${this.path}`, { port: this.path, err: describeError(err) }, 'serial port error');
      this.emit('error', err);
    });
    port.open((err) => {
      if (this.state === 'closed') {
        if (!err) port.close(() => {});
        return;
      }
      if (err) {
        this.warn(`serial:open:${this.path}`, { port: this.path, err: describeError(err) }, `cannot open serial port ${this.path}; retrying with backoff`);
        this.setState('waiting');
        this.scheduleReopen();
        return;
      }
      void identify(this.path).then((id) => this.onOpen(port, id));
    });
  }

  private onOpen(port: SerialPort, id: DeviceIdentity | undefined): void {
    if (this.state !== 'opening') {
      port.close(() => {});
      return;
    }
    this.port = port;
    const parser = this.makeParser();
    this.parser = parser;
    port.pipe(parser as Transform);
    parser.on('data', (chunk: Buffer) => this.onChunk(chunk));
    port.once('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.port === port) this.lost(err?.disconnected ? 'close' : 'close', err ?? undefined);
    });
    this.writer.attach(port);
    this.stopWatch = watchDevice(this.path, this.watchMs, (now) => {
      if (this.port === port) this.lost(now === undefined ? 'vanished' : 'replaced');
    }, id);
    const reopen = this.everOpen;
    this.everOpen = true;
    this.attempt = 0;
    if (reopen) reopenTotal.inc({ port: this.path });
    this.setState('open');
    this.log.info({ port: this.path, baudRate: this.baudRate, codec: this.codec.kind, reopen }, reopen ? `serial port ${this.path} reopened` : `serial port ${this.path} open`);
    this.emit('open', { reopen });
  }

  private lost(reason: string, err?: Error): void {
    if (this.state !== 'open') return;
    lostTotal.inc({ port: this.path, reason });
    this.log.warn({ port: this.path, reason, err: err ? describeError(err) : undefined }, `serial port ${this.path} lost (${reason}); reopening with backoff`);
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.writer.attach(undefined);
    void this.closePort();
    this.setState('waiting');
    this.emit('lost', { reason });
    this.scheduleReopen();
    // Come back as soon as the device path reappears instead of waiting out the backoff.
    this.stopWatch = watchDevice(this.path, this.watchMs, (id) => {
      if (id && this.state === 'waiting') this.openNow();
    });
  }

  private scheduleReopen(): void {
    if (this.timer || this.state === 'closed') return;
    const delayMs = backoffDelay(this.attempt, this.reopenOpts);
    const attempt = ++this.attempt;
    this.emit('reopen', { attempt, delayMs });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'waiting') this.openNow();
    }, delayMs);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    const parser = this.parser;
    this.port = undefined;
    this.parser = undefined;
    if (parser) {
      port?.unpipe(parser as Transform);
      parser.reset();
      parser.removeAllListeners('data');
    }
    if (!port) return;
    if (port.isOpen) {
      await new Promise<void>((resolve) => {
        port.close(() => resolve());
        setTimeout(resolve, 1000).unref(); // a vanished device may never answer
      });
    }
    port.removeAllListeners('data');
    port.destroy();
  }

  private makeParser(): LineParser | FrameParser {
    if (this.codec.kind === 'frame') {
      return new FrameParser({ maxBody: this.codec.maxBody, onDrop: (reason) => droppedTotal.inc({ port: this.path, reason }) });
    }
    return new LineParser({ maxLineBytes: this.maxLineBytes, onDrop: (reason) => {
      droppedTotal.inc({ port: this.path, reason });
      this.warn(`serial:${reason}:${this.path}`, { port: this.path, reason }, `dropped ${reason === 'overlong' ? 'an overlong' : 'a partial'} line on ${this.path}`);
    } });
  }

  private onChunk(chunk: Buffer): void {
    const rx = Date.now();
    this.dopts.now = rx;
    const c = this.codec;
    if (c.kind === 'jsonl') {
      const d = decodeJsonLine(chunk, this.dopts);
      this.deliver(d.stream, d.result, rx);
    } else if (c.kind === 'csv') {
      const d = decodeCsvLine(chunk, c, this.dopts);
      if ('header' in d) return;
      this.deliver(d.stream, d.result, rx);
    } else {
      const d = decodeFrameBody(chunk, this.schema!);
      this.deliver(d.stream, d.result.ok ? validateSensor(d.stream, d.result.msg, this.dopts) : d.result, rx);
    }
  }

  private deliver(stream: string, res: DecodeResult, rx: number): void {
    account('serial', this.label(stream, res), res);
    if (res.ok) this.samples.next({ stream, rx, msg: res.msg });
  }

  /** A bounded set of metric labels: configured names, or the first few seen. */
  private label(stream: string, res: DecodeResult): string {
    if (this.known) return this.known.has(stream) ? stream : UNKNOWN_STREAM_LABEL;
    if (this.labels.has(stream)) return stream;
    if (res.ok && this.labels.size < MAX_STREAM_LABELS) {
      this.labels.add(stream);
      return stream;
    }
    return UNKNOWN_STREAM_LABEL;
  }
}
