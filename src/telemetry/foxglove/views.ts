/**
 * The Foxglove views of a recording: the recorder writes them beside the raw channels (off
 * the hot path, at most `rateHz` per topic), so a recording opens in Foxglove Studio with the
 * same panels as the live bridge.
 */
import type { CandidateSet } from '../../runtime/features/candidates.js';
import type { Emit, RecordView } from '../../io/record/Recorder.js';
import type { DecisionRecord } from '../../io/record/format.js';
import type { SensorMessage } from '../../io/messages/sensor.js';
import { DEFAULT_GEOMETRY, FOXGLOVE_CHANNELS, candidatesScene, frameTransform, goalPose, laserScan, pose, type FoxgloveGeometry } from './convert.js';

export interface FoxgloveViewOptions {
  /** Most messages per second per topic. Default 10. */
  rateHz?: number;
  /** Most candidate scenes per second (one arrow per candidate: ~13 kB each). Default 2. */
  candidatesHz?: number;
  geometry?: Partial<FoxgloveGeometry>;
  /** The active model's candidate set (for the candidate arrows). */
  candidates?: () => CandidateSet | undefined;
}

export function foxgloveViews(o: FoxgloveViewOptions = {}): RecordView {
  const g: FoxgloveGeometry = { ...DEFAULT_GEOMETRY, ...o.geometry };
  const period = 1000 / (o.rateHz ?? 10);
  const scenePeriod = 1000 / (o.candidatesHz ?? 2);
  const last = new Map<string, number>();
  const due = (topic: string, ms: number): boolean => {
    const prev = last.get(topic);
    if (prev !== undefined && ms - prev < (topic === '/candidates' ? scenePeriod : period) && ms >= prev) return false;
    last.set(topic, ms);
    return true;
  };
  return {
    channels: FOXGLOVE_CHANNELS,
    sensor(stream: string, rx: number, msg: SensorMessage, emit: Emit) {
      if (stream === g.lidarStream && due('/lidar', rx)) {
        const scan = laserScan(rx, msg, g);
        if (scan) emit('/lidar', rx, scan);
      } else if (stream === g.odomStream && due('/tf', rx)) {
        emit('/tf', rx, frameTransform(rx, msg));
        emit('/pose', rx, pose(rx, msg));
      } else if (stream === g.goalStream && due('/goal', rx)) {
        emit('/goal', rx, goalPose(rx, msg));
      }
    },
    decision(d: DecisionRecord, emit: Emit) {
      if (d.best < 0 || d.rewards.length === 0 || !due('/candidates', d.t)) return;
      const c = o.candidates?.();
      if (!c || c.count !== d.rewards.length) return;
      const scene = candidatesScene(d.t, c.names, c.values, d.rewards, c.count, d.best, g);
      if (scene) emit('/candidates', d.t, scene);
    },
  };
}
