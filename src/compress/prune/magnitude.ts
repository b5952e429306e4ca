/**
 * Unstructured magnitude pruning, W' = W·I(|W| > τ) (the seed's form), by threshold or by target
 * sparsity — global (one τ for all layers) or per layer (each layer loses the same share).
 * With a target sparsity the count is exact: the ⌊s·n⌋ smallest |w| are zeroed, ties broken by
 * position, so the reported sparsity is what was asked for.
 */

/** Zero |w| ≤ τ in place; returns how many values are zero afterwards. */
export function pruneByThreshold(w: Float32Array, tau: number): number {
  if (!(tau >= 0)) throw new RangeError(`"threshold" must be ≥ 0 (got ${tau})`);
  let zeros = 0;
  for (let i = 0; i < w.length; i++) {
    if (Math.abs(w[i]!) <= tau) w[i] = 0;
    if (w[i] === 0) zeros++;
  }
  return zeros;
}

/** Indices of the k smallest |values| across several arrays: returns per-array masks of pruned positions. */
export function smallestMasks(arrays: Float32Array[], k: number): Uint8Array[] {
  const total = arrays.reduce((a, w) => a + w.length, 0);
  if (!Number.isInteger(k) || k < 0 || k > total) throw new RangeError(`cannot prune ${k} of ${total} values`);
  const mag = new Float32Array(total);
  const owner = new Uint32Array(total);
  const pos = new Uint32Array(total);
  let o = 0;
  arrays.forEach((w, a) => {
    for (let i = 0; i < w.length; i++, o++) {
      mag[o] = Math.abs(w[i]!);
      owner[o] = a;
      pos[o] = i;
    }
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((x, y) => mag[x]! - mag[y]! || x - y);
  const masks = arrays.map((w) => new Uint8Array(w.length));
  for (let i = 0; i < k; i++) {
    const j = order[i]!;
    masks[owner[j]!]![pos[j]!] = 1;
  }
  return masks;
}

/**
 * Prune to a target sparsity in place. `perLayer`: each array loses ⌊s·nᵢ⌋ values; else the
 * ⌊s·Σn⌋ globally smallest. Returns the number of values set to zero.
 */
export function pruneToSparsity(arrays: Float32Array[], sparsity: number, perLayer = false): number {
  if (!(sparsity >= 0 && sparsity < 1)) throw new RangeError(`"sparsity" must be in [0, 1) (got ${sparsity})`);
  let pruned = 0;
  const apply = (ws: Float32Array[], masks: Uint8Array[]) =>
    ws.forEach((w, a) => {
      const m = masks[a]!;
      for (let i = 0; i < w.length; i++) if (m[i]) { w[i] = 0; pruned++; }
    });
  if (perLayer) {
    for (const w of arrays) apply([w], smallestMasks([w], Math.floor(sparsity * w.length)));
  } else {
    const total = arrays.reduce((a, w) => a + w.length, 0);
    apply(arrays, smallestMasks(arrays, Math.floor(sparsity * total)));
  }
  return pruned;
}
