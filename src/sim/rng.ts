/**
 * The simulator's seeded randomness: the shared PRNG (mulberry32, `src/rng.ts`) and the draws
 * built on it. The task must be reproducible from a seed alone (worlds, noisy policies, dataset).
 */
import type { Rng } from '../rng.js';

export { mulberry32, type Rng } from '../rng.js';

/**
 * A seed for a sub-stream (world, policy noise, ...) derived from a base seed and a salt, so that
 * adding draws to one stream never shifts another.
 */
export function deriveSeed(seed: number, salt: number): number {
  let h = (seed ^ Math.imul(salt + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** An integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A standard normal draw (Box-Muller; one value per call keeps the stream simple). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
