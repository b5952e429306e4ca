/**
 * The part of the engine's `Scorer` the decision loop uses (src/runtime/engine/scorer.ts
 * satisfies it structurally). Kept as an interface so the loop depends on a seam, not on a
 * class: the model host swaps what sits behind it between ticks.
 */
import type { Manifest } from '../runtime/bundle/manifest.js';
import type { CandidateSet } from '../runtime/features/candidates.js';
import type { FeaturePlan } from '../runtime/features/assemble.js';

export interface ScorerLike {
  readonly id: string;
  readonly manifest: Manifest | undefined;
  readonly candidates: CandidateSet | undefined;
  readonly plan: FeaturePlan | undefined;
  /** Preallocated input rows for `count` candidates, one buffer per model input (plan order). */
  inputBuffers(count: number): Float32Array[];
  /** ONE batched run over the buffers; a reused view of `count` rewards. */
  scoreBuffers(count: number): Promise<Float32Array>;
}

/** What the loop reads once per tick: a swap between ticks is a pointer change. */
export interface ActiveModel {
  readonly scorer: ScorerLike;
  /** "name@version". */
  readonly id: string;
}

/** Where the loop finds the active model (the model host implements it). */
export interface ModelSource {
  current(): ActiveModel | undefined;
}

/** The simplest model source: one slot, swapped by assignment. */
export class ModelSlot implements ModelSource {
  private model: ActiveModel | undefined;
  constructor(initial?: ActiveModel) {
    this.model = initial;
  }
  current(): ActiveModel | undefined {
    return this.model;
  }
  set(model: ActiveModel | undefined): void {
    this.model = model;
  }
}

/**
 * Serialises use of one scorer's buffers between the loop and the score service: ORT reads
 * the input tensors on its worker thread while `run` is pending, so two users must not fill
 * them at the same time. Uncontended `acquire` allocates nothing.
 */
export class ScorerGate {
  private busy = false;
  private readonly waiters: Array<() => void> = [];
  get locked(): boolean {
    return this.busy;
  }
  tryAcquire(): boolean {
    if (this.busy) return false;
    this.busy = true;
    return true;
  }
  acquire(): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy = false;
  }
}
