/** Pareto fronts of (fidelity ↑, cost ↓) points. Pure functions. */

export interface Tradeoff {
  /** Higher is better (e.g. top-1 agreement with the teacher). */
  fidelity: number;
  /** Lower is better (latency, bytes or parameters). */
  cost: number;
}

/** a dominates b: at least as good on both axes and strictly better on one. */
export function dominates(a: Tradeoff, b: Tradeoff): boolean {
  return a.fidelity >= b.fidelity && a.cost <= b.cost && (a.fidelity > b.fidelity || a.cost < b.cost);
}

/** The points no other point dominates, sorted by cost (duplicates kept once each). */
export function paretoFront<T extends Tradeoff>(points: readonly T[]): T[] {
  const front = points.filter((p) => !points.some((q) => q !== p && dominates(q, p)));
  return front.sort((a, b) => a.cost - b.cost || b.fidelity - a.fidelity);
}
