/**
 * On-policy data: the states a policy visits, each labelled with the true reward of every
 * candidate (the simulator's own reward), in the dataset layout the trainer reads.
 */
import t from 'tap';
import { collectOnPolicy } from '../../src/train/dagger.js';
import { groupedFromDataset } from '../../src/train/data.js';
import { concatSets } from '../../src/train/groups.js';
import { createSim } from '../../src/sim/sim.js';
import { observe } from '../../src/sim/observe.js';
import { observationFeatures, OBS_FEATURE_DIM } from '../../src/sim/features.js';
import { scoreCandidates } from '../../src/sim/reward.js';
import { gridCandidates } from '../../src/sim/actions.js';

t.test('collectOnPolicy labels the visited states with the true reward', async (t) => {
  // A goal-seeking score: fast, and turning toward the goal.
  const score = (obs: { goal: { bearing: number } }, c: Float32Array): Float32Array => {
    const r = new Float32Array(c.length >> 1);
    for (let i = 0; i < r.length; i++) r[i] = c[2 * i]! - Math.abs(c[2 * i + 1]! - 2 * obs.goal.bearing);
    return r;
  };
  const { dataset: ds, goals, collisions } = await collectOnPolicy({ score, episodes: 2, seed: 4242, noisyShare: 0 });
  t.ok(ds.states > 2);
  t.equal(goals + collisions <= 2, true);
  t.equal(ds.candidateCount, 65);
  t.equal(ds.featureDim, OBS_FEATURE_DIM);
  t.equal(ds.episode[0], 0);
  t.equal(ds.episode[ds.states - 1], 1);
  // The first state is episode 0's start.
  const sim = createSim(4242);
  const f = observationFeatures(observe(sim), new Float32Array(OBS_FEATURE_DIM));
  t.same(Array.from(ds.features.subarray(0, OBS_FEATURE_DIM)), Array.from(f));
  t.same(Array.from(ds.rewards.subarray(0, 65)), Array.from(scoreCandidates(sim, sim.state, gridCandidates())));
  const g = groupedFromDataset(ds);
  t.equal(g.actDim, 2);
  // Candidate 0 is (v 0, w -1.5), candidate 1 (v 0, w -1.25): scaled by 1/vmax and 1/wmax.
  const want = [0, -1, 0, -1.25 / 1.5];
  t.ok(want.every((v, i) => Math.abs(g.act[i]! - v) < 1e-6), 'action columns');
  const both = concatSets(g, g);
  t.equal(both.states, 2 * g.states);
  t.same(Array.from(both.rewards.subarray(g.rewards.length, g.rewards.length + 65)), Array.from(g.rewards.subarray(0, 65)));
});
