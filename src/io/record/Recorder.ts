/**
 * The MCAP recorder: every sensor message as received, every decision and every model event,
 * written to rotating MCAP files in a directory with a total size cap.
 *
 * Real-time rule (issue 9): recording never delays a tick. The hot-path calls (`sensor`,
 * `tick`, `decision`, `event`) only copy into a preallocated ring of slots and return; when
 * the ring is full the record is dropped and counted (`edgereward_record_dropped_total`). A
 * drain task, on its own timer, turns slots into JSON messages and MCAP chunks; chunks go to
 * the disk through one serial write chain. When the disk falls behind (more than
 * `maxBacklogBytes` waiting) the drain stops taking slots, so the ring fills and drops —
 * memory stays bounded and the loop never waits.
 *
 * Power cut: a chunk is closed, written and fdatasync'ed every `flushMs` (default 1 s) or when
 * it reaches `chunkBytes` (default 256 KiB), so at most the last `flushMs` plus one write are
 * lost, and a file cut short reads up to its last complete chunk (McapFile).
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../../errors.js';
import type { FeaturePlan } from '../../runtime/features/assemble.js';
import { moduleLogger, rateLimitedLog } from '../../telemetry/log.js';
import { counter, gauge } from '../../telemetry/metrics.js';
import type { SensorMessage, SensorSample } from '../messages/sensor.js';
import type { ActionMessage } from '../sinks/ActionSink.js';
import type { DecisionDetail, DecisionTap } from '../sinks/DecisionTap.js';
import { McapFile } from './McapFile.js';
import {
  DECISIONS_TOPIC, EVENTS_TOPIC, RECORDING_FORMAT, RECORDING_PROFILE, SENSOR_TOPIC_PREFIX,
  decisionSchema, eventSchema, msToNs, sensorSchema, type DecisionRecord, type EventRecord, type LoopSettings,
} from './format.js';
import { enforceCap, recordingName } from './retention.js';

const log = moduleLogger('record');
const warn = rateLimitedLog(log);

const dropped = counter<'kind'>('edgereward_record_dropped_total', 'Records not recorded because the recording queue was full (disk too slow) or the recorder failed', ['kind']);
const droppedSensor = dropped.labels('sensor');
const droppedDecision = dropped.labels('decision');
const droppedEvent = dropped.labels('event');
const writtenTotal = counter('edgereward_record_messages_total', 'Messages written to recordings');
const bytesTotal = counter('edgereward_record_bytes_total', 'Bytes written to recordings');
const filesDeleted = counter('edgereward_record_files_deleted_total', 'Recordings deleted to keep the directory under its size cap');
const errorsTotal = counter('edgereward_record_errors_total', 'Recording write errors (the file is closed and a new one started)');
const queueGauge = gauge('edgereward_record_queue', 'Records waiting in the recording queue');

/** Where bytes go; `openFileSink` is the disk. Tests plug in a stalling one. */
export interface FileSink {
  write(bytes: Uint8Array): Promise<void>;
  /** fdatasync: the bytes written so far survive a power cut. */
  sync(): Promise<void>;
  close(): Promise<void>;
}
export type OpenSink = (path: string) => Promise<FileSink>;

export const openFileSink: OpenSink = async (path) => {
  const fh: FileHandle = await open(path, 'wx');
  return {
    async write(b) {
      let off = 0;
      while (off < b.byteLength) off += (await fh.write(b, off, b.byteLength - off)).bytesWritten;
    },
    sync: () => fh.datasync(),
    close: () => fh.close(),
  };
};

/** A derived channel written beside the raw ones (the Foxglove views). */
export interface ViewChannel {
  topic: string;
  schemaName: string;
  schema: object;
}
export type Emit = (topic: string, logTimeMs: number, data: unknown) => void;
export interface RecordView {
  readonly channels: readonly ViewChannel[];
  /** Called off the hot path for every recorded sensor message. */
  sensor?(stream: string, rxMs: number, msg: SensorMessage, emit: Emit): void;
  /** Called off the hot path for every recorded decision. */
  decision?(d: DecisionRecord, emit: Emit): void;
}

