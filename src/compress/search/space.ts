/**
 * The search space of student reward models: depth, widths and activation of the MLP, and the
 * compression applied after distillation (weight bits, share of hidden units pruned).
 */
import type { Rng } from '../../sim/rng.js';
import type { HiddenActivation } from '../../train/mlp.js';

export interface Candidate {
  hidden: number[];
  activation: HiddenActivation;
  /** 32 = float weights, 8 = int8 (static quantization calibrated on the data). */
  bits: 8 | 32;
  /** Share of hidden units removed by structured pruning after distillation (0 = none). */
  sparsity: number;
}

export interface SearchSpace {
  depths: number[];
  widths: number[];
  activations: HiddenActivation[];
  bits: Array<8 | 32>;
  sparsities: number[];
}

export const DEFAULT_SPACE: SearchSpace = {
  depths: [1, 2, 3],
  widths: [8, 16, 24, 32, 48, 64, 96, 128],
  activations: ['relu', 'tanh'],
  bits: [32, 8],
  sparsities: [0, 0.25, 0.5],
};

export function candidateKey(c: Candidate): string {
  return `${c.activation}-${c.hidden.join('x')}-b${c.bits}-s${c.sparsity}`;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

export function randomCandidate(rng: Rng, s: SearchSpace): Candidate {
  const depth = pick(rng, s.depths);
  // Funnel shapes are the usual good MLPs: draw widths and sort them descending.
  const hidden = Array.from({ length: depth }, () => pick(rng, s.widths)).sort((a, b) => b - a);
  return { hidden, activation: pick(rng, s.activations), bits: pick(rng, s.bits), sparsity: pick(rng, s.sparsities) };
}

/** One random change: a width up or down a step, a layer added or removed, activation, bits or sparsity. */
export function mutate(c: Candidate, rng: Rng, s: SearchSpace): Candidate {
  const out: Candidate = { ...c, hidden: [...c.hidden] };
  const step = (w: number, d: number): number => {
    const i = s.widths.indexOf(w);
    const j = Math.max(0, Math.min(s.widths.length - 1, (i < 0 ? 0 : i) + d));
    return s.widths[j]!;
  };
  const r = rng();
  if (r < 0.45) {
    const i = Math.floor(rng() * out.hidden.length);
    out.hidden[i] = step(out.hidden[i]!, rng() < 0.5 ? -1 : 1);
  } else if (r < 0.6 && out.hidden.length < Math.max(...s.depths)) {
    out.hidden.push(out.hidden[out.hidden.length - 1]!);
  } else if (r < 0.7 && out.hidden.length > Math.min(...s.depths)) {
    out.hidden.splice(Math.floor(rng() * out.hidden.length), 1);
  } else if (r < 0.8) {
    out.activation = pick(rng, s.activations);
  } else if (r < 0.9) {
    out.bits = pick(rng, s.bits);
  } else {
    out.sparsity = pick(rng, s.sparsities);
  }
  return out;
}

/** Hidden units a candidate keeps after structured pruning (what it costs at run time). */
export function effectiveHidden(c: Candidate): number[] {
  return c.hidden.map((h) => Math.max(1, h - Math.floor(h * c.sparsity)));
}
