/**
 * From trained weights to what a device loads: the ONNX graph (Gemm per layer, written through
 * onnx-proto by buildMlpModel) and the manifest part of a bundle — the simulator's feature map in
 * the manifest's terms, the action grid, the output's meaning.
 */
import { buildMlpModel, type DenseLayer } from '../compress/onnx/build.js';
import type { ActionSpace, FeatureColumn, InputFeatures, ObservationColumn } from '../runtime/bundle/manifest.js';
import type { ManifestPart } from '../runtime/bundle/create.js';
import type { ActionGrid } from '../sim/actions.js';
import type { FeatureColumn as SimColumn } from '../sim/features.js';

export const TEACHER_INPUT = 'x';
export const TEACHER_OUTPUT = 'reward';

/** The ONNX bytes of a trained MLP: input `x` [batch, inDim] → output `reward` [batch, 1]. */
export function mlpToOnnx(layers: DenseLayer[], docString = ''): Uint8Array {
  return buildMlpModel({ inputName: TEACHER_INPUT, outputName: TEACHER_OUTPUT, layers, opset: 17, producer: 'edgereward-train', docString });
}

function sameObs(a: ObservationColumn, b: ObservationColumn): boolean {
  return (
    a.stream === b.stream &&
    a.field === b.field &&
    a.scale === b.scale &&
    a.offset === b.offset &&
    a.fn === b.fn &&
    (a.clip?.[0] ?? null) === (b.clip?.[0] ?? null) &&
    (a.clip?.[1] ?? null) === (b.clip?.[1] ?? null)
  );
}

/**
 * The simulator's feature map (`value·scale + offset`, then clip) as manifest columns
 * (`(value − offset)·scale`, then clip): offset' = −offset/scale. Consecutive indexed columns of
 * one field with the same transform collapse into one column with `count` (32 lidar beams → 1).
 */
export function manifestFeatures(map: readonly SimColumn[], input = TEACHER_INPUT): InputFeatures[] {
  const cols: FeatureColumn[] = [];
  for (const c of map) {
    const offset = c.offset === undefined || c.offset === 0 ? undefined : -c.offset / c.scale;
    if ('action' in c) {
      cols.push({ action: c.action, scale: c.scale, ...(offset !== undefined ? { offset } : {}), ...(c.clip ? { clip: [c.clip[0], c.clip[1]] as [number, number] } : {}) });
      continue;
    }
    const col: ObservationColumn = {
      stream: c.stream,
      field: c.field,
      ...(c.index !== undefined ? { index: c.index } : {}),
      scale: c.scale,
      ...(offset !== undefined ? { offset } : {}),
      ...(c.clip ? { clip: [c.clip[0], c.clip[1]] as [number, number] } : {}),
      ...(c.fn ? { fn: c.fn } : {}),
    };
    const prev = cols[cols.length - 1];
    if (prev && !('action' in prev) && prev.index !== undefined && col.index !== undefined && sameObs(prev, col) && prev.index + (prev.count ?? 1) === col.index) {
      prev.count = (prev.count ?? 1) + 1;
      continue;
    }
    cols.push(col);
  }
  return [{ input, per: 'candidate', columns: cols }];
}

export function manifestActions(grid: ActionGrid): ActionSpace {
  return { type: 'grid', dims: grid.dims.map((d) => ({ name: d.name, min: d.min, max: d.max, steps: d.steps })) };
}

export interface TeacherManifestOptions {
  name: string;
  version: string;
  description: string;
  featureMap: readonly SimColumn[];
  grid: ActionGrid;
  provenance: Record<string, unknown>;
}

/** The manifest a reward model of the reference task ships with (createBundle fills files and model). */
export function rewardManifest(o: TeacherManifestOptions): ManifestPart {
  return {
    name: o.name,
    version: o.version,
    description: o.description,
    created: new Date().toISOString(),
    features: manifestFeatures(o.featureMap),
    actions: manifestActions(o.grid),
    output: {
      name: TEACHER_OUTPUT,
      meaning: 'predicted true reward of executing the candidate (v, w) for 1 s in the reference task: progress toward the goal minus collision, proximity and effort costs; higher is better, the robot takes the argmax',
    },
    provenance: o.provenance,
  };
}
