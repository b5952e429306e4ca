/**
 * MqttLink: the daemon's one long-lived connection to the broker.
 *
 * - Reconnects with exponential backoff and jitter. MQTT.js's `reconnectPeriod` is a fixed
 *   `setInterval` armed once per outage (MQTT.js#561, #1742), so it is set to 0 and we call
 *   `client.reconnect()` from our own timer after `backoffDelay(attempt)`.
 * - Keepalive: MQTT.js sends PINGREQ every `keepalive` s and destroys the socket after 1.5×
 *   without a reply; that `close` feeds the same reconnect path, so a half-open link heals.
 * - Publishes are handed to MQTT.js only while connected. While offline they wait in a bounded
 *   `OfflineQueue` (count + bytes cap, per-message max age) — MQTT.js's own offline queue is
 *   off (`queueQoSZero: false`, and nothing reaches it while disconnected). `client.reconnect()`
 *   also gives MQTT.js a fresh outgoing store, so unacked QoS 1/2 packets of a dead
 *   connection are not replayed either: stale actions expire, they do not flood the broker.
 * - Birth/death: a retained `status` birth (`online`) after every connect and a retained last
 *   will (`offline`) with the same session number (Sparkplug-B style bdSeq).
 * - Subscriptions are ours: re-sent after every connect (clean session by default), demuxed
 *   to Rx subjects by topic filter, ref-counted so the broker subscription ends with the last
 *   observer.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { BehaviorSubject, Observable, Subject, filter, map, share, firstValueFrom, timeout as rxTimeout } from 'rxjs';
import { describeError, EdgeError } from '../../errors.js';
import { moduleLogger, rateLimitedLog } from '../../telemetry/log.js';
import { counter, gauge } from '../../telemetry/metrics.js';
import { account } from '../messages/accounting.js';
import { decodeSensor, type SensorSample, type StreamSpec } from '../messages/sensor.js';
import { backoffDelay } from './backoff.js';
import { OfflineQueue, type DropReason } from './OfflineQueue.js';
import { resolveOptions, type MqttLinkOptions, type ResolvedOptions } from './options.js';
import { birthPayload, deathPayload } from './status.js';
import { deviceTopic, isTopicLevel, sensorTopic, statusTopic, topicMatches } from './topics.js';

export type { MqttLinkOptions } from './options.js';

export type LinkState = 'idle' | 'connecting' | 'online' | 'offline' | 'closed';
export type QoS = 0 | 1 | 2;

/** A raw message from `subscribe$`. */
export interface RawMessage {
  topic: string;
  payload: Buffer;
  /** receive timestamp, unix ms */
  rx: number;
  retain: boolean;
  qos: QoS;
  /** MQTT 5 properties (responseTopic, correlationData, userProperties, …) */
  properties?: IPublishPacket['properties'];
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /** how long the message may wait in the offline queue, ms (default: the queue's maxAgeMs) */
  maxAgeMs?: number;
  /** MQTT 5 publish properties (responseTopic, correlationData, messageExpiryInterval, …) */
  properties?: IClientPublishOptions['properties'];
}

export type PublishResult = 'sent' | 'queued' | 'dropped';

export interface StreamOptions {
  qos?: QoS;
  maxBytes?: number;
  maxFutureMs?: number;
  spec?: StreamSpec;
}

export interface MqttLinkEvents {
  connect: [{ session: number; reconnect: boolean }];
  disconnect: [{ session: number; reason: string }];
  reconnect: [{ attempt: number; delayMs: number }];
  drop: [{ reason: DropReason | 'error'; topic: string }];
  error: [Error];
}

const reconnectsTotal = counter('edgereward_mqtt_reconnects_total', 'Successful MQTT re-connections after a lost connection');
const connectAttemptsTotal = counter('edgereward_mqtt_connect_attempts_total', 'MQTT connection attempts (first and retries)');
const disconnectsTotal = counter('edgereward_mqtt_disconnects_total', 'MQTT connections lost');
const connectedGauge = gauge('edgereward_mqtt_connected', '1 while connected to the MQTT broker');
const publishedTotal = counter('edgereward_mqtt_published_total', 'Messages handed to the MQTT connection', ['via'] as const);
const droppedTotal = counter('edgereward_mqtt_outgoing_dropped_total', 'Outgoing MQTT messages dropped: overflow (queue full), expired (too old), too_large, error', ['reason'] as const);
const queueGauge = gauge('edgereward_mqtt_offline_queue_messages', 'Messages waiting in the offline queue');

