/**
 * Action sinks over the io links: MQTT `<prefix>/<device>/action` (expiring while offline, so
 * a reconnect never floods the robot with old commands) and serial JSON lines (the link keeps
 * at most one line pending under backpressure).
 */
import type { MqttLink } from '../io/mqtt/MqttLink.js';
import type { SerialLink } from '../io/serial/SerialLink.js';
import { encodeAction, type ActionSink } from './action.js';

export function mqttActionSink(link: MqttLink, o: { qos: 0 | 1 | 2; maxAgeMs: number }): ActionSink {
  const topic = link.topic('action');
  const opts = { qos: o.qos, maxAgeMs: o.maxAgeMs };
  return { send: (msg) => void link.publish(topic, encodeAction(msg), opts) };
}

export function serialActionSink(link: SerialLink): ActionSink {
  return { send: (msg) => void link.writeLine(msg) };
}
