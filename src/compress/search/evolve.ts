/**
 * Hardware-aware architecture search: `s* = argmin_s L(s) + λ·C(s)` (the seed's form) by an
 * evolutionary search — a population, mutation, selection with elitism — where every generation
 * is screened by successive halving: all new candidates get a short training (rung 0), the best
 * 1/η go on to longer training, and so on; only top-rung results are parents or choices.
 *
 * L(s) = 1 − held-out top-1 agreement with the teacher; C(s) = latency at the deployment batch
 * measured on this machine (ms), or the file's kB, or thousands of parameters (`cost`).
 * With a latency target the choice is the most faithful top-rung candidate within it.
 */
import type { DenseLayer } from '../onnx/build.js';
import { mulberry32 } from '../../sim/rng.js';
import type { Evaluator, Measured } from './evaluator.js';
import { paretoFront } from './pareto.js';
import { candidateKey, DEFAULT_SPACE, mutate, randomCandidate, type Candidate, type SearchSpace } from './space.js';

export type CostKind = 'latency' | 'bytes' | 'params';

export interface SearchOptions {
  space?: SearchSpace;
  /** Initial population (default 8) and children per generation (default 6). */
  population?: number;
  children?: number;
  /** Parents kept between generations (elitism, default 3). */
  parents?: number;
  /** Successive-halving reduction factor (default 2). */
  eta?: number;
  /** Budget: at most this many candidate evaluations (any rung) ... */
  maxEvaluations?: number;
  /** ... and/or stop starting evaluations after this many minutes. */
  minutes?: number;
  /** Latency constraint (ms at the deployment batch) — or, with `lambda`, a weighted cost. */
  targetLatencyMs?: number;
  lambda?: number;
  cost?: CostKind;
  /** Size constraint: the compressed model's bytes (infeasible above, like the latency target). */
  maxBytes?: number;
  /** Candidates always in the first population (e.g. a known-good shape). */
  seeds?: Candidate[];
  seed?: number;
  onEvaluation?: (m: Measured, n: number) => void;
  onLog?: (line: string) => void;
}

export interface SearchPoint {
  key: string;
  candidate: Candidate;
  rung: number;
  top1: number;
  spearman: number;
  latencyMs: number;
  teacherLatencyMs: number;
  bytes: number;
  params: number;
  cost: number;
  objective: number;
  trainSeconds: number;
}

export interface SearchResult {
  /** Every evaluation in order (a candidate appears once per rung it reached). */
  evaluations: SearchPoint[];
  /** Each candidate at the highest rung it reached. */
  points: SearchPoint[];
  /** Pareto front of `points`: fidelity (top-1) against cost. */
  front: SearchPoint[];
  chosen: SearchPoint | undefined;
  /** The chosen candidate's trained (dense) weights and compressed model. */
  chosenLayers?: DenseLayer[];
  chosenModel?: Uint8Array;
  meetsTarget: boolean;
  generations: number;
  seconds: number;
  stoppedBy: 'evaluations' | 'minutes' | 'exhausted';
  options: { population: number; children: number; parents: number; eta: number; maxBytes: number | null; maxEvaluations: number | null; minutes: number | null; targetLatencyMs: number | null; lambda: number | null; cost: CostKind; rungs: Evaluator['rungs'] };
}

export function costOf(m: Pick<SearchPoint, 'latencyMs' | 'bytes' | 'params'>, kind: CostKind): number {
  return kind === 'latency' ? m.latencyMs : kind === 'bytes' ? m.bytes / 1000 : m.params / 1000;
}

/** The objective: L + λ·C, or with a target, L plus a penalty above 1 for any infeasible point. */
export function objectiveOf(p: Pick<SearchPoint, 'top1' | 'latencyMs' | 'bytes' | 'params'>, o: Pick<SearchOptions, 'targetLatencyMs' | 'lambda' | 'cost' | 'maxBytes'>): number {
  const L = 1 - p.top1;
  const c = costOf(p, o.cost ?? 'latency');
  let obj = L + (o.lambda ?? 0) * c;
  if (o.targetLatencyMs !== undefined && p.latencyMs > o.targetLatencyMs) obj += 1 + (p.latencyMs - o.targetLatencyMs) / o.targetLatencyMs;
  if (o.maxBytes !== undefined && p.bytes > o.maxBytes) obj += 1 + (p.bytes - o.maxBytes) / o.maxBytes;
  return obj;
}

/** The choice among top-rung points: most faithful within the latency target, else min objective. */
export function choose(all: SearchPoint[], o: Pick<SearchOptions, 'targetLatencyMs' | 'lambda' | 'cost' | 'maxBytes'>): { chosen: SearchPoint | undefined; meetsTarget: boolean } {
  if (!all.length) return { chosen: undefined, meetsTarget: false };
  // The size limit is a hard constraint when anything meets it.
  const small = o.maxBytes !== undefined ? all.filter((p) => p.bytes <= o.maxBytes!) : all;
  const points = small.length ? small : all;
  if (o.targetLatencyMs !== undefined && o.lambda === undefined) {
    const ok = points.filter((p) => p.latencyMs <= o.targetLatencyMs!);
    if (ok.length) return { chosen: [...ok].sort((a, b) => b.top1 - a.top1 || b.spearman - a.spearman || a.latencyMs - b.latencyMs)[0], meetsTarget: true };
    return { chosen: [...points].sort((a, b) => a.latencyMs - b.latencyMs)[0], meetsTarget: false };
  }
  const best = [...points].sort((a, b) => a.objective - b.objective)[0]!;
  return { chosen: best, meetsTarget: o.targetLatencyMs === undefined || best.latencyMs <= o.targetLatencyMs };
}

