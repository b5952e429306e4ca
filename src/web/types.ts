/**
 * The messages of the live pages: what the server sends over server-sent events (and
 * `/api/*.json`) and what the browser code draws. Types only: shared by the server
 * (src/telemetry/web) and the browser code (src/web), so neither may import anything here
 * that exists only on its side.
 *
 * Device page SSE stream (`/live`), one JSON object per event, named by its `kind`:
 *   hello  once on connect          device, runtime version, loop deadline
 *   model  on connect + on change   the active model, its provenance and candidate actions
 *   status 1 per second             loop figures, latency sparkline, stream health
 *   frame  at most 10 per second    one decision: observation, rewards, choice or fallback
 *   event  as they happen           update/swap events (received, canary, activated, ...)
 */

export interface HelloMsg {
  kind: 'hello';
  device: string;
  runtime: string;
  deadlineMs: number;
  /** Most frames per second the server sends. */
  maxFps: number;
}

export interface ModelMsg {
  kind: 'model';
  /** "name@version". */
  id: string;
  name: string | null;
  version: string | null;
  description: string | null;
  /** The manifest's provenance as is (teacher, compression steps, fidelity figures, ...). */
  provenance: Record<string, unknown> | null;
  /** Action dimensions (e.g. ["v", "w"]) and the candidate set, row-major (count × names). */
  actions: string[];
  count: number;
  candidates: number[];
  /** When this model started deciding (unix ms), as seen by the page's server. */
  since: number;
}

export interface LidarView {
  ranges: number[];
  /** Angle of beam 0 and the step between beams (radians, robot frame, 0 = ahead, CCW). */
  a0: number;
  da: number;
  max: number;
}

export interface FrameMsg {
  kind: 'frame';
  seq: number;
  /** Unix ms of the decision. */
  t: number;
  model: string;
  action: Record<string, number>;
  reward: number | null;
  /** The fallback's reason, or null when the model decided. */
  fallback: string | null;
  latencyMs: number;
  obsAgeMs: number | null;
  /** Index of the chosen candidate; -1 for a fallback. */
  best: number;
  /** Rewards of every candidate (null when the model did not run). */
  rewards: number[] | null;
  lidar: LidarView | null;
  /** The goal in the robot frame (m): ahead, left. */
  goal: { dx: number; dy: number } | null;
  /** Measured velocity (odometry). */
  odom: { v: number; w: number } | null;
}

export interface StreamHealth {
  name: string;
  /** Valid messages per second over the last sample period. */
  rateHz: number;
  /** Age of the latest value (ms); null when none arrived yet. */
  ageMs: number | null;
  maxAgeMs: number;
  ok: number;
  /** Messages dropped as invalid since start (all reasons). */
  invalid: number;
}

export interface StatusMsg {
  kind: 'status';
  t: number;
  device: string;
  uptimeS: number;
  model: string;
  ticksPerSec: number;
  ticks: number;
  decisions: number;
  fallbacks: number;
  deadlineMisses: number;
  overruns: number;
  lastFallback: string | null;
  fallbacksByReason: Record<string, number>;
  /** Over the last second. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** One point per second over the last minute (oldest first). */
  series: { t: number[]; p50: Array<number | null>; p99: Array<number | null> };
  streams: StreamHealth[];
  mqtt: string;
  /** Live-page clients connected to this device (including this one). */
  viewers: number;
}

export interface EventMsg {
  kind: 'event';
  t: number;
  /** received, verified, rejected, canary, activated, confirmed, rolled_back, ... or swap. */
  event: string;
  model: string;
  active: string | null;
  code: string | null;
  reason: string | null;
  /** Everything else the event carried (canary figures, sizes, ...), flat values only. */
  figures: Record<string, string | number | boolean | null>;
  /** "events": from the device's events topic; "loop": seen by the page (the loop's model changed). */
  source: 'events' | 'loop';
}

export type DeviceMsg = HelloMsg | ModelMsg | StatusMsg | FrameMsg | EventMsg;

// ---- fleet page (`edgereward fleet serve --http PORT`): SSE `/live`, one `fleet` per second ----

export interface FleetDevice {
  device: string;
  /** From the retained status: false when its last will said offline; null when unknown. */
  online: boolean | null;
  model: string | null;
  lastEvent: string | null;
  lastEventAt: number | null;
  p99Ms: number | null;
  /** The fleet it says it follows (null: it did not say). */
  fleet: string | null;
  tags: string[];
}

export type RolloutStage = 'received' | 'verified' | 'canaried' | 'activated' | 'rolled_back' | 'rejected';

export interface FleetRollout {
  model: string;
  version: string;
  kind: 'release' | 'revoke';
  /** Unix ms of publication. */
  t: number;
  /** Human-readable selector: "all devices", "10% of devices", "devices a, b", "tags x". */
  selector: string;
  /** Known devices the selector picks. */
  targeted: string[];
  /** Targeted devices that reached each stage (cumulative: activated ones also count as received). */
  counts: Record<RolloutStage, number>;
  /** Per targeted device: the furthest stage reached, or null. */
  stages: Record<string, RolloutStage | null>;
}

export interface FleetMsg {
  kind: 'fleet';
  t: number;
  fleet: string;
  broker: string;
  devices: FleetDevice[];
  rollouts: FleetRollout[];
}
