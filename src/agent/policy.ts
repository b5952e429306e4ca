/**
 * Policies: pick one candidate from the rewards. Both return -1 when no reward is finite,
 * which the safety check turns into a fallback. No allocation per call.
 */
import { mulberry32 } from '../rng.js';

export type PolicyFn = (rewards: Float32Array, count: number) => number;

/** The index of the largest finite reward (first wins on ties); -1 if none is finite. */
export function argmax(rewards: Float32Array, count: number): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < count; i++) {
    const r = rewards[i]!;
    if (r > bv && r !== Infinity) {
      bv = r;
      best = i;
    }
  }
  return best;
}

/** mulberry32 (`src/rng.ts`): a small seeded PRNG, so softmax decisions replay exactly. */
export { mulberry32 as seededRandom } from '../rng.js';

/**
 * Sample from softmax(rewards / temperature). Subtracts the max before exp (no overflow);
 * non-finite rewards get probability 0. Temperature → 0 approaches argmax.
 */
export function softmax(temperature: number, random: () => number): PolicyFn {
  if (!(temperature > 0)) throw new RangeError(`"temperature" must be > 0, got ${temperature}`);
  return (rewards, count) => {
    const top = argmax(rewards, count);
    if (top < 0) return -1;
    const m = rewards[top]!;
    let z = 0;
    for (let i = 0; i < count; i++) {
      const r = rewards[i]!;
      if (Number.isFinite(r)) z += Math.exp((r - m) / temperature);
    }
    let u = random() * z;
    for (let i = 0; i < count; i++) {
      const r = rewards[i]!;
      if (!Number.isFinite(r)) continue;
      u -= Math.exp((r - m) / temperature);
      if (u <= 0) return i;
    }
    return top;
  };
}

export interface PolicyOptions {
  kind: 'argmax' | 'softmax';
  /** softmax only; default 1. */
  temperature?: number;
  /** softmax only; default 1. */
  seed?: number;
}

export function makePolicy(o: PolicyOptions): PolicyFn {
  if (o.kind === 'argmax') return argmax;
  return softmax(o.temperature ?? 1, mulberry32(o.seed ?? 1));
}
