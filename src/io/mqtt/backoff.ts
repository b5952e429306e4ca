/**
 * Reconnect delays: exponential backoff with jitter, capped (the "full/equal jitter" family
 * from the AWS architecture blog, as asked in MQTT.js#561). A pure function: the caller owns
 * the timer and the random source, so tests need no clock.
 */
export interface BackoffOptions {
  /** first delay, ms (default 250) */
  minMs: number;
  /** cap, ms (default 30000) */
  maxMs: number;
  /** 0..1: the fraction of each delay that is randomised (default 0.5; 0 = none, 1 = full jitter) */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 250, maxMs: 30_000, jitter: 0.5 };

/**
 * Delay before reconnect attempt `attempt` (0-based): `base = min(maxMs, minMs·2^attempt)`,
 * then `base·(1 − jitter) + base·jitter·rand()`, so it lies in `[base·(1−jitter), base]`.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, rand: () => number = Math.random): number {
  if (!(o.minMs >= 0) || !(o.maxMs >= o.minMs)) throw new RangeError('"reconnect" needs 0 <= minMs <= maxMs');
  if (!(o.jitter >= 0 && o.jitter <= 1)) throw new RangeError('"reconnect.jitter" must be between 0 and 1');
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - o.jitter) + base * o.jitter * rand());
}
