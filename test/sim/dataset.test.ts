import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_ACTION_GRID, candidateAt } from '../../src/sim/actions.js';
import { decodeDataset, encodeDataset, readDataset, stateInputs, writeDataset } from '../../src/sim/dataset.js';
import { DEFAULT_FEATURE_MAP, FEATURE_DIM, features, featuresFromMap } from '../../src/sim/features.js';
import { generateDataset } from '../../src/sim/generate.js';
import { observe } from '../../src/sim/observe.js';
import { argmax, scoreCandidates } from '../../src/sim/reward.js';
import { createSim } from '../../src/sim/sim.js';

t.test('generate, write atomically, read back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'erds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const progress: number[] = [];
  const { dataset, stats } = generateDataset({ episodes: 4, seed: 77, onProgress: (p) => progress.push(p.episode) });
  t.same(progress, [1, 2, 3, 4]);
  t.equal(stats.states, dataset.states);
  t.ok(stats.states > 50, `${stats.states} states`);
  t.ok(stats.statesPerSecond > 0);
  t.equal(dataset.featureDim, 37);
  t.equal(dataset.candidateCount, 65);
  t.same(dataset.meta.grid, DEFAULT_ACTION_GRID);
  t.same(dataset.meta.featureMap, DEFAULT_FEATURE_MAP);

  const path = join(dir, 'd.erds');
  await writeDataset(path, dataset);
  t.same(await readdir(dir), ['d.erds'], 'no temp file left behind');
  const back = await readDataset(path);
  t.equal(back.states, dataset.states);
  t.same(back.meta, dataset.meta);
  for (const k of ['candidates', 'features', 'rewards', 'episode'] as const) {
    t.ok(Buffer.from(back[k].buffer, back[k].byteOffset, back[k].byteLength).equals(Buffer.from(dataset[k].buffer, dataset[k].byteOffset, dataset[k].byteLength)), `${k} round-trips`);
  }
  t.ok(encodeDataset(back).equals(await readFile(path)), 'encode(read(file)) == file');

  // The first state of episode 0 is the start of world 77: recompute it from scratch.
  const sim = createSim(77);
  const obs = observe(sim);
  const inputs = stateInputs(back, 0);
  for (const k of [0, 31, 64]) {
    t.same(Array.from(inputs.subarray(k * FEATURE_DIM, (k + 1) * FEATURE_DIM)), Array.from(features(obs, candidateAt(back.candidates, k))), `state 0 candidate ${k} inputs`);
  }
  const r = scoreCandidates(sim, sim.state, back.candidates);
  t.same(Array.from(back.rewards.subarray(0, 65)), Array.from(r), 'state 0 rewards are the true rewards');
  t.ok(argmax(r) >= 0);
  t.same(back.episode[0], 0);
  t.same(back.episode[back.states - 1], 3);
});

t.test('damaged files are refused with E_DATASET_FORMAT', async (t) => {
  const { dataset } = generateDataset({ episodes: 1, seed: 5 });
  const good = encodeDataset(dataset);
  const bad = (b: Buffer, what: string) =>
    t.throws(() => decodeDataset(b, 'x.erds'), { code: 'E_DATASET_FORMAT' }, what);
  bad(good.subarray(0, good.length - 4), 'truncated');
  bad(Buffer.concat([good, Buffer.alloc(4)]), 'trailing bytes');
  const m = Buffer.from(good);
  m.write('XXXX', 0, 'latin1');
  bad(m, 'bad magic');
  const v = Buffer.from(good);
  v.writeUInt32LE(99, 4);
  bad(v, 'future version');
  const j = Buffer.from(good);
  j.write('{', 28 + 5, 'latin1');
  bad(j, 'broken JSON');
  bad(Buffer.alloc(3), 'tiny');
  const dir = await mkdtemp(join(tmpdir(), 'erds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a'), 'hello');
  await t.rejects(readDataset(join(dir, 'a')), { code: 'E_DATASET_FORMAT' });
});

t.test('generation is deterministic for a seed', async (t) => {
  const a = generateDataset({ episodes: 2, seed: 123 }).dataset;
  const b = generateDataset({ episodes: 2, seed: 123 }).dataset;
  t.ok(encodeDataset(a).equals(encodeDataset(b)));
});

t.test('a non-default lidar goes through the generic feature map', async (t) => {
  const config = { lidar: { beams: 16, maxRange: 4 } };
  const { dataset } = generateDataset({ episodes: 1, seed: 31, config });
  t.equal(dataset.featureDim, 21, '16 beams + 5');
  t.equal(dataset.meta.featureMap.length, 23);
  t.same(dataset.meta.featureMap[0], { stream: 'lidar', field: 'ranges', index: 0, scale: 0.25, offset: 0, clip: [0, 1] });
  const sim = createSim(31, config);
  const obs = observe(sim);
  t.equal(obs.lidar.ranges.length, 16);
  const want = featuresFromMap(dataset.meta.featureMap.slice(0, 21), obs, { v: 0, w: 0 });
  t.same(Array.from(dataset.features.subarray(0, 21)), Array.from(want));
});
