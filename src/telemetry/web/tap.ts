/**
 * The live page's decision tap: the ONLY thing the page adds to the decision loop's hot path.
 *
 * Per tick it stores the latency into a preallocated ring (one typed-array write). Only when
 * the page's sampler has asked for a frame (`request()`, at most 10 times a second and only
 * while a page is open) does the next decision copy what a frame needs into a preallocated
 * snapshot: the rewards (a copy: the loop reuses its array), and references to the action
 * object's values, the candidate set and the latest observation objects (messages are
 * replaced, never mutated, so a reference is a consistent view). Serializing happens later,
 * on the sampler's timer, off the loop's critical path.
 */
import type { ActionMessage } from '../../agent/action.js';
import type { DecisionDetail, DecisionTap } from '../../agent/loop.js';
import type { CandidateSet } from '../../runtime/features/candidates.js';
import type { StreamValue } from '../../runtime/features/assemble.js';

/** What the tap hands over: overwritten in place, read by the sampler only when `fresh`. */
export interface DecisionSnapshot {
  fresh: boolean;
  seq: number;
  t: number;
  model: string;
  /** Action values in `actionNames` order. */
  action: Float64Array;
  actionNames: string[];
  reward: number | null;
  fallback: string | null;
  latencyMs: number;
  obsAgeMs: number | null;
  best: number;
  count: number;
  /** rewards[0..count) valid when `hasRewards`. */
  rewards: Float32Array;
  hasRewards: boolean;
  candidates: CandidateSet | undefined;
  /** The latest message of each observed stream at decision time (references). */
  obs: Record<string, StreamValue | undefined>;
}

export interface LiveTapOptions {
  /** The loop's latest values (`LatestValues.view`): the streams in `streams` are referenced. */
  view: Readonly<Record<string, StreamValue | undefined>>;
  /** Streams a frame shows (e.g. lidar, goal, odom). */
  streams: readonly string[];
  /** Latencies kept for the sparkline (ticks). Default 8192 (over 2 min at 50 Hz). */
  ringSize?: number;
  /** Most candidates a frame holds. Default 4096. */
  maxCandidates?: number;
}

export class LiveTap implements DecisionTap {
  readonly snap: DecisionSnapshot;
  /** Latency ring (ms): entry `k` of `written` in total is at `k % lat.length`. */
  readonly lat: Float64Array;
  written = 0;
  private want = false;
  private readonly streams: readonly string[];
  private readonly view: Readonly<Record<string, StreamValue | undefined>>;

  constructor(o: LiveTapOptions) {
    const n = o.ringSize ?? 8192;
    this.lat = new Float64Array(n);
    this.view = o.view;
    this.streams = o.streams;
    const obs: Record<string, StreamValue | undefined> = {};
    for (const s of o.streams) obs[s] = undefined;
    this.snap = {
      fresh: false, seq: 0, t: 0, model: '', action: new Float64Array(8), actionNames: [], reward: null, fallback: null,
      latencyMs: 0, obsAgeMs: null, best: -1, count: 0, rewards: new Float32Array(o.maxCandidates ?? 4096), hasRewards: false, candidates: undefined, obs,
    };
  }

  /** Ask for the next decision to be copied (the sampler calls this; the loop never waits). */
  request(): void {
    this.want = true;
  }

  decision(msg: Readonly<ActionMessage>, d: Readonly<DecisionDetail>): void {
    this.lat[this.written++ % this.lat.length] = msg.latency_ms;
    if (!this.want) return;
    this.want = false;
    const s = this.snap;
    s.seq = msg.seq;
    s.t = msg.t;
    s.model = msg.model;
    s.reward = msg.reward;
    s.fallback = msg.fallback ?? null;
    s.latencyMs = msg.latency_ms;
    s.obsAgeMs = msg.obs_age_ms;
    s.best = d.best;
    s.candidates = d.candidates;
    const names = d.candidates?.names;
    if (names && names !== s.actionNames) s.actionNames = names;
    const a = msg.action;
    for (let j = 0; j < s.actionNames.length && j < s.action.length; j++) s.action[j] = a[s.actionNames[j]!] ?? NaN;
    const r = d.rewards;
    s.hasRewards = r !== undefined && d.count <= s.rewards.length;
    s.count = s.hasRewards ? d.count : 0;
    if (s.hasRewards) s.rewards.set(r!.subarray(0, d.count));
    for (let j = 0; j < this.streams.length; j++) s.obs[this.streams[j]!] = this.view[this.streams[j]!];
    s.fresh = true;
  }
}
