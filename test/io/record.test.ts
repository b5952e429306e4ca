/**
 * The recorder's guarantees: a file cut short mid-chunk reads up to its last complete chunk;
 * rotation plus the size cap delete the oldest files first; a disk that stalls makes the
 * recorder drop and count while the decision loop misses no deadline.
 */
import t from 'tap';
import { readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { McapStreamReader } from '@mcap/core';
import { McapFile } from '../../src/io/record/McapFile.js';
import { Recorder, type FileSink } from '../../src/io/record/Recorder.js';
import { enforceCap, listRecordings } from '../../src/io/record/retention.js';
import { readMcapBytes, readMcapFile, readRecording, replayItems } from '../../src/io/replay/read.js';
import { DecisionLoop } from '../../src/agent/loop.js';
import { LatestValues } from '../../src/agent/latest.js';
import { ModelSlot } from '../../src/agent/scorer.js';
import { readBundle } from '../../src/runtime/bundle/format.js';
import { Scorer } from '../../src/runtime/engine/scorer.js';
import { registry } from '../../src/telemetry/metrics.js';
import { makeTestBundle } from '../agent/fixtures.js';
import { tmpDir } from '../helpers/tmp.js';

const enc = new TextEncoder();

t.test('a file cut short mid-chunk reads up to its last complete chunk', async (t) => {
  const f = new McapFile();
  const parts: Uint8Array[] = [f.start()];
  const ch = f.addChannel({ topic: '/sensors/odom', schemaId: f.addSchema('edgereward.Sensor', 'jsonschema', enc.encode('{}')), encoding: 'json' });
  const ends: number[] = [];
  let size = parts[0]!.byteLength;
  for (let c = 0; c < 5; c++) {
    for (let i = 0; i < 10; i++) f.add(ch, BigInt(c * 10 + i) * 1_000_000n, 0n, enc.encode(JSON.stringify({ t: c * 10 + i, v: i })), c * 10 + i);
    const b = f.cutChunk()!;
    parts.push(b);
    size += b.byteLength;
    ends.push(size);
  }
  parts.push(f.finish());
  const whole = Buffer.concat(parts);
  t.equal(readMcapBytes(whole).messages.length, 50);
  t.ok(readMcapBytes(whole).complete);

  // Cut in the middle of the 4th chunk: the first 3 chunks (30 messages) survive.
  const cut = whole.subarray(0, ends[2]! + Math.floor((ends[3]! - ends[2]!) / 2));
  const r = readMcapBytes(cut);
  t.equal(r.messages.length, 30, 'messages of the complete chunks');
  t.notOk(r.complete, 'reported as cut short');
  t.equal(r.error, undefined, 'a torn tail is not an error');
  t.same(r.messages.map((m) => m.sequence), Array.from({ length: 30 }, (_x, i) => i));
  // The library's stream reader itself agrees (no summary needed).
  const sr = new McapStreamReader();
  sr.append(cut);
  let n = 0;
  for (let rec = sr.nextRecord(); rec; rec = sr.nextRecord()) if (rec.type === 'Message') n++;
  t.equal(n, 30);
  t.notOk(sr.done());
});

function sample(i: number) {
  return { stream: 'lidar', rx: 1_700_000_000_000 + i, msg: { t: 1_700_000_000_000 + i, ranges: Array.from({ length: 32 }, (_x, k) => (k * 7 + i) % 50 / 10) } };
}

t.test('rotation and the size cap: oldest files deleted first', async (t) => {
  const dir = tmpDir(t, 'edgereward-cap-');
  // An old recording from a previous run: the first to go.
  writeFileSync(join(dir, 'edgereward-20000101T000000000Z-0001.mcap'), Buffer.alloc(40_000));
  let now = 1_700_000_000_000;
  const r = new Recorder({ dir, maxFileBytes: 40_000, maxTotalBytes: 100_000, chunkBytes: 8_000, flushMs: 60_000, drainMs: 60_000, clock: () => now });
  r.start();
  const written: string[] = [];
  for (let i = 0; i < 1500; i++) {
    r.sensor(sample(i));
    now += 10;
    if (i % 100 === 99) {
      r.flush();
      await r.settled();
      for (const f of await listRecordings(dir)) if (!written.includes(f.name)) written.push(f.name);
    }
  }
  await r.close();
  const left = (await listRecordings(dir)).map((f) => f.name);
  const total = (await listRecordings(dir)).reduce((n, f) => n + f.size, 0);
  t.ok(r.stats.files >= 5, `rotated into ${r.stats.files} files`);
  t.ok(r.stats.deleted >= 2, `deleted ${r.stats.deleted}`);
  t.ok(total <= 100_000, `directory holds ${total} bytes`);
  t.notOk(left.includes('edgereward-20000101T000000000Z-0001.mcap'), 'the oldest (previous run) went first');
  t.same(left, [...left].sort(), 'names sort by time');
  const all = [...written].sort();
  t.same(left, all.slice(all.length - left.length), 'what is left is the newest files');
  for (const f of left) t.ok(readMcapFile(join(dir, f)).complete, `${f} is complete (summary + footer)`);

  // enforceCap alone: sizes 100 each, cap 250 -> only the oldest goes; the file in progress is kept.
  const d2 = tmpDir(t, 'edgereward-cap2-');
  for (const n of ['a-1.mcap', 'a-2.mcap', 'a-3.mcap']) writeFileSync(join(d2, n), Buffer.alloc(100));
  writeFileSync(join(d2, 'notes.txt'), Buffer.alloc(1000));
  utimesSync(join(d2, 'a-1.mcap'), new Date(), new Date()); // mtime does not matter: names do
  const gone = await enforceCap(d2, 250, join(d2, 'a-1.mcap'));
  t.same(gone.map((g) => g.name), ['a-2.mcap'], 'the file in progress is never deleted');
});

t.test('every record survives a round trip, in order, with the sensor numbering replay needs', async (t) => {
  const dir = tmpDir(t, 'edgereward-rt-');
  const r = new Recorder({ dir, flushMs: 60_000, drainMs: 60_000 });
  r.start();
  for (let i = 0; i < 5; i++) r.sensor(sample(i));
  r.tick(123);
  r.sensor(sample(5)); // arrives while the tick is being scored
  r.decision({ t: 130, seq: 1, action: { v: 0.5, w: 0 }, reward: 0.25, model: 'm@1', latency_ms: 1.5, obs_age_ms: 3 }, { tickAt: 123, rewards: new Float32Array([0.1, 0.25]), count: 2, best: 1, plan: undefined, candidates: { names: ['v', 'w'], count: 2, values: new Float32Array([0, 0, 0.5, 0]) }, inputs: undefined });
  await r.close();
  const { messages } = await readRecording(dir);
  const items = [...replayItems(messages)];
  const kinds = items.map((i) => (i.kind === 'event' ? i.rec.kind : i.kind));
  t.same(kinds, ['recording_started', 'sensor', 'sensor', 'sensor', 'sensor', 'sensor', 'sensor', 'model_activated', 'decision', 'recording_stopped']);
  const d = items.find((i) => i.kind === 'decision')!;
  if (d.kind !== 'decision') throw new Error('no decision');
  t.equal(d.rec.sensors_before, 5, 'the 6th sensor message came after the tick started');
  t.same(d.rec.rewards, [0.1, 0.25]);
  t.same(d.rec.action, { v: 0.5, w: 0 });
  t.equal(d.rec.best, 1);
  const s = items[6]!;
  t.equal(s.kind === 'sensor' && s.n, 5);
  t.same(s.kind === 'sensor' && s.msg, sample(5).msg, 'the sensor message as received');
});

t.test('a stalled disk: recording drops and counts, the loop misses no deadline', async (t) => {
  const tb = makeTestBundle(t);
  const scorer = await Scorer.fromBundle(readBundle(tb.bundle), { warmupRuns: 0 });
  t.teardown(() => scorer.release());
  const dir = tmpDir(t, 'edgereward-stall-');
  let writes = 0;
  // A disk that accepts the first write and then never completes another one.
  const stalled = async (): Promise<FileSink> => ({
    write: () => (++writes === 1 ? Promise.resolve() : new Promise<void>(() => {})),
    sync: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });
  const rec = new Recorder({ dir, sink: stalled, queue: 256, chunkBytes: 4096, maxBacklogBytes: 16_384, flushMs: 20, drainMs: 5 });
  rec.start();
  const latest = new LatestValues();
  const ticks = new Subject<number>();
  let decided = 0;
  const loop = new DecisionLoop({
    models: new ModelSlot({ scorer, id: scorer.id }),
    latest,
    ticks,
    sinks: [{ name: 'count', publish: () => void decided++ }],
    fallback: { v: 0, w: 0 },
    // Generous: a loaded test machine may pause the event loop for tens of ms; a loop held up
    // by the stalled disk would never finish a tick at all.
    deadlineMs: 1000,
    defaultMaxAgeMs: 10_000,
    taps: [rec],
  });
  loop.start();
  const before = (await registry.getSingleMetricAsString('edgereward_record_dropped_total')).match(/kind="sensor"} (\d+)/)?.[1] ?? '0';
  for (let i = 0; i < 400; i++) {
    // A burst of sensor messages per tick, as a fast IMU would send.
    for (let k = 0; k < 20; k++) {
      const now = Date.now();
      const odom = { stream: 'odom', rx: now, msg: { t: now, v: 0.1 * (k % 5), x: 0, y: 0 } };
      latest.set('odom', odom.msg, now);
      rec.sensor(odom);
      latest.set('goal', { t: now, dx: 2 }, now);
    }
    const n = decided;
    ticks.next(performance.now());
    while (decided === n) await new Promise((r) => setImmediate(r));
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 25)); // let the drain and flush timers run
  }
  await loop.stop();
  t.equal(decided, 400, 'every tick decided');
  t.equal(loop.stats.deadlineMisses, 0, 'no deadline missed');
  t.equal(loop.stats.fallbacks, 0, 'no fallback');
  t.ok(rec.stats.dropped > 0, `dropped ${rec.stats.dropped} records`);
  t.ok(rec.queued <= 256, 'the queue stayed bounded');
  const after = (await registry.getSingleMetricAsString('edgereward_record_dropped_total')).match(/kind="sensor"} (\d+)/)?.[1] ?? '0';
  t.ok(Number(after) > Number(before), `edgereward_record_dropped_total{kind="sensor"} ${before} -> ${after}`);
  await rec.close(200); // the disk never answers: close gives up after its timeout
  t.pass('close returned despite the stalled disk');
});