export interface RecorderOptions {
  dir: string;
  /** Rotate when a file reaches this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Rotate when a file is this old. Default 10 min. */
  maxFileAgeMs?: number;
  /** Delete the oldest files to keep the directory under this. Default 1 GiB. */
  maxTotalBytes?: number;
  /** Close a chunk at this uncompressed size. Default 256 KiB. */
  chunkBytes?: number;
  /** Close, write and fdatasync the open chunk this often. Default 1000 ms. */
  flushMs?: number;
  /** Ring capacity (records). Default 8192. */
  queue?: number;
  /** Stop draining while this many bytes wait for the disk. Default 4 MiB. */
  maxBacklogBytes?: number;
  /** File name prefix. Default "edgereward". */
  prefix?: string;
  views?: RecordView[];
  sink?: OpenSink;
  /** Unix ms. Default Date.now. */
  clock?: () => number;
  /** Drain period. Default 50 ms. */
  drainMs?: number;
}

const SENSOR = 1;
const DECISION = 2;
const EVENT = 3;

interface Slot {
  kind: number;
  stream: string;
  rx: number;
  msg: SensorMessage | undefined;
  n: number;
  // decision
  tickT: number;
  t: number;
  mark: number;
  model: string;
  reward: number | null;
  best: number;
  fallback: string | null;
  latency: number;
  obsAge: number | null;
  count: number;
  rewards: Float32Array;
  actKeys: string[];
  actVals: number[];
  featNames: readonly string[];
  featWidths: readonly number[];
  feats: Float32Array;
  event: EventRecord | undefined;
}

function newSlot(): Slot {
  return {
    kind: 0, stream: '', rx: 0, msg: undefined, n: 0, tickT: 0, t: 0, mark: 0, model: '', reward: null, best: -1, fallback: null,
    latency: 0, obsAge: null, count: 0, rewards: new Float32Array(0), actKeys: [], actVals: [], featNames: [], featWidths: [], feats: new Float32Array(0), event: undefined,
  };
}

interface Segment {
  file: McapFile;
  path: string;
  startMs: number;
  sink: Promise<FileSink | undefined>;
  channels: Map<string, number>;
  schemas: Map<string, number>;
  failed: boolean;
}

export interface RecorderStats {
  enqueued: number;
  dropped: number;
  messages: number;
  bytes: number;
  chunks: number;
  files: number;
  deleted: number;
  errors: number;
}

const enc = new TextEncoder();

/** JSON numbers of a decision: float32 values to 7 significant digits (they carry no more). */
function round7(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(7)) : v;
}

function round5(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(5)) : v;
}

export class Recorder implements DecisionTap {
  readonly stats: RecorderStats = { enqueued: 0, dropped: 0, messages: 0, bytes: 0, chunks: 0, files: 0, deleted: 0, errors: 0 };
  readonly dir: string;
  private readonly o: Required<Omit<RecorderOptions, 'views' | 'dir'>> & { views: RecordView[] };
  private readonly ring: Slot[];
  private head = 0;
  private size = 0;
  private sensorN = 0;
  private mark = 0;
  private lastModel = '';
  private readonly planInfo = new WeakMap<FeaturePlan, { names: string[]; widths: number[] }>();
  private seg: Segment | undefined;
  private fileN = 0;
  private chain: Promise<void> = Promise.resolve();
  private backlog = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private closing: Promise<void> | undefined;
  private readonly viewSchemas = new Map<string, ViewChannel>();

