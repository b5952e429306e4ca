/**
 * The teacher benchmark: `npx tsx bench/teacher.ts [--model models/teacher/teacher.bundle]
 * [--episodes 200] [--seed 1000] [--json]`.
 *
 * Closed loop on unseen worlds (the teacher's data came from world seeds 100000..): the teacher
 * (through the engine's Scorer and its manifest's feature map), the oracle, and the two baselines,
 * side by side; the targets (teacher ≥ 90% success and ≥ 95% of the oracle's). Then the
 * teacher's decisions against the true reward on fresh states (world seeds 300000..): top-1
 * agreement with the oracle, Spearman, regret; and the cost of one decision: a batched scoring
 * call for the 65 candidates, alone and with the feature assembly. Figures only, no assertions.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openScorer } from '../src/runtime/engine/open.js';
import { loadTrustStore } from '../src/runtime/bundle/keys.js';
import { evaluate, type EvaluateResult } from '../src/sim/episode.js';
import { oraclePolicy, randomPolicy, straightPolicy, type Policy } from '../src/sim/policies.js';
import { modelPolicy } from '../src/sim/model-policy.js';
import { generateDataset } from '../src/sim/generate.js';
import { createSim } from '../src/sim/sim.js';
import { observe } from '../src/sim/observe.js';
import { groupedFromDataset } from '../src/train/data.js';
import { decisionFidelity, scoreSet } from '../src/train/fidelity.js';
import { log } from '../src/telemetry/log.js';

const root = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: root('models/teacher/teacher.bundle') },
    trust: { type: 'string', default: root('models/trusted') },
    episodes: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1000' },
    'fidelity-episodes': { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';
const episodes = Number(a.episodes);
const seed = Number(a.seed);

const { scorer } = await openScorer(a.model!, { trust: loadTrustStore(a.trust!), intraOpThreads: 1 });
const results: EvaluateResult[] = [];
const wall: number[] = [];
for (const p of [modelPolicy(scorer), oraclePolicy(), straightPolicy(), randomPolicy()] as Policy[]) {
  const t0 = performance.now();
  results.push(await evaluate({ episodes, seed, policy: p }));
  wall.push((performance.now() - t0) / 1000);
  if (!a.json) process.stderr.write(`${p.name}: ${(100 * results[results.length - 1]!.successRate).toFixed(1)}% in ${wall[wall.length - 1]!.toFixed(1)} s\n`);
}
const [teacher, oracle] = results as [EvaluateResult, EvaluateResult];

// Decisions on fresh states.
const { dataset } = generateDataset({ episodes: Number(a['fidelity-episodes']), seed: 300000 });
const set = groupedFromDataset(dataset);
const pred = await scoreSet(scorer, set);
const fid = decisionFidelity(set.rewards, pred, set.rewards, set.k);

// Cost of one decision: 65 candidates, one batched call (buffers prefilled), and with features.
const obs = observe(createSim(seed));
const k = scorer.candidates!.count;
const latency = async (f: () => Promise<unknown>, n: number): Promise<{ p50: number; p99: number }> => {
  for (let i = 0; i < 50; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((x, y) => x - y);
  return { p50: t[Math.floor(n / 2)]!, p99: t[Math.floor(n * 0.99)]! };
};
scorer.fillObservation(obs as unknown as Record<string, Record<string, unknown>>);
const run = await latency(() => scorer.scoreBuffers(k), 2000);
const full = await latency(() => scorer.scoreObservation(obs as unknown as Record<string, Record<string, unknown>>), 2000);
await scorer.release();

const out = {
  model: scorer.id,
  worlds: `${seed}..${seed + episodes - 1}`,
  closed_loop: results.map((r, i) => ({ ...r, wall_s: wall[i] })),
  teacher_over_oracle: teacher.successRate / oracle.successRate,
  targets: { teacher_success_ge_90: teacher.successRate >= 0.9, teacher_ge_95pct_oracle: teacher.successRate >= 0.95 * oracle.successRate },
  fidelity_vs_oracle: { states: fid.states, top1Agreement: fid.top1Agreement, spearman: fid.spearman, regret: fid.regret, meanAbsErr: fid.meanAbsErr, maxAbsErr: fid.maxAbsErr },
  decision_ms: { score_65_p50: run.p50, score_65_p99: run.p99, features_and_score_p50: full.p50, features_and_score_p99: full.p99 },
};
if (a.json) {
  process.stdout.write(JSON.stringify(out) + '\n');
} else {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(7);
  const lines = [
    `${out.model} on ${episodes} unseen worlds ${out.worlds}`,
    'policy              success  collide  timeout  to goal   ms/decision',
    ...results.map((r) => `${r.policy.padEnd(18)} ${pct(r.successRate)}  ${pct(r.collisionRate)}  ${pct(r.timeoutRate)}  ${r.meanTimeToGoal.toFixed(2).padStart(6)} s  ${r.meanLatencyMs.toFixed(3).padStart(8)}`),
    `teacher / oracle success: ${pct(out.teacher_over_oracle).trim()}  (targets: teacher ≥ 90%: ${out.targets.teacher_success_ge_90 ? 'met' : 'MISSED'}; ≥ 95% of oracle: ${out.targets.teacher_ge_95pct_oracle ? 'met' : 'MISSED'})`,
    `teacher vs oracle on ${fid.states} fresh states: top-1 ${pct(fid.top1Agreement).trim()}, Spearman ${fid.spearman.toFixed(3)}, regret ${fid.regret.toFixed(4)}, |reward error| mean ${fid.meanAbsErr.toFixed(3)} max ${fid.maxAbsErr.toFixed(2)}`,
    `one decision (65 candidates, 1 batched run): p50 ${run.p50.toFixed(3)} ms, p99 ${run.p99.toFixed(3)} ms; with feature assembly p50 ${full.p50.toFixed(3)} ms, p99 ${full.p99.toFixed(3)} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
