/**
 * Candidate actions from a manifest's action space, as one flat row-major Float32Array
 * (`count` rows × `names.length` columns), built once per model: the loop reuses it.
 */
import { EdgeError } from '../../errors.js';
import type { ActionSpace } from '../bundle/manifest.js';

export interface CandidateSet {
  names: string[];
  count: number;
  /** Row-major, `count * names.length`. */
  values: Float32Array;
}

export function gridValues(min: number, max: number, steps: number): number[] {
  if (steps === 1) return [(min + max) / 2];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(min + ((max - min) * i) / (steps - 1));
  return out;
}

export function candidateSet(space: ActionSpace): CandidateSet {
  if (space.type === 'grid') {
    const names = space.dims.map((d) => d.name);
    const axes = space.dims.map((d) => {
      if (!(d.max >= d.min)) throw new EdgeError('E_ACTION_SPACE', `action "${d.name}" has max ${d.max} below min ${d.min}`);
      return gridValues(d.min, d.max, d.steps);
    });
    const count = axes.reduce((n, a) => n * a.length, 1);
    if (count > 65536) throw new EdgeError('E_ACTION_SPACE', `the action grid has ${count} candidates; at most 65536 are scored per tick`);
    const values = new Float32Array(count * names.length);
    // Last dimension varies fastest, like nested loops written in order.
    for (let r = 0; r < count; r++) {
      let rest = r;
      for (let d = names.length - 1; d >= 0; d--) {
        const axis = axes[d]!;
        values[r * names.length + d] = axis[rest % axis.length]!;
        rest = Math.floor(rest / axis.length);
      }
    }
    return { names, count, values };
  }
  const names = space.names;
  const values = new Float32Array(space.actions.length * names.length);
  space.actions.forEach((a, r) => {
    names.forEach((n, d) => {
      const v = a[n];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EdgeError('E_ACTION_SPACE', `discrete action ${r} has no finite value for "${n}"`);
      }
      values[r * names.length + d] = v;
    });
  });
  return { names, count: space.actions.length, values };
}

/** Row `i` of a candidate set as an object, for publishing the chosen action. */
export function candidateObject(set: CandidateSet, i: number): Record<string, number> {
  const out: Record<string, number> = {};
  const d = set.names.length;
  for (let j = 0; j < d; j++) out[set.names[j]!] = set.values[i * d + j]!;
  return out;
}
