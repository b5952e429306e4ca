import t from 'tap';
import { candidateAt, gridCandidates } from '../../src/sim/actions.js';
import { DEFAULT_FEATURE_MAP, FEATURE_DIM, OBS_FEATURE_DIM, candidateFeatures, features, featuresFromMap } from '../../src/sim/features.js';
import { observe, type Observation } from '../../src/sim/observe.js';
import { mulberry32 } from '../../src/sim/rng.js';
import { createSim, stepSim } from '../../src/sim/sim.js';

t.test('the feature map has 39 columns: 32 lidar, odom v w, goal dist cos sin, action v w', async (t) => {
  t.equal(FEATURE_DIM, 39);
  t.equal(OBS_FEATURE_DIM, 37);
  t.same(DEFAULT_FEATURE_MAP[0], { stream: 'lidar', field: 'ranges', index: 0, scale: 0.2, offset: 0, clip: [0, 1] });
  t.same(DEFAULT_FEATURE_MAP[35], { stream: 'goal', field: 'bearing', fn: 'cos', scale: 1, offset: 0 });
  t.same(DEFAULT_FEATURE_MAP[38], { action: 'w', scale: 1 / 1.5 });
  t.same(JSON.parse(JSON.stringify(DEFAULT_FEATURE_MAP)), DEFAULT_FEATURE_MAP, 'plain data: survives JSON');
});

t.test('features() equals the feature map description, bit for bit', async (t) => {
  const cands = gridCandidates();
  const rng = mulberry32(3);
  let checked = 0;
  const obsList: Observation[] = [];
  for (let seed = 0; seed < 5; seed++) {
    const sim = createSim(seed);
    while (sim.status === 'running' && sim.steps < 60) {
      obsList.push(observe(sim));
      stepSim(sim, rng() * 0.6, (rng() - 0.5) * 3);
    }
  }
  // Edge cases: far goal (clipped), beam beyond max range, negative turn rate.
  const o0 = structuredClone(obsList[0]!);
  o0.goal.dist = 14;
  o0.lidar.ranges[3] = 7;
  o0.odom.w = -1.2;
  obsList.push(o0);
  for (const obs of obsList) {
    for (let k = 0; k < cands.length / 2; k += 7) {
      const a = candidateAt(cands, k);
      const ref = features(obs, a);
      const gen = featuresFromMap(DEFAULT_FEATURE_MAP, obs, a);
      if (!Buffer.from(ref.buffer).equals(Buffer.from(gen.buffer))) t.fail(`mismatch at obs t=${obs.lidar.t} action ${k}`);
      checked++;
    }
  }
  const f = features(o0, { v: 0.6, w: -1.5 });
  t.equal(f[34], 1, 'goal dist clipped to 1');
  t.equal(f[3], 1, 'range clipped to 1');
  t.equal(f[38], -1, 'w / wmax');
  t.ok(checked > 1000, `${checked} vectors compared`);
});

t.test('candidateFeatures rows are features() of each candidate', async (t) => {
  const sim = createSim(11);
  stepSim(sim, 0.6, 0.5);
  const obs = observe(sim);
  const cands = gridCandidates();
  const m = candidateFeatures(obs, cands);
  for (let k = 0; k < cands.length / 2; k++) {
    t.same(Array.from(m.subarray(k * FEATURE_DIM, (k + 1) * FEATURE_DIM)), Array.from(features(obs, candidateAt(cands, k))), `row ${k}`);
  }
});

t.test('observation messages: goal in the robot frame, t from the sim clock', async (t) => {
  const sim = createSim(2, {}, 1_000_000);
  sim.state = { x: 2, y: 2, theta: Math.PI / 2, v: 0, w: 0 };
  sim.world.goal = { x: 2, y: 5 };
  let o = observe(sim);
  t.ok(Math.abs(o.goal.dx - 3) < 1e-12 && Math.abs(o.goal.dy) < 1e-12, 'goal straight ahead');
  t.ok(Math.abs(o.goal.bearing) < 1e-12);
  sim.world.goal = { x: 0, y: 2 };
  o = observe(sim);
  t.ok(Math.abs(o.goal.dy - 2) < 1e-12 && Math.abs(o.goal.bearing - Math.PI / 2) < 1e-12, 'goal to the left');
  t.equal(o.lidar.t, 1_000_000);
  t.equal(o.lidar.ranges.length, 32);
  stepSim(sim, 0, 0);
  t.equal(observe(sim).odom.t, 1_000_100, '+100 ms per decision');
});
