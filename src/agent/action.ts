/**
 * The action message of the MQTT contract (`<prefix>/<device>/action`) and the sink seam.
 */
import type { FallbackReason } from './safety.js';

export interface ActionMessage {
  /** Unix ms when the decision was published. */
  t: number;
  seq: number;
  action: Record<string, number>;
  /** The chosen candidate's reward; null for a fallback. */
  reward: number | null;
  /** "name@version" of the model that decided ("" when none is loaded). */
  model: string;
  /** Tick start to publish, ms (monotonic clock). */
  latency_ms: number;
  /** Age of the oldest input the decision used, ms; null when inputs were missing. */
  obs_age_ms: number | null;
  /** Present only when the fallback action was published instead of the model's choice. */
  fallback?: FallbackReason | undefined;
}

/**
 * Where actions go (MQTT, a serial port). `send` is called on the hot path with a message object
 * the loop reuses: serialise it synchronously, never keep a reference, never throw, never block.
 */
export interface ActionSink {
  send(msg: Readonly<ActionMessage>): void;
}

/** Serialise an action message; numbers are rounded to keep the line short and stable. */
export function encodeAction(m: Readonly<ActionMessage>): string {
  return JSON.stringify(m, round);
}

function round(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e6) / 1e6 : v;
}
