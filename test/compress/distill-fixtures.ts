/** A tiny distillation problem for tests (no TF.js, no files). */
import type { GroupedSet } from '../../src/train/groups.js';
import { mulberry32 } from '../../src/sim/rng.js';

/** 6 observation columns, 3 × 3 candidates; the "teacher" prefers a state-dependent turn. */
export function tinyProblem(states: number, seed: number): { set: GroupedSet; teacher: Float32Array } {
  const rng = mulberry32(seed);
  const k = 9;
  const obsDim = 6;
  const obs = new Float32Array(states * obsDim).map(() => rng());
  const act = new Float32Array(k * 2);
  for (let c = 0; c < k; c++) {
    act[2 * c] = Math.floor(c / 3) / 2;
    act[2 * c + 1] = (c % 3) - 1;
  }
  const rewards = new Float32Array(states * k);
  const teacher = new Float32Array(states * k);
  for (let s = 0; s < states; s++) {
    for (let c = 0; c < k; c++) {
      const v = act[2 * c]!;
      const w = act[2 * c + 1]!;
      const r = v * obs[s * obsDim]! - (w - (2 * obs[s * obsDim + 1]! - 1)) ** 2;
      rewards[s * k + c] = r;
      teacher[s * k + c] = r + 0.05 * Math.sin(7 * obs[s * obsDim + 2]! + c);
    }
  }
  return { set: { states, k, obsDim, actDim: 2, obs, act, rewards }, teacher };
}

