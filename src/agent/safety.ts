/**
 * Safety: every reason the loop refuses to act on the model and publishes the configured
 * fallback action instead. Each reason is counted in `edgereward_fallbacks_total{reason}`.
 */
import { counter } from '../telemetry/metrics.js';
import type { LatestValues } from './latest.js';

export type FallbackReason =
  | 'no_model'
  | 'missing_input'
  | 'stale_input'
  | 'non_finite_input'
  | 'non_finite_output'
  | 'deadline'
  | 'score_error';

export const FALLBACK_REASONS: readonly FallbackReason[] = [
  'no_model',
  'missing_input',
  'stale_input',
  'non_finite_input',
  'non_finite_output',
  'deadline',
  'score_error',
];

/** A stream the model reads and how old its latest value may be. */
export interface Freshness {
  stream: string;
  maxAgeMs: number;
}

export interface InputVerdict {
  reason: 'missing_input' | 'stale_input';
  stream: string;
  ageMs: number;
}

/**
 * The first stream that never arrived or is older than its max age, or undefined when all are
 * fresh. `oldest` receives the largest age seen (obs_age_ms of the action).
 */
export function checkInputs(latest: LatestValues, needs: readonly Freshness[], now: number, out: { oldest: number }): InputVerdict | undefined {
  let oldest = 0;
  for (let i = 0; i < needs.length; i++) {
    const n = needs[i]!;
    const age = latest.age(n.stream, now);
    if (age === Infinity) return { reason: 'missing_input', stream: n.stream, ageMs: age };
    if (age > n.maxAgeMs) return { reason: 'stale_input', stream: n.stream, ageMs: age };
    if (age > oldest) oldest = age;
  }
  out.oldest = oldest;
  return undefined;
}

/** True when every reward in [0, count) is finite: one NaN means the model cannot be trusted this tick. */
export function outputsFinite(rewards: Float32Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (!Number.isFinite(rewards[i]!)) return false;
  return true;
}

const fallbacks = counter<'reason'>('edgereward_fallbacks_total', 'Ticks that published the fallback action, by reason', ['reason']);
// Children resolved once: `labels()` per tick would hash the label set every time.
const children = new Map(FALLBACK_REASONS.map((r) => [r, fallbacks.labels(r)]));

export function countFallback(reason: FallbackReason): void {
  children.get(reason)!.inc();
}
