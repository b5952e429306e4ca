/**
 * Where chosen actions go. The decision loop calls `publish` once per tick; a sink never
 * blocks and never throws for a network condition (it drops and counts instead).
 */

/** The `…/action` payload of the MQTT contract (DESIGN.md); also the serial action line. */
export interface ActionMessage {
  /** Unix ms when the decision was published. */
  t: number;
  /** Increasing per daemon run. */
  seq: number;
  /** The chosen candidate, e.g. `{v: 0.3, w: -0.5}`. */
  action: Record<string, number>;
  /** The chosen candidate's reward; null for a fallback. */
  reward: number | null;
  /** "name@version" of the model that decided ("" when none is loaded). */
  model: string;
  /** Tick start to publish, ms (monotonic clock). */
  latency_ms: number;
  /** Age of the oldest input the decision used, ms; null when inputs were missing. */
  obs_age_ms: number | null;
  /**
   * Present only when the fallback action was published instead of the model's choice: why
   * (the agent's FallbackReason: stale_input, deadline, non_finite_output, …).
   */
  fallback?: string | undefined;
}

/**
 * Where actions go (MQTT, a serial port). `publish` is called on the hot path with a message
 * object the loop reuses: serialise it synchronously, never keep a reference, never throw,
 * never block.
 */
export interface ActionSink {
  readonly name: string;
  publish(action: Readonly<ActionMessage>): void;
}

/** Several sinks as one (MQTT and serial at once). */
export function fanOut(sinks: readonly ActionSink[]): ActionSink {
  return {
    name: sinks.map((s) => s.name).join('+'),
    publish(a) {
      for (const s of sinks) s.publish(a);
    },
  };
}

/** Serialise an action message; numbers are rounded to keep the line short and stable. */
export function encodeAction(m: Readonly<ActionMessage>): string {
  return JSON.stringify(m, round);
}

function round(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e6) / 1e6 : v;
}