interface Sub {
  filter: string;
  qos: QoS;
  refs: number;
  subject: Subject<RawMessage>;
}

export class MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly opts: ResolvedOptions;
  readonly state$ = new BehaviorSubject<LinkState>('idle');
  private client: MqttClient | undefined;
  private readonly queue: OfflineQueue;
  private readonly subs = new Map<string, Sub>();
  private session = 0;
  private everConnected = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private statusExtra: Record<string, unknown>;
  private readonly log = moduleLogger('mqtt');
  // a broker down for hours must not fill the journal: a few lines per minute per error kind
  private readonly warn = rateLimitedLog(this.log, 60_000, 3);

  constructor(options: MqttLinkOptions) {
    super();
    this.opts = resolveOptions(options);
    this.statusExtra = this.opts.status === false ? {} : { ...this.opts.status };
    this.queue = new OfflineQueue(this.opts.queue);
    this.queue.onDrop = (reason, m) => {
      droppedTotal.inc({ reason });
      this.emit('drop', { reason, topic: m.topic });
    };
    this.on('error', () => {}); // errors are logged and drive reconnects; never crash the daemon
  }

  get state(): LinkState {
    return this.state$.value;
  }
  get connected(): boolean {
    return this.state$.value === 'online';
  }
  /** messages waiting while offline */
  get queued(): number {
    return this.queue.length;
  }
  /** `<prefix>/<device>/<leaf>` */
  topic(leaf: string): string {
    return deviceTopic(this.opts, leaf);
  }

  /** Begin connecting (idempotent). The link keeps trying until `close()`. */
  start(): this {
    if (this.client || this.state === 'closed') return this;
    const client = mqtt.connect(this.opts.url, this.opts.client);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    this.connectNow(false);
    return this;
  }

  /** Resolves when online (starting the link if needed); rejects with E_MQTT_TIMEOUT. */
  async whenConnected(timeoutMs = 10_000): Promise<void> {
    this.start();
    await firstValueFrom(this.state$.pipe(filter((s) => s === 'online' || s === 'closed'), rxTimeout({ first: timeoutMs, with: () => {
      throw new EdgeError('E_MQTT_TIMEOUT', `no connection to the MQTT broker at ${this.opts.url} within ${timeoutMs} ms; check that the broker runs and the URL, credentials and certificates are right`);
    } })));
    if (this.state === 'closed') throw new EdgeError('E_MQTT_CLOSED', 'the MQTT link was closed before it connected');
  }

  /**
   * Decoded, validated sensor messages of `<prefix>/<device>/sensors/<name>`. Bad payloads are
   * counted (`edgereward_messages_total{stream,result}`), logged at a limited rate and dropped.
   */
  stream$(name: string, o: StreamOptions = {}): Observable<SensorSample> {
    if (!isTopicLevel(name)) throw new TypeError(`stream name "${name}" must be one MQTT topic level`);
    const spec = o.spec ?? this.opts.streams?.get(name);
    const dopts = { maxBytes: o.maxBytes ?? this.opts.maxBytes, maxFutureMs: o.maxFutureMs ?? this.opts.maxFutureMs, now: 0, spec };
    return this.subscribe$(sensorTopic(this.opts, name), { qos: o.qos ?? 0 }).pipe(
      map((m) => {
        dopts.now = m.rx;
        const r = decodeSensor(name, m.payload, dopts);
        account('mqtt', name, r);
        return r.ok ? { stream: name, rx: m.rx, msg: r.msg } : undefined;
      }),
      filter((s): s is SensorSample => s !== undefined),
      share(),
    );
  }

  /**
   * Every stream under `<prefix>/<device>/sensors/+` through one subscription. With
   * `streams` configured, a stream not in it is dropped and counted as `unknown_stream`
   * (label `_unknown`); without, every well-formed stream name is accepted.
   */
  sensors$(o: StreamOptions = {}): Observable<SensorSample> {
    const base = sensorTopic(this.opts, '');
    const known = this.opts.streams;
    const dopts = { maxBytes: o.maxBytes ?? this.opts.maxBytes, maxFutureMs: o.maxFutureMs ?? this.opts.maxFutureMs, now: 0, streams: known };
    return this.subscribe$(`${base}+`, { qos: o.qos ?? 0 }).pipe(
      map((m) => {
        const name = m.topic.slice(base.length);
        dopts.now = m.rx;
        const r = decodeSensor(name, m.payload, dopts);
        account('mqtt', name, r, known ? known.has(name) : r.ok);
        return r.ok ? { stream: name, rx: m.rx, msg: r.msg } : undefined;
      }),
      filter((s): s is SensorSample => s !== undefined),
      share(),
    );
  }

  /** Raw messages matching `topicFilter`; the broker subscription lives while someone observes. */
  subscribe$(topicFilter: string, o: { qos?: QoS } = {}): Observable<RawMessage> {
    return new Observable<RawMessage>((observer) => {
      let sub = this.subs.get(topicFilter);
      if (!sub) {
        sub = { filter: topicFilter, qos: o.qos ?? 0, refs: 0, subject: new Subject<RawMessage>() };
        this.subs.set(topicFilter, sub);
        this.start();
        if (this.connected) this.sendSubscribe(sub);
      }
      sub.refs++;
      const s = sub.subject.subscribe(observer);
      const held = sub;
      return () => {
        s.unsubscribe();
        if (--held.refs > 0) return;
        this.subs.delete(topicFilter);
        held.subject.complete();
        if (this.connected && this.client) this.client.unsubscribe(topicFilter, (err) => err && this.log.debug({ err: describeError(err) }, 'unsubscribe failed'));
      };
    });
  }

  /**
   * Publish now when online; while offline, queue (bounded, expiring after `maxAgeMs`).
   * Never throws for a network condition.
   */
  publish(topic: string, payload: string | Uint8Array, o: PublishOptions = {}): PublishResult {
    const buf = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const qos = o.qos ?? 0;
    const retain = o.retain ?? false;
    if (this.connected && this.client) {
      this.send(topic, buf, qos, retain, o.properties, 'direct');
      return 'sent';
    }
    this.start();
    const ok = this.queue.push({ topic, payload: buf, qos, retain, properties: o.properties, at: Date.now(), maxAgeMs: o.maxAgeMs ?? this.opts.queue.maxAgeMs }, Date.now());
    queueGauge.set(this.queue.length);
    return ok ? 'queued' : 'dropped';
  }

  /** Replace the extra fields of the retained birth message and publish it again. */
  setStatus(extra: Record<string, unknown>): void {
    this.statusExtra = { ...extra };
    if (this.opts.status !== false && this.connected) this.publishBirth();
  }

  /**
   * Graceful stop: publish the retained `offline` status (a clean DISCONNECT suppresses the
   * will in MQTT 3.1.1), then disconnect. Queued messages are dropped.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    const wasOnline = this.connected;
    this.setState('closed');
    this.queue.clear();
    queueGauge.set(0);
    for (const s of this.subs.values()) s.subject.complete();
    this.subs.clear();
    if (!client) return;
    if (wasOnline && this.opts.status !== false) {
      await new Promise<void>((resolve) => {
        client.publish(statusTopic(this.opts), deathPayload(this.opts.device, this.session, Date.now()), { qos: 1, retain: true }, () => resolve());
        setTimeout(resolve, 1000).unref();
      });
    }
    await new Promise<void>((resolve) => {
      client.end(!wasOnline, {}, () => resolve());
      setTimeout(resolve, 2000).unref();
    });
    client.removeAllListeners();
    client.on('error', () => {});
  }

  /** Tear the socket down without DISCONNECT (the broker then publishes the will); the link reconnects. For tests and fault drills. */
  dropConnection(): void {
    const stream = (this.client as unknown as { stream?: { destroy(): void } } | undefined)?.stream;
    stream?.destroy();
  }

  // ---- internals -------------------------------------------------------------------------

  private setState(s: LinkState): void {
    if (this.state$.value === s || this.state$.value === 'closed') return;
    connectedGauge.set(s === 'online' ? 1 : 0);
    this.state$.next(s);
  }

  private connectNow(retry: boolean): void {
    const client = this.client;
    if (!client || this.state === 'closed') return;
    // The will is read from the options at each CONNECT: give this session its own number.
    const next = this.session + 1;
    if (this.opts.status !== false) {
      client.options.will = { topic: statusTopic(this.opts), payload: deathPayload(this.opts.device, next, Date.now()), qos: 1, retain: true };
    }
    connectAttemptsTotal.inc();
    this.setState('connecting');
    if (retry) client.reconnect();
    else client.connect();
  }

  private scheduleReconnect(): void {
    if (this.timer || this.state === 'closed') return;
    const delayMs = backoffDelay(this.attempt, this.opts.reconnect);
    const attempt = ++this.attempt;
    this.emit('reconnect', { attempt, delayMs });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connectNow(true);
    }, delayMs);
  }

  private onConnect(): void {
    if (this.state === 'closed') return;
    this.session++;
    this.attempt = 0;
    const reconnect = this.everConnected;
    this.everConnected = true;
    if (reconnect) reconnectsTotal.inc();
    this.setState('online');
    this.log.info({ url: this.opts.url, session: this.session, reconnect }, reconnect ? 'reconnected to the MQTT broker' : 'connected to the MQTT broker');
    if (this.opts.status !== false) this.publishBirth();
    for (const s of this.subs.values()) this.sendSubscribe(s);
    const fresh = this.queue.drain(Date.now());
    queueGauge.set(0);
    for (const m of fresh) this.send(m.topic, m.payload, m.qos, m.retain, m.properties, 'queue');
    this.emit('connect', { session: this.session, reconnect });
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    if (this.state === 'online') {
      disconnectsTotal.inc();
      this.log.warn({ url: this.opts.url, session: this.session }, 'lost the connection to the MQTT broker; reconnecting with backoff');
      this.emit('disconnect', { session: this.session, reason: 'closed' });
    }
    this.setState('offline');
    this.scheduleReconnect();
  }

  private onError(err: Error): void {
    const code = (err as { code?: unknown }).code;
    this.warn(`mqtt:${String(code ?? err.message)}`, { url: this.opts.url, err: describeError(err), code }, 'MQTT connection error; retrying with backoff');
    this.emit('error', err);
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const rx = Date.now();
    let msg: RawMessage | undefined;
    for (const s of this.subs.values()) {
      if (s.filter !== topic && !topicMatches(s.filter, topic)) continue;
      msg ??= { topic, payload, rx, retain: packet.retain, qos: packet.qos, properties: packet.properties };
      s.subject.next(msg);
    }
  }

  private sendSubscribe(s: Sub): void {
    this.client?.subscribe(s.filter, { qos: s.qos }, (err, granted) => {
      if (err) this.log.warn({ filter: s.filter, err: describeError(err) }, 'subscribe failed');
      else if (granted?.[0] && granted[0].qos === 128) this.log.error({ filter: s.filter }, `the broker refused the subscription to ${s.filter}; check its ACL`);
    });
  }

  private publishBirth(): void {
    this.send(statusTopic(this.opts), birthPayload(this.opts.device, this.session, this.statusExtra, Date.now()), 1, true, undefined, 'direct');
  }

  private send(topic: string, buf: Buffer, qos: QoS, retain: boolean, properties: PublishOptions['properties'], via: 'direct' | 'queue'): void {
    const o: IClientPublishOptions = { qos, retain };
    if (properties && this.opts.client.protocolVersion === 5) o.properties = properties;
    publishedTotal.inc({ via });
    this.client!.publish(topic, buf, o, (err) => {
      if (!err) return;
      droppedTotal.inc({ reason: 'error' });
      this.emit('drop', { reason: 'error', topic });
      this.log.debug({ topic, err: describeError(err) }, 'publish failed');
    });
  }
}
