import { DEFAULT_ACTION_GRID, gridCandidates, candidateAt, type Action, type ActionGrid } from './actions.js';
import { clamp } from './kinematics.js';
import type { Observation } from './observe.js';
import { argmax, scoreCandidates } from './reward.js';
import { mulberry32, randInt, type Rng } from './rng.js';
import type { Sim } from './sim.js';

/**
 * A decision maker. `act` sees the observation (what a real robot has) and the sim (what only the
 * privileged oracle may use). `reset` is called with a per-episode seed before the first decision.
 */
export interface Policy {
  readonly name: string;
  reset?(seed: number): void;
  act(sim: Sim, obs: Observation): Action | Promise<Action>;
}

/** One reward per candidate row; candidates are (v, w) rows, K x 2 (see gridCandidates). */
export type ScoreFn = (obs: Observation, candidates: Float32Array) => Float32Array | Promise<Float32Array>;

/** A uniformly random grid action every decision. */
export function randomPolicy(grid: ActionGrid = DEFAULT_ACTION_GRID): Policy {
  const cands = gridCandidates(grid);
  const k = cands.length >> 1;
  let rng: Rng = mulberry32(0);
  return {
    name: 'random',
    reset(seed) {
      rng = mulberry32(seed);
    },
    act: () => candidateAt(cands, randInt(rng, k)),
  };
}

/**
 * Drive straight at the goal, blind to obstacles: w = kp * bearing, and full speed only when roughly
 * facing the goal (so it turns in place first instead of circling).
 */
export function straightPolicy(opts: { kp?: number; vmax?: number; wmax?: number } = {}): Policy {
  const kp = opts.kp ?? 2;
  const vmax = opts.vmax ?? 0.6;
  const wmax = opts.wmax ?? 1.5;
  return {
    name: 'straight',
    act(_sim, obs) {
      const b = obs.goal.bearing;
      return { v: vmax * Math.max(0, Math.cos(b)) ** 2, w: clamp(kp * b, -wmax, wmax) };
    },
  };
}

/** The argmax of the true reward over the grid: the upper bound any reward model can reach. */
export function oraclePolicy(grid: ActionGrid = DEFAULT_ACTION_GRID): Policy {
  const cands = gridCandidates(grid);
  const scores = new Float32Array(cands.length >> 1);
  return {
    name: 'oracle',
    act(sim) {
      scoreCandidates(sim, sim.state, cands, scores);
      return candidateAt(cands, argmax(scores));
    },
  };
}

/**
 * The argmax of any scorer over the grid, e.g. a model run by onnxruntime: `scoreFn` gets the
 * observation and the candidate rows and returns one reward per row.
 */
export function scorerPolicy(scoreFn: ScoreFn, opts: { grid?: ActionGrid; name?: string } = {}): Policy {
  const cands = gridCandidates(opts.grid ?? DEFAULT_ACTION_GRID);
  return {
    name: opts.name ?? 'scorer',
    async act(_sim, obs) {
      const r = await scoreFn(obs, cands);
      return candidateAt(cands, argmax(r));
    },
  };
}
