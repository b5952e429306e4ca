import t from 'tap';
import { evaluate, runEpisode } from '../../src/sim/episode.js';
import { oraclePolicy, randomPolicy, scorerPolicy, straightPolicy } from '../../src/sim/policies.js';
import { renderEpisodeSvg } from '../../src/sim/render.js';
import { scoreCandidates } from '../../src/sim/reward.js';
import { createSim } from '../../src/sim/sim.js';
import { generateWorld } from '../../src/sim/world.js';

t.test('worlds and episodes are deterministic for a seed', async (t) => {
  t.same(generateWorld(42), generateWorld(42));
  t.not(JSON.stringify(generateWorld(42)), JSON.stringify(generateWorld(43)));
  for (const mk of [randomPolicy, oraclePolicy, straightPolicy]) {
    const a = await runEpisode(9, mk(), { record: true });
    const b = await runEpisode(9, mk(), { record: true });
    t.same(a.trajectory, b.trajectory, `${a.sim.status} ${mk.name}`);
    t.equal(a.outcome, b.outcome);
  }
});

t.test('a short oracle evaluation reaches every goal', async (t) => {
  const r = await evaluate({ episodes: 4, seed: 1000, policy: oraclePolicy() });
  t.equal(r.episodes, 4);
  t.equal(r.successRate, 1);
  t.equal(r.collisionRate, 0);
  t.ok(r.meanTimeToGoal > 5 && r.meanTimeToGoal < 40, `mean time to goal ${r.meanTimeToGoal} s`);
  t.ok(r.meanLatencyMs > 0);
});

t.test('scorerPolicy with an async true-reward scorer drives like the oracle', async (t) => {
  // The scorer gets only the observation; this one peeks at the sim to reproduce the oracle.
  let sim = createSim(1001);
  const scorer = scorerPolicy(async (_obs, cands) => scoreCandidates(sim, sim.state, cands), { name: 'true-reward' });
  const wrapped = { name: scorer.name, act: (s: typeof sim, o: Parameters<typeof scorer.act>[1]) => ((sim = s), scorer.act(s, o)) };
  const a = await runEpisode(1001, wrapped, { record: true });
  const b = await runEpisode(1001, oraclePolicy(), { record: true });
  t.same(a.trajectory, b.trajectory);
});

t.test('renderEpisodeSvg draws the parts', async (t) => {
  const r = await runEpisode(1002, oraclePolicy(), { record: true });
  const svg = renderEpisodeSvg(r.sim.world, r.trajectory!, { title: 'x < y' });
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.match(svg, /<\/svg>$/);
  t.match(svg, /x &lt; y/, 'title escaped');
  const count = (re: RegExp) => (svg.match(re) ?? []).length;
  t.ok(count(/stroke="#ff7f0e"/g) >= 64, 'lidar rays at two points');
  t.ok(count(/<polyline[^>]*stroke="rgb\(/g) >= 3 * 65, 'candidate arcs at three points');
  t.ok(count(/fill="#7f7f7f"/g) >= r.sim.world.circles.length + r.sim.world.boxes.length, 'obstacles');
  t.match(svg, /true reward/);
});
