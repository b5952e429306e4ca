import { DEFAULT_ACTION_GRID, gridCandidates, type ActionGrid } from './actions.js';
import { resolveConfig, type SimConfigInput } from './config.js';
import type { Dataset } from './dataset.js';
import { DEFAULT_FEATURE_MAP, featureMapFor, featuresFromMap, observationFeatures } from './features.js';
import { clamp } from './kinematics.js';
import { observe } from './observe.js';
import { argmax, scoreCandidates } from './reward.js';
import { deriveSeed, gaussian, mulberry32, randInt, uniform } from './rng.js';
import { createSim, stepSim } from './sim.js';

export interface GenerateOptions {
  episodes: number;
  /** Episode i uses world seed + i; keep it clear of the evaluation seeds (bench uses 1000..1199). */
  seed: number;
  config?: SimConfigInput;
  grid?: ActionGrid;
  /** Called after each episode. */
  onProgress?: (p: { episode: number; episodes: number; states: number }) => void;
}

export interface GenerateStats {
  episodes: number;
  states: number;
  /** Wall-clock seconds. */
  seconds: number;
  statesPerSecond: number;
  /** CPU seconds of this process (user + system): the figure to trust on a shared machine. */
  cpuSeconds: number;
  statesPerCpuSecond: number;
  outcomes: { goal: number; collision: number; timeout: number };
  /** Episodes per behaviour. */
  behaviours: Record<Behaviour, number>;
}

export type Behaviour = 'oracle' | 'epsilon' | 'perturbed';

/** A growable Float32Array: datasets are sized by how long episodes last, unknown in advance. */
class Grow {
  a: Float32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Float32Array(cap);
  }
  reserve(k: number): number {
    if (this.n + k > this.a.length) {
      const b = new Float32Array(Math.max(this.a.length * 2, this.n + k));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    const o = this.n;
    this.n += k;
    return o;
  }
}

/**
 * States visited by a mix of behaviours, each labelled with the true reward of every candidate.
 * The oracle alone would only visit comfortable states; epsilon-random (held random actions) and
 * perturbed-oracle (Gaussian noise on v and w) episodes drive near obstacles and into them, so the
 * model also learns what collisions cost. Per episode: 30% oracle, 35% epsilon, 35% perturbed.
 */
export function generateDataset(o: GenerateOptions): { dataset: Dataset; stats: GenerateStats } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const grid = o.grid ?? DEFAULT_ACTION_GRID;
  const cands = gridCandidates(grid);
  const k = cands.length >> 1;
  const config = resolveConfig(o.config);
  const map = featureMapFor(config);
  const obsMap = map.filter((c) => !('action' in c));
  const f = obsMap.length;
  // The hand-written reference assembler when the map is the default one, else the generic one.
  const reference = JSON.stringify(map) === JSON.stringify(DEFAULT_FEATURE_MAP);
  const tmp = new Float32Array(f);
  const feats = new Grow(1 << 16);
  const rews = new Grow(1 << 16);
  const eps: number[] = [];
  const scores = new Float32Array(k);
  const outcomes = { goal: 0, collision: 0, timeout: 0 };
  const behaviours: Record<Behaviour, number> = { oracle: 0, epsilon: 0, perturbed: 0 };
  for (let e = 0; e < o.episodes; e++) {
    const sim = createSim(o.seed + e, o.config);
    const lim = sim.config.limits;
    const rng = mulberry32(deriveSeed(o.seed + e, 3));
    const u = rng();
    const behaviour: Behaviour = u < 0.3 ? 'oracle' : u < 0.65 ? 'epsilon' : 'perturbed';
    behaviours[behaviour]++;
    const epsilon = uniform(rng, 0.1, 0.4);
    const sigmaV = uniform(rng, 0.05, 0.25);
    const sigmaW = uniform(rng, 0.2, 0.8);
    let held = 0;
    let hv = 0;
    let hw = 0;
    while (sim.status === 'running') {
      const obs = observe(sim);
      const fo = feats.reserve(f);
      if (reference) observationFeatures(obs, feats.a, fo);
      else feats.a.set(featuresFromMap(obsMap, obs, { v: 0, w: 0 }, tmp), fo);
      const ro = rews.reserve(k);
      scoreCandidates(sim, sim.state, cands, scores);
      rews.a.set(scores, ro);
      eps.push(e);
      const best = argmax(scores);
      let v = cands[2 * best]!;
      let w = cands[2 * best + 1]!;
      if (behaviour === 'epsilon') {
        if (held === 0 && rng() < epsilon) {
          const r = randInt(rng, k);
          hv = cands[2 * r]!;
          hw = cands[2 * r + 1]!;
          held = 1 + randInt(rng, 8);
        }
        if (held > 0) {
          v = hv;
          w = hw;
          held--;
        }
      } else if (behaviour === 'perturbed') {
        v = clamp(v + sigmaV * gaussian(rng), lim.vmin, lim.vmax);
        w = clamp(w + sigmaW * gaussian(rng), -lim.wmax, lim.wmax);
      }
      stepSim(sim, v, w);
    }
    outcomes[sim.status as keyof typeof outcomes]++;
    o.onProgress?.({ episode: e + 1, episodes: o.episodes, states: eps.length });
  }
  const n = eps.length;
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  const dataset: Dataset = {
    meta: { grid, featureMap: map, seed: o.seed, episodes: o.episodes, generator: 'edgereward sim generateDataset' },
    states: n,
    featureDim: f,
    candidateCount: k,
    actionDim: 2,
    candidates: cands,
    features: feats.a.slice(0, feats.n),
    rewards: rews.a.slice(0, rews.n),
    episode: Uint32Array.from(eps),
  };
  return {
    dataset,
    stats: { episodes: o.episodes, states: n, seconds, statesPerSecond: n / Math.max(seconds, 1e-9),
      cpuSeconds,
      statesPerCpuSecond: n / Math.max(cpuSeconds, 1e-9),
      outcomes, behaviours },
  };
}
