/**
 * Actions to `<prefix>/<device>/action` over the MqttLink. While offline an action may wait
 * at most `maxAgeMs` (default 500 ms) in the link's bounded queue: a robot must not act on
 * a command decided seconds ago. Numbers are rounded to 6 decimals (`encodeAction`).
 */
import type { MqttLink, QoS } from '../mqtt/MqttLink.js';
import { encodeAction, type ActionMessage, type ActionSink } from './ActionSink.js';

export interface MqttActionSinkOptions {
  /** default `<prefix>/<device>/action` */
  topic?: string;
  /** default 0: the next decision supersedes a lost one */
  qos?: QoS;
  /** default 500 ms */
  maxAgeMs?: number;
}

export class MqttActionSink implements ActionSink {
  readonly name = 'mqtt';
  private readonly topic: string;
  private readonly qos: QoS;
  private readonly maxAgeMs: number;

  constructor(private readonly link: MqttLink, o: MqttActionSinkOptions = {}) {
    this.topic = o.topic ?? link.topic('action');
    this.qos = o.qos ?? 0;
    this.maxAgeMs = o.maxAgeMs ?? 500;
  }

  publish(action: Readonly<ActionMessage>): void {
    this.link.publish(this.topic, encodeAction(action), { qos: this.qos, maxAgeMs: this.maxAgeMs });
  }
}
