/**
 * Reference-task figures (issue 3): closed-loop success, collisions and time to goal of the random,
 * straight-to-goal and oracle policies over 200 seeded episodes (worlds 1000..1199), then dataset
 * generation throughput. Run: npx tsx bench/sim.ts [episodes] [datasetEpisodes]
 */
import { evaluate, type EvaluateResult } from '../src/sim/episode.js';
import { generateDataset } from '../src/sim/generate.js';
import { oraclePolicy, randomPolicy, straightPolicy } from '../src/sim/policies.js';

const episodes = Number(process.argv[2] ?? 200);
const dataEpisodes = Number(process.argv[3] ?? 100);
const seed = 1000;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);
const row = (r: EvaluateResult, wall: number) =>
  `${r.policy.padEnd(9)} ${pct(r.successRate)} ${pct(r.collisionRate)} ${pct(r.timeoutRate)} ${(Number.isNaN(r.meanTimeToGoal) ? '-' : r.meanTimeToGoal.toFixed(1) + ' s').padStart(9)} ${r.meanLatencyMs.toFixed(3).padStart(10)} ${wall.toFixed(1).padStart(7)}`;

console.log(`closed loop: ${episodes} episodes, worlds ${seed}..${seed + episodes - 1}`);
console.log(`policy    success collide timeout  to goal  decide ms  wall s`);
for (const policy of [randomPolicy(), straightPolicy(), oraclePolicy()]) {
  const t0 = performance.now();
  const r = await evaluate({ episodes, seed, policy });
  console.log(row(r, (performance.now() - t0) / 1000));
}
console.log('targets: random < 20%, straight < 60%, oracle >= 95%');

const { stats } = generateDataset({ episodes: dataEpisodes, seed: 1_000_000 });
console.log(
  `\ndataset: ${stats.episodes} episodes (${stats.behaviours.oracle} oracle, ${stats.behaviours.epsilon} epsilon-random, ${stats.behaviours.perturbed} perturbed), ` +
    `${stats.states} states, outcomes goal ${stats.outcomes.goal} / collision ${stats.outcomes.collision} / timeout ${stats.outcomes.timeout}`,
);
console.log(
  `throughput: ${stats.statesPerSecond.toFixed(0)} states/s wall (${stats.seconds.toFixed(1)} s), ` +
    `${stats.statesPerCpuSecond.toFixed(0)} states/s per CPU second (${stats.cpuSeconds.toFixed(1)} s CPU; ` +
    `65 candidate rollouts + 32-beam lidar per state, one core)`,
);
console.log(`size: ${((stats.states * (37 + 65 + 1) * 4) / 1e6).toFixed(1)} MB (${(37 + 65 + 1) * 4} B per state)`);
