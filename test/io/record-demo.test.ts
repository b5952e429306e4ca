/**
 * A recording of the embedded demo (aedes broker + simulated robot + daemon on the shipped
 * sample model) reads back with @mcap/core's readers with every channel and the expected
 * counts; replay with the same model reproduces every decision; replay with a different
 * model (a constant one: every candidate ties, so argmax picks candidate 0) reports exactly
 * the disagreement the recording predicts.
 */
import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { loadConfig, defaultConfigFile } from '../../src/config/load.js';
import { startStack } from '../../src/demo/stack.js';
import { readRecording, replayItems, recordingFiles } from '../../src/io/replay/read.js';
import { replayEvaluate } from '../../src/agent/replay.js';
import { readBundle } from '../../src/runtime/bundle/format.js';
import { Scorer } from '../../src/runtime/engine/scorer.js';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { generateKeyPair } from '../../src/runtime/bundle/keys.js';
import { buildMlpModel } from '../../src/compress/onnx/build.js';
import type { DecisionRecord } from '../../src/io/record/format.js';
import { tmpDir } from '../helpers/tmp.js';

const SAMPLE = new URL('../../models/sample/sample.bundle', import.meta.url).pathname;

t.test('record the embedded demo, read it back, replay it', async (t) => {
  const dir = tmpDir(t, 'edgereward-rec-');
  const rec = join(dir, 'rec');
  const cfg = loadConfig({
    file: defaultConfigFile(),
    env: {},
    flags: { 'record.enabled': true, 'record.dir': rec, 'record.flushMs': 200, 'telemetry.port': -1, 'telemetry.live': 'off', 'telemetry.watchdog': false, 'telemetry.logLevel': 'warn' },
  });
  const stack = await startStack(cfg);
  const d = stack.daemon;
  t.ok(d.recorder, 'the demo config records');
  const t0 = Date.now();
  while (d.loop.stats.decisions < 25 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100));
  await stack.stop();
  const stats = { ...d.loop.stats };
  const rs = d.recorder!.stats;
  t.equal(rs.dropped, 0, 'nothing dropped');
  t.ok(stats.decisions >= 25, `decided ${stats.decisions} times`);

  const files = await recordingFiles(rec);
  t.equal(files.length, 1, 'one file');
  // The indexed reader (what Foxglove Studio uses) reads the finished file by its summary.
  const bytes = readFileSync(files[0]!);
  const reader = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.byteLength), read: async (o, n) => bytes.subarray(Number(o), Number(o + n)) } });
  const topics = new Set([...reader.channelsById.values()].map((c) => c.topic));
  for (const tp of ['/sensors/lidar', '/sensors/odom', '/sensors/goal', '/decisions', '/events', '/lidar', '/tf', '/pose', '/goal', '/candidates']) t.ok(topics.has(tp), `channel ${tp}`);
  const schemaOf = (topic: string) => reader.schemasById.get([...reader.channelsById.values()].find((c) => c.topic === topic)!.schemaId)!.name;
  t.equal(schemaOf('/lidar'), 'foxglove.LaserScan');
  t.equal(schemaOf('/candidates'), 'foxglove.SceneUpdate');
  const counts: Record<string, number> = {};
  for await (const m of reader.readMessages()) {
    const topic = reader.channelsById.get(m.channelId)!.topic;
    counts[topic] = (counts[topic] ?? 0) + 1;
  }
  t.equal(counts['/decisions'], stats.decisions + stats.fallbacks, 'one decision record per published action');
  t.equal(Number(reader.statistics!.messageCount), rs.messages, 'statistics = messages written');
  t.equal(counts['/events'], 3, 'recording_started, model_activated, recording_stopped');
  // odom triggers the ticks: every tick had one, and every odom message was recorded.
  // (Fallback ticks may come from the idle timer when odom is late on a loaded machine.)
  t.ok(counts['/sensors/odom']! >= stats.decisions - 1, `odom messages (${counts['/sensors/odom']}) >= model decisions (${stats.decisions}; fallbacks ${stats.fallbacks})`);
  t.equal(counts['/sensors/lidar'], counts['/sensors/odom'], 'the robot publishes lidar, goal, odom together');

  // The stream reader (replay) sees the same messages in file order.
  const { messages, summary } = await readRecording(rec);
  t.equal(summary.incomplete, 0);
  t.same(summary.byTopic, counts);
  const decisions = [...replayItems(messages)].filter((i) => i.kind === 'decision').map((i) => (i as { rec: DecisionRecord }).rec);
  const decided = decisions.filter((x) => x.best >= 0);
  t.equal(decided.length, stats.decisions);
  t.equal(decided[0]!.features['x']?.length ?? Object.values(decided[0]!.features)[0]!.length, 39, 'the observation part of the feature vector');

  // Same model: the same choice on every tick.
  const same = await Scorer.fromBundle(readBundle(cfg.model.bundle), { warmupRuns: 0 });
  t.teardown(() => same.release());
  const r1 = await replayEvaluate(replayItems(messages), { scorer: same });
  t.equal(r1.ticks, decisions.length);
  t.equal(r1.compared, decided.length, 'every decided tick compared');
  t.equal(r1.agree, r1.compared, 'same choice every tick');
  t.equal(r1.farLower, 0);
  t.ok(r1.spearman > 0.999, `spearman ${r1.spearman}`);
  t.same(r1.newFallbacks, {}, 'no new fallbacks');

  // A different model: constant reward, so argmax picks candidate 0 on every tick.
  const sample = readBundle(SAMPLE);
  const inDim = sample.manifest.model.inputs[0]!.shape[1] as number;
  const keys = generateKeyPair();
  const trust = join(dir, 'trust');
  mkdirSync(trust);
  writeFileSync(join(trust, `${keys.keyId}.pem`), keys.publicKeyPem);
  const { files: _f, model: _m, format: _fo, min_runtime: _r, ...part } = sample.manifest;
  const flat = buildMlpModel({ inputName: sample.manifest.model.inputs[0]!.name, outputName: sample.manifest.output.name, layers: [{ weight: new Float32Array(inDim), bias: new Float32Array([0.5]), inDim, outDim: 1, activation: 'none' }] });
  const otherPath = join(dir, 'flat.bundle');
  writeFileSync(otherPath, createBundle({ model: flat, manifest: { ...part, name: 'flat', version: '0.0.1' }, privateKeyPem: keys.privateKeyPem }));
  const other = await Scorer.fromBundle(readBundle(otherPath), { warmupRuns: 0 });
  t.teardown(() => other.release());
  const r2 = await replayEvaluate(replayItems(messages), { scorer: other, farShare: 0.25 });
  const expectAgree = decided.filter((x) => x.best === 0).length;
  const expectFar = decided.filter((x) => {
    const lo = Math.min(...x.rewards);
    const hi = Math.max(...x.rewards);
    return hi > lo && x.rewards[x.best]! - x.rewards[0]! > 0.25 * (hi - lo);
  }).length;
  t.equal(r2.compared, decided.length);
  t.equal(r2.agree, expectAgree, `agreement = ticks whose recorded best was candidate 0 (${expectAgree})`);
  t.equal(r2.farLower, expectFar, `far-lower = ticks where candidate 0 is far below the recorded best (${expectFar})`);
  t.ok(r2.top1Agreement < 1);
  t.ok(Number.isNaN(r2.spearman), 'constant rewards have no rank correlation');
});
