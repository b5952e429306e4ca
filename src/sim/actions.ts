import { EdgeError } from '../errors.js';

export interface Action {
  v: number;
  w: number;
}

export interface GridDim {
  name: string;
  min: number;
  max: number;
  steps: number;
}

/** The action-space shape that goes into model manifests. */
export interface ActionGrid {
  type: 'grid';
  dims: GridDim[];
}

/** 5 speeds x 13 turn rates = 65 candidates. */
export const DEFAULT_ACTION_GRID: ActionGrid = Object.freeze({
  type: 'grid',
  dims: [
    { name: 'v', min: 0, max: 0.6, steps: 5 },
    { name: 'w', min: -1.5, max: 1.5, steps: 13 },
  ],
}) as ActionGrid;

function dimValue(d: GridDim, i: number): number {
  return d.steps === 1 ? d.min : d.min + ((d.max - d.min) * i) / (d.steps - 1);
}

/**
 * The candidates as rows of a Float32Array (K x dims), the first dim varying slowest: for the default
 * grid, row k = [v_{floor(k/13)}, w_{k mod 13}]. This is the candidate order of the dataset and of
 * the model's batch.
 */
export function gridCandidates(grid: ActionGrid = DEFAULT_ACTION_GRID): Float32Array {
  if (grid.type !== 'grid' || grid.dims.length === 0 || grid.dims.some((d) => !(d.steps >= 1))) {
    throw new EdgeError('E_SIM_GRID', 'an action grid needs type "grid" and dims with steps >= 1');
  }
  const a = grid.dims.length;
  const k = grid.dims.reduce((n, d) => n * d.steps, 1);
  const out = new Float32Array(k * a);
  for (let r = 0; r < k; r++) {
    let rest = r;
    for (let j = a - 1; j >= 0; j--) {
      const d = grid.dims[j]!;
      out[r * a + j] = dimValue(d, rest % d.steps);
      rest = Math.floor(rest / d.steps);
    }
  }
  return out;
}

/** Row `k` of a (v, w) candidate matrix as an action. */
export function candidateAt(cands: Float32Array, k: number): Action {
  return { v: cands[2 * k]!, w: cands[2 * k + 1]! };
}
