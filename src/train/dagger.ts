/**
 * On-policy data (DAgger, Ross et al. 2011): run a trained model in closed loop and label every
 * state it visits with the true reward of every candidate. A model trained only on the expert's
 * and noisy experts' states has never seen the situations its own small errors lead to (an
 * obstacle close ahead after a slightly late turn), and that is where it collides; these states
 * teach it exactly there. Same layout as the simulator's dataset (docs/dataset.md).
 */
import { DEFAULT_ACTION_GRID, gridCandidates, type ActionGrid } from '../sim/actions.js';
import type { Dataset } from '../sim/dataset.js';
import { DEFAULT_FEATURE_MAP, OBS_FEATURE_DIM, observationFeatures } from '../sim/features.js';
import { observe, type Observation } from '../sim/observe.js';
import { argmax, scoreCandidates } from '../sim/reward.js';
import { deriveSeed, mulberry32, randInt } from '../sim/rng.js';
import { createSim, stepSim } from '../sim/sim.js';

export interface OnPolicyOptions {
  /** The model's scores of the grid's candidates for an observation (e.g. modelScoreFn). */
  score: (obs: Observation, candidates: Float32Array) => Float32Array | Promise<Float32Array>;
  episodes: number;
  /** Episode i runs world seed + i (keep clear of the evaluation worlds). */
  seed: number;
  /** Share of episodes where, with probability `epsilon` per decision, a random candidate is held for 1–5 decisions (default 0.5, 0.1). */
  noisyShare?: number;
  epsilon?: number;
  grid?: ActionGrid;
  onProgress?: (p: { episode: number; episodes: number; states: number; goals: number }) => void;
}

/** States visited by the model (default feature map and config), with every candidate's true reward. */
export async function collectOnPolicy(o: OnPolicyOptions): Promise<{ dataset: Dataset; goals: number; collisions: number; seconds: number }> {
  const t0 = performance.now();
  const grid = o.grid ?? DEFAULT_ACTION_GRID;
  const cands = gridCandidates(grid);
  const k = cands.length >> 1;
  const f = OBS_FEATURE_DIM;
  const feats: Float32Array[] = [];
  const rews: Float32Array[] = [];
  const eps: number[] = [];
  let goals = 0;
  let collisions = 0;
  const noisyShare = o.noisyShare ?? 0.5;
  const epsilon = o.epsilon ?? 0.1;
  for (let e = 0; e < o.episodes; e++) {
    const sim = createSim(o.seed + e);
    const rng = mulberry32(deriveSeed(o.seed + e, 11));
    const noisy = rng() < noisyShare;
    let held = 0;
    let hk = 0;
    while (sim.status === 'running') {
      const obs = observe(sim);
      feats.push(observationFeatures(obs, new Float32Array(f)));
      rews.push(scoreCandidates(sim, sim.state, cands, new Float32Array(k)));
      eps.push(e);
      let c = argmax(await o.score(obs, cands));
      if (noisy) {
        if (held === 0 && rng() < epsilon) {
          hk = randInt(rng, k);
          held = 1 + randInt(rng, 5);
        }
        if (held > 0) {
          c = hk;
          held--;
        }
      }
      stepSim(sim, cands[2 * c]!, cands[2 * c + 1]!);
    }
    if (sim.status === 'goal') goals++;
    else if (sim.status === 'collision') collisions++;
    o.onProgress?.({ episode: e + 1, episodes: o.episodes, states: eps.length, goals });
  }
  const n = eps.length;
  const features = new Float32Array(n * f);
  const rewards = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    features.set(feats[i]!, i * f);
    rewards.set(rews[i]!, i * k);
  }
  const dataset: Dataset = {
    meta: { grid, featureMap: [...DEFAULT_FEATURE_MAP], seed: o.seed, episodes: o.episodes, generator: 'edgereward train collectOnPolicy (DAgger)' },
    states: n,
    featureDim: f,
    candidateCount: k,
    actionDim: 2,
    candidates: cands,
    features,
    rewards,
    episode: Uint32Array.from(eps),
  };
  return { dataset, goals, collisions, seconds: (performance.now() - t0) / 1000 };
}
