/**
 * Where chosen actions go. The decision loop calls `publish` once per tick; a sink never
 * blocks and never throws for a network condition (it drops and counts instead).
 */

/** The `…/action` payload of the MQTT contract (DESIGN.md); also the serial action line. */
export interface ActionMessage {
  /** unix ms when the decision was made */
  t: number;
  /** increasing per daemon run */
  seq: number;
  /** the chosen candidate, e.g. `{v: 0.3, w: -0.5}` */
  action: Record<string, number>;
  /** the model's reward for it (null for a fallback without a score) */
  reward: number | null;
  /** "name@version" */
  model: string;
  latency_ms: number;
  /** age of the oldest observation used, ms */
  obs_age_ms: number;
  /** why the fallback action was used (stale_input, deadline, non_finite, …) */
  fallback?: string;
}

export interface ActionSink {
  readonly name: string;
  publish(action: ActionMessage): void;
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
