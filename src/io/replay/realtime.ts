/**
 * Replay a recording into a live broker at recorded speed: the sensor messages go to
 * `<prefix>/<device>/sensors/<stream>` with the recorded gaps between them, so a daemon
 * (`edgereward run --mqtt-url ...`) is driven by what the robot saw. Sensor times `t` are
 * shifted to now (a daemon refuses messages from the future and measures ages on its own
 * clock anyway); everything else is sent as recorded.
 */
import mqtt from 'mqtt';
import { describeError, EdgeError } from '../../errors.js';
import type { ReplayItem } from './read.js';

export interface RealtimeOptions {
  url: string;
  device: string;
  /** Default `edgereward`. */
  prefix?: string;
  /** 1 = recorded speed, 2 = twice as fast. Default 1. */
  speed?: number;
  /** MQTT protocol version (aedes speaks 4). Default 4. */
  protocolVersion?: 4 | 5;
  /** Stops early when aborted. */
  signal?: AbortSignal;
  /** Called for every published message. */
  onMessage?: (stream: string, n: number) => void;
}

export interface RealtimeResult {
  published: number;
  durationMs: number;
  recordedMs: number;
}

export async function replayRealtime(items: Iterable<ReplayItem>, o: RealtimeOptions): Promise<RealtimeResult> {
  const speed = o.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`"speed" must be a positive number, got ${speed}`);
  let client: mqtt.MqttClient;
  try {
    client = await mqtt.connectAsync(o.url, { clientId: `edgereward-replay-${process.pid}`, protocolVersion: o.protocolVersion ?? 4, reconnectPeriod: 1000, connectTimeout: 10_000 });
  } catch (e) {
    throw new EdgeError('E_REPLAY_BROKER', `cannot connect to the MQTT broker at ${o.url} (${describeError(e)}); check the URL and that the broker runs`, { cause: e });
  }
  const base = `${o.prefix ?? 'edgereward'}/${o.device}/sensors/`;
  const start = performance.now();
  let first: number | undefined;
  let published = 0;
  let last = 0;
  try {
    for (const it of items) {
      if (o.signal?.aborted) break;
      if (it.kind !== 'sensor') continue;
      if (first === undefined) {
        first = it.rx;
      }
      const due = start + (it.rx - first) / speed;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      // Keep the recorded sensor-to-receive delay, on today's clock.
      const msg = { ...it.msg, t: Date.now() - (it.rx - it.msg.t) };
      client.publish(base + it.stream, JSON.stringify(msg), { qos: 0 });
      published++;
      last = it.rx;
      o.onMessage?.(it.stream, published);
    }
  } finally {
    await client.endAsync().catch(() => undefined);
  }
  return { published, durationMs: performance.now() - start, recordedMs: first === undefined ? 0 : last - first };
}
