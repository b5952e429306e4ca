/**
 * The decision loop's tap seam: read-only observers of every tick (the recorder, the
 * Foxglove bridge, the live web view). io owns it next to the action sink so that io and
 * telemetry implement it without importing the agent; `agent/loop.ts` calls it.
 */
import type { CandidateSet } from '../../runtime/features/candidates.js';
import type { FeaturePlan } from '../../runtime/features/assemble.js';
import type { ActionMessage } from './ActionSink.js';

/** What a tap sees of a decision beyond the action message (the loop's reused objects). */
export interface DecisionDetail {
  /** Wall clock (unix ms) at tick start: what input ages were measured against. */
  tickAt: number;
  /** Rewards of `count` candidates; undefined when the model did not run (most fallbacks). */
  rewards: Float32Array | undefined;
  count: number;
  /** The chosen candidate's index; -1 for a fallback. */
  best: number;
  plan: FeaturePlan | undefined;
  candidates: CandidateSet | undefined;
  /** The filled model inputs (plan order; per-candidate inputs hold `count` rows). */
  inputs: readonly Float32Array[] | undefined;
}

/**
 * Sees every tick. Called synchronously on the hot path with reused objects: copy what you
 * keep, never throw, never block (hand work to your own queue).
 */
export interface DecisionTap {
  /** Tick start, before inputs are read (`now` = the loop's clock). */
  tick?(now: number): void;
  /** After the action went to the sinks. */
  decision(msg: Readonly<ActionMessage>, detail: Readonly<DecisionDetail>): void;
}
