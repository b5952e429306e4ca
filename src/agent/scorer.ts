/**
 * The loop's model seam. The interfaces (`ScorerLike`, `ActiveModel`, `ModelSource`) are the
 * runtime's (src/runtime/host.ts, which the model host implements); re-exported here with the
 * simplest model source (`ModelSlot`, for tests, replay and benches) and the buffer gate.
 */
import type { ActiveModel, ModelSource } from '../runtime/host.js';

export type { ActiveModel, ModelSource, ScorerLike } from '../runtime/host.js';

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
