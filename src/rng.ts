/**
 * The one seeded PRNG: mulberry32. Math.random cannot be seeded, and what must be reproducible
 * from a seed alone (the simulator's worlds and datasets, softmax decisions on replay) needs the
 * same stream on every Node version. Pure and dependency-free, so any layer may import it.
 */
export type Rng = () => number;

/** A generator of uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