  constructor(opts: RecorderOptions) {
    this.dir = opts.dir;
    this.o = {
      maxFileBytes: 64 * 1024 * 1024,
      maxFileAgeMs: 10 * 60_000,
      maxTotalBytes: 1024 * 1024 * 1024,
      chunkBytes: 256 * 1024,
      flushMs: 1000,
      queue: 8192,
      maxBacklogBytes: 4 * 1024 * 1024,
      prefix: 'edgereward',
      sink: openFileSink,
      clock: Date.now,
      drainMs: 50,
      ...opts,
      views: opts.views ?? [],
    };
    for (const v of this.o.views) for (const c of v.channels) this.viewSchemas.set(c.topic, c);
    this.ring = Array.from({ length: this.o.queue }, newSlot);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Start the drain and flush timers and write the `recording_started` event. */
  start(loop?: LoopSettings): this {
    if (this.drainTimer) return this;
    this.drainTimer = setInterval(() => this.drain(), this.o.drainMs);
    this.drainTimer.unref();
    this.flushTimer = setInterval(() => this.flush(), this.o.flushMs);
    this.flushTimer.unref();
    this.event({ t: this.o.clock(), kind: 'recording_started', format: RECORDING_FORMAT, ...(loop ? { loop } : {}) });
    this.chain = this.chain.then(() => this.applyCap(undefined)).catch(() => undefined);
    log.info({ dir: this.dir, maxFileBytes: this.o.maxFileBytes, maxTotalBytes: this.o.maxTotalBytes }, `recording to ${this.dir}`);
    return this;
  }

  get queued(): number {
    return this.size;
  }

  // ---- hot path: copy into the ring, never wait -------------------------------------------

  private take(): Slot | undefined {
    if (this.size === this.ring.length) return undefined;
    const s = this.ring[(this.head + this.size) % this.ring.length]!;
    this.size++;
    this.stats.enqueued++;
    return s;
  }

  /** A validated sensor message (call in the same synchronous step that updates the latest values). */
  readonly sensor = (s: SensorSample): void => {
    const n = this.sensorN++;
    const slot = this.take();
    if (!slot) return this.drop(droppedSensor);
    slot.kind = SENSOR;
    slot.stream = s.stream;
    slot.rx = s.rx;
    slot.msg = s.msg;
    slot.n = n;
  };

  /** Tick start: remembers which sensor messages the tick's inputs came from. */
  tick(_now: number): void {
    this.mark = this.sensorN;
  }

  /** A published decision (the loop's reused objects: copied here, not kept). */
  decision(m: Readonly<ActionMessage>, d: Readonly<DecisionDetail>): void {
    if (m.model !== this.lastModel && m.model !== '') {
      this.lastModel = m.model;
      const c = d.candidates;
      this.event({ t: this.o.clock(), kind: 'model_activated', model: m.model, ...(c ? { candidates: { names: c.names, count: c.count, values: Array.from(c.values) } } : {}) });
    }
    const slot = this.take();
    if (!slot) return this.drop(droppedDecision);
    slot.kind = DECISION;
    slot.n = m.seq;
    slot.tickT = d.tickAt;
    slot.t = m.t;
    slot.mark = this.mark;
    slot.model = m.model;
    slot.reward = m.reward;
    slot.best = d.best;
    slot.fallback = m.fallback ?? null;
    slot.latency = m.latency_ms;
    slot.obsAge = m.obs_age_ms;
    slot.actKeys.length = 0;
    slot.actVals.length = 0;
    for (const k in m.action) {
      slot.actKeys.push(k);
      slot.actVals.push(m.action[k]!);
    }
    const count = d.rewards ? d.count : 0;
    if (slot.rewards.length < count) slot.rewards = new Float32Array(count);
    if (d.rewards) slot.rewards.set(d.rewards.subarray(0, count));
    slot.count = count;
    const plan = d.plan;
    if (plan && d.inputs && d.rewards) {
      const info = this.infoOf(plan);
      let total = 0;
      for (const w of info.widths) total += w;
      if (slot.feats.length < total) slot.feats = new Float32Array(total);
      let off = 0;
      for (let i = 0; i < info.widths.length; i++) {
        const w = info.widths[i]!;
        slot.feats.set(d.inputs[i]!.subarray(0, w), off);
        off += w;
      }
      slot.featNames = info.names;
      slot.featWidths = info.widths;
    } else {
      slot.featNames = [];
      slot.featWidths = [];
    }
  }

  /** A model or lifecycle event (rare: allocation is fine). */
  event(e: EventRecord): void {
    const slot = this.take();
    if (!slot) return this.drop(droppedEvent);
    slot.kind = EVENT;
    slot.event = e;
  }

  private drop(c: { inc(): void }): void {
    this.stats.dropped++;
    c.inc();
  }

  private infoOf(plan: FeaturePlan): { names: string[]; widths: number[] } {
    let i = this.planInfo.get(plan);
    if (!i) {
      i = { names: plan.inputs.map((x) => x.input), widths: plan.inputs.map((x) => x.width) };
      this.planInfo.set(plan, i);
    }
    return i;
  }

  // ---- off the hot path: slots -> MCAP -> disk ------------------------------------------

  /** Move queued records into the open chunk, a slice at a time (never a long event-loop block). */
  private drain(force = false): void {
    if (this.draining) return;
    this.draining = true;
    try {
      let n = 0;
      while (this.size > 0 && (force || (n < 512 && this.backlog + (this.seg?.file.pendingBytes ?? 0) < this.o.maxBacklogBytes))) {
        const s = this.ring[this.head]!;
        this.head = (this.head + 1) % this.ring.length;
        this.size--;
        n++;
        this.writeSlot(s);
        s.msg = undefined;
        s.event = undefined;
        if (this.seg && this.seg.file.pendingBytes >= this.o.chunkBytes) this.cut(false);
      }
      queueGauge.set(this.size);
    } catch (e) {
      warn('drain', { err: describeError(e) }, 'recording failed to encode a record; it was skipped');
    } finally {
      this.draining = false;
    }
  }

  private writeSlot(s: Slot): void {
    switch (s.kind) {
      case SENSOR: {
        const msg = s.msg!;
        this.write(SENSOR_TOPIC_PREFIX + s.stream, s.rx, msg.t, JSON.stringify(msg), s.n);
        for (const v of this.o.views) v.sensor?.(s.stream, s.rx, msg, this.emitView);
        break;
      }
      case DECISION: {
        const action: Record<string, number> = {};
        for (let i = 0; i < s.actKeys.length; i++) action[s.actKeys[i]!] = s.actVals[i]!;
        const features: Record<string, number[]> = {};
        let off = 0;
        for (let i = 0; i < s.featNames.length; i++) {
          const w = s.featWidths[i]!;
          features[s.featNames[i]!] = Array.from(s.feats.subarray(off, off + w));
          off += w;
        }
        const d: DecisionRecord = {
          seq: s.n, tick_t: s.tickT, t: s.t, sensors_before: s.mark, model: s.model, action, reward: s.reward, best: s.best,
          fallback: s.fallback, latency_ms: s.latency, obs_age_ms: s.obsAge, rewards: Array.from(s.rewards.subarray(0, s.count)), features,
        };
        this.write(DECISIONS_TOPIC, s.t, s.tickT, JSON.stringify(d, round7), s.n);
        for (const v of this.o.views) v.decision?.(d, this.emitView);
        break;
      }
      case EVENT: {
        const e = s.event!;
        this.write(EVENTS_TOPIC, e.t, e.t, JSON.stringify(e), 0);
        break;
      }
    }
  }

  // Views are for the eye: 5 significant digits keep them small (the raw channels stay exact).
  private readonly emitView: Emit = (topic, logTimeMs, data) => {
    this.write(topic, logTimeMs, logTimeMs, JSON.stringify(data, round5), 0);
  };

  private write(topic: string, logMs: number, pubMs: number, json: string, seq: number): void {
    const seg = this.segment();
    let ch = seg.channels.get(topic);
    if (ch === undefined) ch = this.register(seg, topic);
    seg.file.add(ch, msToNs(logMs), msToNs(pubMs), enc.encode(json), seq >>> 0);
    this.stats.messages++;
    writtenTotal.inc();
  }

  private register(seg: Segment, topic: string): number {
    const view = this.viewSchemas.get(topic);
    const [name, schema] = view
      ? [view.schemaName, view.schema]
      : topic.startsWith(SENSOR_TOPIC_PREFIX)
        ? ['edgereward.Sensor', sensorSchema]
        : topic === DECISIONS_TOPIC
          ? ['edgereward.Decision', decisionSchema]
          : ['edgereward.Event', eventSchema];
    let sid = seg.schemas.get(name);
    if (sid === undefined) {
      sid = seg.file.addSchema(name, 'jsonschema', enc.encode(JSON.stringify(schema)));
      seg.schemas.set(name, sid);
    }
    const id = seg.file.addChannel({ topic, schemaId: sid, encoding: 'json' });
    seg.channels.set(topic, id);
    return id;
  }

  /** The file being written, opened on first use (an idle recorder creates no empty files). */
  private segment(): Segment {
    if (this.seg && !this.seg.failed) return this.seg;
    const startMs = this.o.clock();
    const path = join(this.dir, recordingName(this.o.prefix, startMs, ++this.fileN));
    const file = new McapFile({ profile: RECORDING_PROFILE, library: 'edgereward' });
    const sink = this.o.sink(path).then(
      (s) => s,
      (e: unknown) => {
        this.fail(seg, e);
        return undefined;
      },
    );
    const seg: Segment = { file, path, startMs, sink, channels: new Map(), schemas: new Map(), failed: false };
    this.seg = seg;
    this.stats.files++;
    this.enqueueWrite(seg, file.start(), false);
    return seg;
  }

  /** Close the open chunk and hand it to the disk; rotate when the file is big or old enough. */
  private cut(sync: boolean): void {
    const seg = this.seg;
    if (!seg) return;
    const bytes = seg.file.cutChunk();
    if (bytes) {
      this.stats.chunks++;
      this.enqueueWrite(seg, bytes, sync);
    }
    if (Number(seg.file.position) >= this.o.maxFileBytes || this.o.clock() - seg.startMs >= this.o.maxFileAgeMs) this.rotate();
  }

  /** Finish the current file (summary, footer), close it, and apply the size cap. */
  private rotate(): void {
    const seg = this.seg;
    if (!seg) return;
    this.seg = undefined;
    this.enqueueWrite(seg, seg.file.finish(), true);
    this.chain = this.chain.then(async () => {
      const sink = await seg.sink;
      await sink?.close().catch(() => undefined);
      await this.applyCap(this.seg?.path);
    });
  }

  private async applyCap(keep: string | undefined): Promise<void> {
    const deleted = await enforceCap(this.dir, this.o.maxTotalBytes, keep);
    for (const f of deleted) {
      this.stats.deleted++;
      filesDeleted.inc();
      log.info({ file: f.name, bytes: f.size }, 'deleted the oldest recording to stay under the size cap');
    }
  }

  private enqueueWrite(seg: Segment, bytes: Uint8Array, sync: boolean): void {
    this.backlog += bytes.byteLength;
    this.chain = this.chain.then(async () => {
      try {
        const sink = await seg.sink;
        if (!sink || seg.failed) return;
        await sink.write(bytes);
        if (sync) await sink.sync();
        this.stats.bytes += bytes.byteLength;
        bytesTotal.inc(bytes.byteLength);
      } catch (e) {
        this.fail(seg, e);
      } finally {
        this.backlog -= bytes.byteLength;
      }
    });
  }

  private fail(seg: Segment, e: unknown): void {
    if (seg.failed) return;
    seg.failed = true;
    this.stats.errors++;
    errorsTotal.inc();
    warn('write', { file: seg.path, err: describeError(e) }, 'writing the recording failed; closing it and starting a new file');
    void seg.sink.then((s) => s?.close()).catch(() => undefined);
  }

  /** Timer: close the open chunk and make it durable (at most `flushMs` lost on a power cut). */
  flush(): void {
    this.drain();
    if (this.seg && this.seg.file.pendingMessages > 0) this.cut(true);
    else if (this.seg && this.o.clock() - this.seg.startMs >= this.o.maxFileAgeMs) this.rotate();
  }

  /** Resolves when everything handed to the disk so far is written (tests, benchmarks). */
  async settled(): Promise<void> {
    let c: Promise<void>;
    do {
      c = this.chain;
      await c;
    } while (c !== this.chain);
  }

  /**
   * Stop: write what is queued, finish the file (summary + footer) and apply the cap. Waits at
   * most `timeoutMs` for a slow disk, then gives up (the file stays readable up to its last chunk).
   */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.drainTimer);
      clearInterval(this.flushTimer);
      this.event({ t: this.o.clock(), kind: 'recording_stopped', enqueued: this.stats.enqueued, dropped: this.stats.dropped });
      this.drain(true);
      if (this.seg) this.rotate();
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        this.settled().then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!done) log.warn({ dir: this.dir, timeoutMs }, 'the disk did not finish the recording in time; the last file may miss its summary (it stays readable up to its last chunk)');
      log.info({ dir: this.dir, messages: this.stats.messages, bytes: this.stats.bytes, dropped: this.stats.dropped, files: this.stats.files }, 'recording stopped');
    })();
    return this.closing;
  }
}
