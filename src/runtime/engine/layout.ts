/**
 * How a model's inputs and reward output are laid out in memory: which inputs carry the
 * candidate (batch) axis, how many floats one candidate row takes, and whether the graph
 * takes any batch size (dynamic axis, one run for all candidates) or a fixed one
 * (scored in chunks of that size, e.g. row by row for a batch of 1).
 * Pure functions over the session's metadata; computed once at load.
 */
import { EdgeError } from '../../errors.js';
import type { TensorSpec } from '../bundle/manifest.js';

export interface InputLayout {
  name: string;
  /** Carries the candidate axis (dim 0); otherwise a fixed tensor shared by all candidates. */
  batched: boolean;
  /** Dims after the batch axis (batched), or the whole shape (not batched). */
  rowShape: number[];
  /** Floats per candidate row (batched) or in the whole tensor (not batched). */
  rowSize: number;
}

export interface ModelLayout {
  inputs: InputLayout[];
  /** 0: dynamic batch axis (one run for any count); otherwise the graph's fixed batch size. */
  fixedBatch: number;
  output: string;
  /** Output dims after the batch axis (product 1), or undefined when the graph leaves them open. */
  outputRowDims: number[] | undefined;
  /** Output dtype as ORT reports it; only float32 outputs are bound to preallocated buffers. */
  outputDtype: string;
}

const isDyn = (d: number | string | undefined): boolean => typeof d !== 'number' || d < 0;
const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

/**
 * @param widths floats per candidate for some inputs (from a manifest's feature plan); used to
 *   resolve one dynamic non-batch dim, and checked against fixed dims.
 */
export function modelLayout(
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  outputName: string | undefined,
  rowShapes: Record<string, number[]> = {},
  widths: Record<string, number> = {},
): ModelLayout {
  if (inputs.length === 0) throw new EdgeError('E_ENGINE_SHAPE', 'the model has no inputs; a reward model needs at least one');
  for (const i of inputs) {
    if (i.dtype !== 'float32') {
      throw new EdgeError('E_ENGINE_DTYPE', `model input "${i.name}" is ${i.dtype}; the engine feeds float32 features only (export the model with float32 inputs)`);
    }
    if (i.shape.length === 0) throw new EdgeError('E_ENGINE_SHAPE', `model input "${i.name}" is a scalar; inputs need a batch axis (dim 0)`);
  }
  const dynamic = inputs.some((i) => isDyn(i.shape[0]));
  let fixedBatch = 0;
  if (!dynamic) {
    fixedBatch = inputs[0]!.shape[0] as number;
    const other = inputs.find((i) => i.shape[0] !== fixedBatch);
    if (other) {
      throw new EdgeError('E_ENGINE_SHAPE', `model inputs disagree on the batch size (${inputs[0]!.name}: ${fixedBatch}, ${other.name}: ${String(other.shape[0])}); export it with a dynamic batch axis`);
    }
  }
  const layouts = inputs.map((i): InputLayout => {
    const batched = fixedBatch > 0 || isDyn(i.shape[0]);
    const dims = batched ? i.shape.slice(1) : i.shape;
    let rowShape: number[];
    const given = rowShapes[i.name];
    if (given) rowShape = given.slice();
    else if (dims.every((d) => !isDyn(d))) rowShape = dims as number[];
    else {
      const open = dims.filter(isDyn).length;
      const known = prod(dims.filter((d) => !isDyn(d)) as number[]);
      const w = widths[i.name];
      if (open === 1 && w !== undefined && w % known === 0) rowShape = dims.map((d) => (isDyn(d) ? w / known : (d as number)));
      else {
        throw new EdgeError('E_ENGINE_SHAPE', `model input "${i.name}" has shape [${i.shape.join(', ')}] with open dims besides the batch axis; give its per-candidate shape (rowShapes) or export it with fixed dims`);
      }
    }
    const rowSize = prod(rowShape);
    const w = widths[i.name];
    if (w !== undefined && batched && w !== rowSize) {
      throw new EdgeError('E_FEATURE_MAP', `the feature map fills ${w} columns of input "${i.name}", but the model takes ${rowSize} per candidate (shape [${i.shape.join(', ')}])`);
    }
    return { name: i.name, batched, rowShape, rowSize };
  });
  const out = outputName === undefined ? outputs[0] : outputs.find((o) => o.name === outputName);
  if (!out) {
    throw new EdgeError('E_ENGINE_OUTPUT', `the model has no output "${String(outputName)}" (it has ${outputs.map((o) => o.name).join(', ') || 'none'}); fix output.name in the manifest`);
  }
  let outputRowDims: number[] | undefined;
  if (out.shape.length >= 1 && out.shape.slice(1).every((d) => !isDyn(d))) {
    outputRowDims = out.shape.slice(1) as number[];
    if (prod(outputRowDims) !== 1) {
      throw new EdgeError('E_ENGINE_OUTPUT', `output "${out.name}" has shape [${out.shape.join(', ')}]; a reward model gives one value per candidate ([batch] or [batch, 1])`);
    }
    if (fixedBatch > 0 && out.shape[0] !== fixedBatch) outputRowDims = undefined;
  }
  return { inputs: layouts, fixedBatch, output: out.name, outputRowDims, outputDtype: out.dtype };
}
