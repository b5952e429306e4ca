import t from 'tap';
import { gridCandidates } from '../../src/sim/actions.js';
import { resolveConfig } from '../../src/sim/config.js';
import { rewardTerms, scoreCandidates } from '../../src/sim/reward.js';
import { mulberry32 } from '../../src/sim/rng.js';
import { createScene, createSim, stepSim } from '../../src/sim/sim.js';
import { worldClearance, type World } from '../../src/sim/world.js';

const cands = gridCandidates();
const K = cands.length >> 1;

t.test('facing a wall at speed: driving on collides and scores below stopping', async (t) => {
  const world: World = { seed: 0, width: 10, height: 10, circles: [], boxes: [{ x0: 5, y0: 3, x1: 5.3, y1: 7 }], start: { x: 4.35, y: 5, theta: 0 }, goal: { x: 8, y: 5 } };
  const scene = createScene(world, resolveConfig());
  const s = { x: 4.35, y: 5, theta: 0, v: 0.6, w: 0 };
  const go = rewardTerms(scene, s, 0.6, 0);
  const stop = rewardTerms(scene, s, 0, 0);
  t.ok(go.collidedAt > 0, `full speed hits the box (at ${go.collidedAt} s)`);
  t.equal(stop.collidedAt, -1, 'braking at the limit stops 0.15 m short');
  t.ok(go.total < stop.total, `collide ${go.total.toFixed(2)} < stop ${stop.total.toFixed(2)}`);
  t.ok(stop.proximity > 0, 'stopping near the box still costs proximity');
});

t.test('in open space, heading at the goal beats turning away', async (t) => {
  const world: World = { seed: 0, width: 10, height: 10, circles: [], boxes: [], start: { x: 2, y: 5, theta: 0 }, goal: { x: 8, y: 5 } };
  const scene = createScene(world, resolveConfig());
  const s = { x: 2, y: 5, theta: 0, v: 0.6, w: 0 };
  const r = scoreCandidates(scene, s, cands);
  const best = Array.from(r).indexOf(Math.max(...r));
  t.same([cands[2 * best], cands[2 * best + 1]], [cands[2 * (K - 7)], 0], 'best is (vmax, 0)');
  const terms = rewardTerms(scene, s, 0.6, 0);
  t.ok(Math.abs(terms.progress - 1) < 0.05, `progress at vmax straight at the goal is about 1 (${terms.progress})`);
  t.equal(terms.effort, 0, 'no change, no effort');
});

t.test('a colliding action always scores below a safe one (visited states of 25 worlds)', async (t) => {
  let states = 0;
  let mixed = 0;
  for (let seed = 500; seed < 525; seed++) {
    const sim = createSim(seed);
    const rng = mulberry32(seed);
    while (sim.status === 'running' && sim.steps < 150) {
      let maxColl = -Infinity;
      let minSafe = Infinity;
      for (let k = 0; k < K; k++) {
        const r = rewardTerms(sim, sim.state, cands[2 * k]!, cands[2 * k + 1]!);
        if (r.collidedAt >= 0) maxColl = Math.max(maxColl, r.total);
        else minSafe = Math.min(minSafe, r.total);
      }
      if (maxColl > -Infinity && minSafe < Infinity) {
        mixed++;
        if (!(maxColl < minSafe)) t.fail(`world ${seed} step ${sim.steps}: colliding ${maxColl} >= safe ${minSafe}`);
      }
      states++;
      // A wandering, obstacle-seeking walk so that many states have both kinds of candidates.
      const k = Math.floor(rng() * K);
      stepSim(sim, cands[2 * k]! + 0.2, cands[2 * k + 1]! * 0.3);
    }
  }
  t.ok(mixed > 50, `${mixed} of ${states} states had colliding and safe candidates`);
});

t.test('the reward does not depend on anything but (scene, state, action)', async (t) => {
  const sim = createSim(7);
  const a = scoreCandidates(sim, sim.state, cands);
  const b = scoreCandidates(createSim(7), { ...sim.state }, cands);
  t.same(Array.from(a), Array.from(b));
  t.ok(worldClearance(sim.world, sim.state.x, sim.state.y) >= 0.6, 'start is placed clear of obstacles');
});
