/**
 * A reward model driving the simulated robot through the engine's Scorer: one batched call per
 * decision over the action grid, then the argmax. With a bundle the observation goes through the
 * manifest's feature map (the device's path, so evaluation also checks the shipped feature map);
 * a bare .onnx file gets the simulator's own feature vectors.
 */
import { EdgeError } from '../errors.js';
import type { Scorer } from '../runtime/engine/scorer.js';
import { candidateAt, DEFAULT_ACTION_GRID, gridCandidates, type ActionGrid } from './actions.js';
import { candidateFeatures, FEATURE_DIM } from './features.js';
import type { Observation } from './observe.js';
import { argmax } from './reward.js';
import { scorerPolicy, type Policy, type ScoreFn } from './policies.js';

/** The scoring function of a model for the grid's candidates (K rewards per observation). */
export function modelScoreFn(scorer: Scorer, grid: ActionGrid = DEFAULT_ACTION_GRID): ScoreFn {
  const cands = gridCandidates(grid);
  const k = cands.length >> 1;
  const set = scorer.candidates;
  if (set) {
    const same = set.count === k && set.names.join(',') === grid.dims.map((d) => d.name).join(',') && set.values.every((v, i) => Math.abs(v - cands[i]!) < 1e-6);
    if (!same) {
      throw new EdgeError('E_SIM_MODEL', `model ${scorer.id} scores ${set.count} candidates (${set.names.join(', ')}), not the simulator's ${k}-action (v, w) grid; evaluate it with the action space it was trained on`);
    }
    return async (obs: Observation) => {
      const r = await scorer.scoreObservation(obs as unknown as Record<string, Record<string, unknown>>);
      if (r.nonFinite > 0) throw new EdgeError('E_SIM_MODEL', `model ${scorer.id}'s feature map read ${r.nonFinite} non-finite values from the observation; check its streams against lidar, odom and goal`);
      return r.rewards;
    };
  }
  const inputs = scorer.inputs;
  const width = inputs[0]?.shape[inputs[0].shape.length - 1];
  if (inputs.length !== 1 || (typeof width === 'number' && width !== FEATURE_DIM)) {
    throw new EdgeError('E_SIM_MODEL', `model ${scorer.id} has no manifest and does not take one ${FEATURE_DIM}-column input; package it as a bundle with a feature map`);
  }
  return async (obs: Observation) => {
    const [buf] = scorer.inputBuffers(k);
    candidateFeatures(obs, cands, buf);
    return scorer.scoreBuffers(k);
  };
}

/** The argmax of a model over the grid, as a simulator policy named after the model. */
export function modelPolicy(scorer: Scorer, grid: ActionGrid = DEFAULT_ACTION_GRID): Policy {
  return scorerPolicy(modelScoreFn(scorer, grid), { grid, name: scorer.id });
}

/**
 * A model policy that also keeps a copy of every decision's candidate scores (index = decision
 * number = trajectory index of the state scored), for pictures of what the model saw.
 */
export function recordingModelPolicy(scorer: Scorer, grid: ActionGrid = DEFAULT_ACTION_GRID): Policy & { scores: Float32Array[] } {
  const score = modelScoreFn(scorer, grid);
  const cands = gridCandidates(grid);
  const scores: Float32Array[] = [];
  return {
    name: scorer.id,
    scores,
    reset() {
      scores.length = 0;
    },
    async act(_sim, obs) {
      const r = Float32Array.from(await score(obs, cands));
      scores.push(r);
      return candidateAt(cands, argmax(r));
    },
  };
}
