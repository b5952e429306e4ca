/**
 * Reading recordings back, in file order (the order things happened on the robot), with
 * @mcap/core's stream reader: it needs no summary, so a file cut short by a power cut reads
 * up to its last complete chunk (the torn tail is reported, not thrown).
 */
import { readFileSync, statSync } from 'node:fs';
import { McapStreamReader } from '@mcap/core';
import { EdgeError, describeError } from '../../errors.js';
import { DECISIONS_TOPIC, EVENTS_TOPIC, SENSOR_TOPIC_PREFIX, nsToMs, type DecisionRecord, type EventRecord } from '../record/format.js';
import { listRecordings } from '../record/retention.js';
import type { SensorMessage } from '../messages/sensor.js';

export interface McapMessage {
  topic: string;
  schemaName: string;
  logTime: bigint;
  publishTime: bigint;
  sequence: number;
  data: Uint8Array;
}

export interface McapReadResult {
  messages: McapMessage[];
  /** False when the file ends without its footer (power cut, still being written). */
  complete: boolean;
  /** Why reading stopped early (a torn or corrupt chunk), if it did. */
  error?: string;
  /** Bytes after the last complete record. */
  tornBytes: number;
}

/** Every message of one MCAP file, in file order. */
export function readMcapBytes(bytes: Uint8Array): McapReadResult {
  const reader = new McapStreamReader({ validateCrcs: true });
  const channels = new Map<number, { topic: string; schemaId: number }>();
  const schemas = new Map<number, string>();
  const messages: McapMessage[] = [];
  let error: string | undefined;
  reader.append(bytes);
  try {
    for (let r = reader.nextRecord(); r; r = reader.nextRecord()) {
      switch (r.type) {
        case 'Schema':
          schemas.set(r.id, r.name);
          break;
        case 'Channel':
          channels.set(r.id, { topic: r.topic, schemaId: r.schemaId });
          break;
        case 'Message': {
          const c = channels.get(r.channelId);
          if (c) messages.push({ topic: c.topic, schemaName: schemas.get(c.schemaId) ?? '', logTime: r.logTime, publishTime: r.publishTime, sequence: r.sequence, data: r.data });
          break;
        }
        default:
          break;
      }
    }
  } catch (e) {
    error = describeError(e);
  }
  return { messages, complete: reader.done(), ...(error ? { error } : {}), tornBytes: reader.bytesRemaining() };
}

export function readMcapFile(path: string): McapReadResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_REPLAY_READ', `cannot read the recording ${path} (${describeError(e)}); check the path`, { cause: e });
  }
  return readMcapBytes(bytes);
}

/** A file, or every `.mcap` file of a directory in recording order. */
export async function recordingFiles(path: string): Promise<string[]> {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch (e) {
    throw new EdgeError('E_REPLAY_READ', `cannot read ${path} (${describeError(e)}); give an .mcap file or a recording directory`, { cause: e });
  }
  if (!dir) return [path];
  const files = (await listRecordings(path)).map((f) => f.path);
  if (files.length === 0) throw new EdgeError('E_REPLAY_EMPTY', `${path} holds no .mcap recordings`);
  return files;
}

/** A recording as the things that happened, in order. */
export type ReplayItem =
  | { kind: 'sensor'; stream: string; rx: number; msg: SensorMessage; n: number }
  | { kind: 'decision'; rec: DecisionRecord }
  | { kind: 'event'; rec: EventRecord };

const dec = new TextDecoder();

/**
 * The raw channels of messages as replay items (Foxglove views are skipped). Sensor numbers
 * are unwrapped from MCAP's 32-bit `sequence`.
 */
export function* replayItems(messages: Iterable<McapMessage>): Generator<ReplayItem> {
  let hi = 0;
  let prev = -1;
  for (const m of messages) {
    if (m.topic.startsWith(SENSOR_TOPIC_PREFIX)) {
      if (prev >= 0 && m.sequence + 2 ** 31 < prev) hi += 2 ** 32;
      prev = m.sequence;
      yield { kind: 'sensor', stream: m.topic.slice(SENSOR_TOPIC_PREFIX.length), rx: nsToMs(m.logTime), msg: JSON.parse(dec.decode(m.data)) as SensorMessage, n: hi + m.sequence };
    } else if (m.topic === DECISIONS_TOPIC) {
      yield { kind: 'decision', rec: JSON.parse(dec.decode(m.data)) as DecisionRecord };
    } else if (m.topic === EVENTS_TOPIC) {
      const rec = JSON.parse(dec.decode(m.data)) as EventRecord;
      if (rec.kind === 'recording_started') {
        hi = 0;
        prev = -1;
      }
      yield { kind: 'event', rec };
    }
  }
}

export interface RecordingSummary {
  files: number;
  bytes: number;
  incomplete: number;
  errors: string[];
  messages: number;
  byTopic: Record<string, number>;
  startMs: number;
  endMs: number;
}

/** Read every file of a recording (file or directory): the messages in order and a summary. */
export async function readRecording(path: string): Promise<{ messages: McapMessage[]; summary: RecordingSummary }> {
  const files = await recordingFiles(path);
  const messages: McapMessage[] = [];
  const s: RecordingSummary = { files: files.length, bytes: 0, incomplete: 0, errors: [], messages: 0, byTopic: {}, startMs: Infinity, endMs: -Infinity };
  for (const f of files) {
    s.bytes += statSync(f).size;
    const r = readMcapFile(f);
    if (!r.complete) s.incomplete++;
    if (r.error) s.errors.push(`${f}: ${r.error}`);
    for (const m of r.messages) {
      messages.push(m);
      s.byTopic[m.topic] = (s.byTopic[m.topic] ?? 0) + 1;
      const t = nsToMs(m.logTime);
      if (t < s.startMs) s.startMs = t;
      if (t > s.endMs) s.endMs = t;
    }
  }
  s.messages = messages.length;
  return { messages, summary: s };
}