class Budget extends Error {
  constructor(readonly by: 'evaluations' | 'minutes') {
    super(by);
  }
}

export async function searchArchitectures(ev: Evaluator, o: SearchOptions = {}): Promise<SearchResult> {
  const space = o.space ?? DEFAULT_SPACE;
  const rng = mulberry32(o.seed ?? 7);
  const population = o.population ?? 8;
  const children = o.children ?? 6;
  const nParents = o.parents ?? 3;
  const eta = o.eta ?? 2;
  const cost = o.cost ?? 'latency';
  const top = ev.rungs.length - 1;
  const t0 = performance.now();
  const deadline = o.minutes !== undefined ? t0 + o.minutes * 60_000 : Infinity;
  const evaluations: SearchPoint[] = [];
  const best = new Map<string, SearchPoint>();
  const weights = new Map<string, { layers: DenseLayer[]; model: Uint8Array }>();
  const seen = new Set<string>();
  let stoppedBy: SearchResult['stoppedBy'] = 'exhausted';
  let generations = 0;

  const run = async (c: Candidate, rung: number): Promise<SearchPoint | undefined> => {
    if (o.maxEvaluations !== undefined && evaluations.length >= o.maxEvaluations) throw new Budget('evaluations');
    if (performance.now() >= deadline) throw new Budget('minutes');
    const key = candidateKey(c);
    let m: Measured;
    try {
      m = await ev.evaluate(c, rung, weights.get(key)?.layers);
    } catch (e) {
      o.onLog?.(`  ${key}: ${(e as Error).message.split('\n')[0]} — dropped`);
      return undefined;
    }
    const p: SearchPoint = {
      key, candidate: c, rung, top1: m.top1, spearman: m.spearman, latencyMs: m.latencyMs, teacherLatencyMs: m.teacherLatencyMs,
      bytes: m.bytes, params: m.params, cost: costOf(m, cost), objective: 0, trainSeconds: m.trainSeconds,
    };
    p.objective = objectiveOf(p, { ...o, cost });
    evaluations.push(p);
    best.set(key, p);
    weights.set(key, { layers: m.layers, model: m.model });
    o.onEvaluation?.(m, evaluations.length);
    return p;
  };

  // One generation: every new candidate at rung 0, then the best 1/η up each rung.
  const generation = async (cands: Candidate[]): Promise<void> => {
    generations++;
    let level: SearchPoint[] = [];
    for (const c of cands) {
      const p = await run(c, 0);
      if (p) level.push(p);
    }
    for (let r = 1; r <= top; r++) {
      const keep = Math.max(1, Math.ceil(level.length / eta));
      const next = [...level].sort((a, b) => a.objective - b.objective).slice(0, keep);
      level = [];
      for (const p of next) {
        const q = await run(p.candidate, r);
        if (q) level.push(q);
      }
    }
  };

  const fresh = (c: Candidate): boolean => {
    const k = candidateKey(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
  try {
    const first: Candidate[] = [];
    for (const s of o.seeds ?? []) if (fresh(s)) first.push(s);
    for (let tries = 0; first.length < population && tries < population * 20; tries++) {
      const c = randomCandidate(rng, space);
      if (fresh(c)) first.push(c);
    }
    await generation(first);
    for (;;) {
      const parents = [...best.values()].filter((p) => p.rung === top).sort((a, b) => a.objective - b.objective).slice(0, nParents);
      if (!parents.length) break;
      const kids: Candidate[] = [];
      for (let tries = 0; kids.length < children && tries < children * 30; tries++) {
        const parent = parents[Math.min(parents.length - 1, Math.floor(rng() ** 2 * parents.length))]!; // favour the best
        const c = mutate(parent.candidate, rng, space);
        if (fresh(c)) kids.push(c);
      }
      // When the parents' neighbourhoods are used up, random immigrants keep the search going.
      for (let tries = 0; kids.length < children && tries < children * 30; tries++) {
        const c = randomCandidate(rng, space);
        if (fresh(c)) kids.push(c);
      }
      if (!kids.length) break;
      await generation(kids);
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stoppedBy = e.by;
  }
  const points = [...best.values()];
  const topPoints = points.filter((p) => p.rung === top);
  const front = paretoFront(points.map((p) => ({ ...p, fidelity: p.top1 }))).map(({ fidelity: _f, ...p }) => p as SearchPoint);
  const { chosen, meetsTarget } = choose(topPoints.length ? topPoints : points, { ...o, cost });
  const w = chosen ? weights.get(chosen.key) : undefined;
  return {
    evaluations,
    points,
    front,
    chosen,
    ...(w ? { chosenLayers: w.layers, chosenModel: w.model } : {}),
    meetsTarget,
    generations,
    seconds: (performance.now() - t0) / 1000,
    stoppedBy,
    options: {
      population, children, parents: nParents, eta, maxBytes: o.maxBytes ?? null,
      maxEvaluations: o.maxEvaluations ?? null, minutes: o.minutes ?? null,
      targetLatencyMs: o.targetLatencyMs ?? null, lambda: o.lambda ?? null, cost, rungs: ev.rungs,
    },
  };
}
