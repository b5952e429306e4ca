/**
 * The shipped manifest's feature map, filled by the runtime's assembler from the simulator's
 * observation (the device's path), equals the simulator's own feature vectors (the training
 * data's path); the action space is the simulator's grid, in the same candidate order.
 */
import t from 'tap';
import { compileFeatures, fillFeatures } from '../../src/runtime/features/assemble.js';
import { candidateSet } from '../../src/runtime/features/candidates.js';
import { parseManifest } from '../../src/runtime/bundle/manifest.js';
import { buildManifest } from '../../src/runtime/bundle/create.js';
import { DEFAULT_ACTION_GRID, gridCandidates } from '../../src/sim/actions.js';
import { candidateFeatures, DEFAULT_FEATURE_MAP, FEATURE_DIM } from '../../src/sim/features.js';
import { createSim, stepSim } from '../../src/sim/sim.js';
import { observe } from '../../src/sim/observe.js';
import { manifestActions, manifestFeatures, mlpToOnnx, rewardManifest } from '../../src/train/export.js';

t.test('manifest features from DEFAULT_FEATURE_MAP reproduce the simulator features bit for bit', async (t) => {
  const features = manifestFeatures(DEFAULT_FEATURE_MAP);
  t.equal(features.length, 1);
  t.equal(features[0]!.per, 'candidate');
  const lidar = features[0]!.columns[0]!;
  t.match(lidar, { stream: 'lidar', field: 'ranges', index: 0, count: 32 }, '32 beams collapse into one column');
  const actions = manifestActions(DEFAULT_ACTION_GRID);
  const set = candidateSet(actions);
  t.same(Array.from(set.values), Array.from(gridCandidates(DEFAULT_ACTION_GRID)), 'same candidates, same order');
  const plan = compileFeatures(features, set.names);
  t.equal(plan.inputs[0]!.width, FEATURE_DIM);
  const sim = createSim(7);
  const buf = new Float32Array(set.count * FEATURE_DIM);
  for (let step = 0; step < 30; step++) {
    const obs = observe(sim);
    const want = candidateFeatures(obs, gridCandidates());
    const bad = fillFeatures(plan, obs as unknown as Record<string, Record<string, unknown>>, set, [buf]);
    t.equal(bad, 0);
    if (step % 10 === 0) t.same(Array.from(buf), Array.from(want), `step ${step}`);
    else if (!buf.every((v, i) => v === want[i])) t.fail(`step ${step} differs`);
    stepSim(sim, 0.4, step % 7 === 0 ? 1 : -0.2);
  }
});

t.test('the teacher manifest validates against an exported MLP', async (t) => {
  const layers = [
    { weight: new Float32Array(39 * 4).fill(0.01), bias: new Float32Array(4), inDim: 39, outDim: 4, activation: 'relu' as const },
    { weight: new Float32Array(4).fill(1), bias: new Float32Array(1), inDim: 4, outDim: 1, activation: 'none' as const },
  ];
  const onnx = mlpToOnnx(layers);
  const part = rewardManifest({ name: 'nav-teacher', version: '1.0.0', description: 'test', featureMap: DEFAULT_FEATURE_MAP, grid: DEFAULT_ACTION_GRID, provenance: { epochs: 1 } });
  const m = buildManifest({ model: onnx, manifest: part });
  parseManifest(m);
  t.same(m.model.inputs, [{ name: 'x', dtype: 'float32', shape: ['batch', 39] }]);
  t.equal(m.output.name, 'reward');
});
