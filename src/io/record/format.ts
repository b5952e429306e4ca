/**
 * What a recording holds: topics, JSON schemas and record shapes. Shared by the recorder
 * (writes), the replay source (reads) and docs/recording.md. Every channel is JSON
 * (`messageEncoding: "json"`, schema encoding `jsonschema`), so Foxglove Studio shows them in
 * its Raw Messages and Plot panels; views with a well-known Foxglove schema (LaserScan,
 * PoseInFrame, SceneUpdate) are written beside them by the Foxglove views.
 *
 * | topic | logTime | publishTime | sequence | data |
 * | --- | --- | --- | --- | --- |
 * | `/sensors/<stream>` | receive time | the message's `t` | sensor number (all streams) | the validated message as received |
 * | `/decisions` | publish time | tick time | decision seq | `DecisionRecord` |
 * | `/events` | event time | event time | 0 | `EventRecord` (recording start, model activated, ...) |
 */

export const RECORDING_PROFILE = '';
export const RECORDING_FORMAT = 1;
export const SENSOR_TOPIC_PREFIX = '/sensors/';
export const DECISIONS_TOPIC = '/decisions';
export const EVENTS_TOPIC = '/events';

/** One decision tick as recorded. */
export interface DecisionRecord {
  seq: number;
  /** Wall clock (unix ms) at tick start: input ages were measured against it. */
  tick_t: number;
  /** Wall clock (unix ms) when the action was published. */
  t: number;
  /**
   * Sensor messages received before this tick (their `sequence` is below this): replay
   * rebuilds the latest values from exactly those.
   */
  sensors_before: number;
  model: string;
  action: Record<string, number>;
  /** The chosen candidate's reward; null for a fallback. */
  reward: number | null;
  /** Index of the chosen candidate in the model's candidate set; -1 for a fallback. */
  best: number;
  fallback: string | null;
  latency_ms: number;
  obs_age_ms: number | null;
  /** Every candidate's predicted reward, in candidate order (empty when the model did not run). */
  rewards: number[];
  /**
   * The observation part of the feature vector: per model input, row 0 (per-candidate inputs
   * differ between rows only in their action columns, which follow from the candidate set).
   */
  features: Record<string, number[]>;
}

export interface EventRecord {
  t: number;
  kind: 'recording_started' | 'model_activated' | 'recording_stopped' | string;
  model?: string;
  /** For model_activated: the candidate set (names and row-major values). */
  candidates?: { names: string[]; count: number; values: number[] };
  /** For recording_started: the loop settings replay needs (policy, max ages, fallback). */
  loop?: LoopSettings;
  [k: string]: unknown;
}

/** The decision-loop settings that change what a tick decides (replayed as recorded). */
export interface LoopSettings {
  policy: 'argmax' | 'softmax';
  temperature: number;
  seed: number;
  fallback: Record<string, number>;
  maxAgeMs: Record<string, number>;
  defaultMaxAgeMs: number;
  deadlineMs: number;
}

const num = { type: 'number' };
const numArray = { type: 'array', items: num };

export const sensorSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'edgereward sensor message',
  description: 'A validated sensor message as received: t (unix ms, sensor clock) and numeric fields',
  type: 'object',
  properties: { t: { ...num, description: 'sensor time, unix ms' } },
  required: ['t'],
  additionalProperties: { anyOf: [num, numArray] },
};

export const decisionSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'edgereward decision',
  type: 'object',
  properties: {
    seq: num,
    tick_t: num,
    t: num,
    sensors_before: num,
    model: { type: 'string' },
    action: { type: 'object', additionalProperties: num },
    reward: { type: ['number', 'null'] },
    best: num,
    fallback: { type: ['string', 'null'] },
    latency_ms: num,
    obs_age_ms: { type: ['number', 'null'] },
    rewards: numArray,
    features: { type: 'object', additionalProperties: numArray },
  },
  required: ['seq', 'tick_t', 't', 'sensors_before', 'model', 'action', 'reward', 'best', 'fallback', 'latency_ms', 'rewards'],
};

export const eventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'edgereward event',
  type: 'object',
  properties: { t: num, kind: { type: 'string' }, model: { type: 'string' } },
  required: ['t', 'kind'],
};

/** ms (may be fractional) -> ns as bigint, exact for integer ms. */
export function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
}
