/**
 * The daemon: wires a configuration into links, the decision loop, the score service,
 * telemetry and systemd notifications, and takes it all down again in order.
 *
 *   streams (MQTT, serial) -> LatestValues -> DecisionLoop -> sinks (MQTT action, serial)
 */
import { merge, share, tap, type Observable, type Subscription } from 'rxjs';
import { describeError, EdgeError } from '../errors.js';
import { MqttLink } from '../io/mqtt/MqttLink.js';
import { SerialLink, type SerialCodecOptions } from '../io/serial/SerialLink.js';
import { specsFromPlan, type SensorSample } from '../io/messages/sensor.js';
import type { ModelHost } from '../runtime/host.js';
import { startModelHost, startUpdates, type UpdateAgent } from '../runtime/updates/index.js';
import type { EdgeConfig, SerialConfig } from '../config/schema.js';
import { moduleLogger } from '../telemetry/log.js';
import { enableProcessMetrics } from '../telemetry/metrics.js';
import { startTelemetryServer, type Readiness, type TelemetryServer } from '../telemetry/http.js';
import { SystemdNotifier, startWatchdog } from '../telemetry/notify.js';
import type { ActionSink } from '../io/sinks/ActionSink.js';
import { MqttActionSink } from '../io/sinks/MqttActionSink.js';
import { SerialActionSink } from '../io/sinks/SerialActionSink.js';
import { LatestValues, latestInto } from './latest.js';
import { DecisionLoop, type DecisionTap } from './loop.js';
import type { Recorder } from '../io/record/Recorder.js';
import type { FoxgloveBridge } from '../telemetry/foxglove/FoxgloveBridge.js';
import type { DeviceView } from '../telemetry/web/device-view.js';
import { makePolicy } from './policy.js';
import type { ModelSource } from './scorer.js';
import { ScoreService, serveScoreRequests } from './score-service.js';
import { ticks } from './tick.js';

const log = moduleLogger('daemon');

export interface DaemonOptions {
  /** Broker URL to use instead of mqtt.url (the embedded broker's). */
  mqttUrl?: string;
  notifier?: SystemdNotifier;
}

export class Daemon {
  readonly started = Date.now();
  private subs: Subscription[] = [];
  private watchdog: { stop(): void } | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** The MCAP recorder (record.enabled) and the Foxglove bridge (foxglove.enabled). */
  recorder: Recorder | undefined;
  foxglove: FoxgloveBridge | undefined;
  /** The live page on the telemetry port (telemetry.web). */
  web: DeviceView | undefined;
  /** Fleet updates (updates.enabled with a fleet name and MQTT). */
  updates: UpdateAgent | undefined;

  private constructor(
    readonly config: EdgeConfig,
    readonly models: ModelHost,
    readonly link: MqttLink | undefined,
    readonly serial: SerialLink[],
    readonly latest: LatestValues,
    readonly loop: DecisionLoop,
    readonly notifier: SystemdNotifier,
    readonly stallMs: number,
    public http: TelemetryServer | undefined,
  ) {}

  /** Load the model, open the links, start the loop and telemetry. */
  static async start(cfg: EdgeConfig, o: DaemonOptions = {}): Promise<Daemon> {
    enableProcessMetrics();
    // The model host: the store's active model (else last-known-good, else model.bundle adopted
    // into the store), swapped between ticks when the fleet pushes a new one.
    const models = await startModelHost(cfg);
    const model = models.current()!;
    const scorer = model.scorer;
    if (!scorer.plan || !scorer.candidates) {
      await models.close();
      throw new EdgeError('E_MODEL_MANIFEST', `${model.id} has no feature map or action space, so the loop cannot feed it; run a bundle (edgereward bundle create), not a bare .onnx file`);
    }
    const plan = scorer.plan;

    // Every stream the model reads, plus any configured: MQTT unless configured as serial.
    const byName = new Map(cfg.streams.map((s) => [s.name, s]));
    const names = new Set([...plan.streams.keys(), ...byName.keys()]);
    if (cfg.loop.trigger) names.add(cfg.loop.trigger);
    const specs = specsFromPlan(plan.streams);
    const mqttStreams = [...names].filter((n) => (byName.get(n)?.source ?? 'mqtt') === 'mqtt');
    const needMqtt = mqttStreams.length > 0 || cfg.actions.mqtt || cfg.score.enabled;
    const url = o.mqttUrl ?? cfg.mqtt.url;
    const link = needMqtt
      ? new MqttLink({
          url,
          device: cfg.device.id,
          prefix: cfg.mqtt.prefix,
          protocolVersion: cfg.mqtt.protocolVersion,
          keepalive: cfg.mqtt.keepalive,
          ...(cfg.mqtt.clientId ? { clientId: cfg.mqtt.clientId } : {}),
          ...(cfg.mqtt.username ? { username: cfg.mqtt.username } : {}),
          ...(cfg.mqtt.password ? { password: cfg.mqtt.password } : {}),
          ...(cfg.mqtt.tls.ca ? { ca: cfg.mqtt.tls.ca } : {}),
          ...(cfg.mqtt.tls.cert ? { cert: cfg.mqtt.tls.cert } : {}),
          ...(cfg.mqtt.tls.key ? { key: cfg.mqtt.tls.key } : {}),
          rejectUnauthorized: cfg.mqtt.tls.rejectUnauthorized,
          status: { state: 'starting', model: model.id },
          streams: specs,
          queue: { maxAgeMs: cfg.actions.maxAgeMs },
        })
      : undefined;
    const serial = cfg.serial.map((s) => new SerialLink({ path: s.path, baudRate: s.baud, codec: serialCodec(s), streams: [...names].filter((n) => byName.get(n)?.source === 'serial') }));
    const serialFor = (name: string): SerialLink | undefined => serial.find((_l, i) => serialStreamsOf(cfg.serial[i]!, cfg).includes(name)) ?? serial[0];

    // One subscription per stream, shared by the latest-value store and the trigger (a second
    // subscription would count every message twice). The store subscribes first, so a trigger
    // tick always sees the message that caused it.
    const shared = new Map<string, Observable<SensorSample>>();
    const stream$ = (name: string): Observable<SensorSample> => {
      let s = shared.get(name);
      if (!s) shared.set(name, (s = openStream(name).pipe(share())));
      return s;
    };
    const openStream = (name: string): Observable<SensorSample> => {
      const s = byName.get(name);
      if (s?.source === 'serial') {
        const l = serialFor(name);
        if (!l) throw new EdgeError('E_CONFIG_STREAM', `stream "${name}" is configured with source "serial", but no serial port is configured; add one under "serial"`);
        return l.stream$(name);
      }
      return link!.stream$(name, { qos: s?.qos ?? 0, ...(s?.maxBytes ? { maxBytes: s.maxBytes } : {}) });
    };

    const latest = new LatestValues();
    const maxAgeMs: Record<string, number> = {};
    for (const s of cfg.streams) maxAgeMs[s.name] = s.maxAgeMs ?? cfg.loop.maxAgeMs;
    const sinks: ActionSink[] = [];
    if (cfg.actions.mqtt && link) sinks.push(new MqttActionSink(link, { qos: cfg.actions.qos, maxAgeMs: cfg.actions.maxAgeMs }));
    cfg.serial.forEach((s, i) => s.actions && sinks.push(new SerialActionSink(serial[i]!)));

    const trigger = cfg.loop.trigger;
    const tickSrc = trigger ? ticks({ trigger: stream$(trigger), idleMs: maxAgeMs[trigger] ?? cfg.loop.maxAgeMs }) : ticks({ rateHz: cfg.loop.rateHz });
    const period = trigger ? (maxAgeMs[trigger] ?? cfg.loop.maxAgeMs) : 1000 / cfg.loop.rateHz;
    const taps: DecisionTap[] = [];
    const { recorder, foxglove } = await startViews(cfg, models, latest, maxAgeMs, taps);
    const web = cfg.telemetry.port >= 0 ? await import('../telemetry/web/index.js') : undefined;
    const webTap = web?.liveTap(latest);
    if (webTap) taps.push(webTap);
    const loop = new DecisionLoop({
      models,
      latest,
      ticks: tickSrc,
      sinks,
      fallback: cfg.loop.fallback,
      deadlineMs: cfg.loop.deadlineMs,
      maxAgeMs,
      defaultMaxAgeMs: cfg.loop.maxAgeMs,
      policy: makePolicy({ kind: cfg.loop.policy, temperature: cfg.loop.temperature, seed: cfg.loop.seed }),
      taps,
      coalesce: trigger !== '',
    });

    const d = new Daemon(cfg, models, link, serial, latest, loop, o.notifier ?? new SystemdNotifier(), Math.max(1000, 5 * period), undefined);
    d.recorder = recorder;
    d.foxglove = foxglove;
    const record = recorder ? tap(recorder.sensor) : (x: Observable<SensorSample>) => x;
    d.subs.push(merge(...[...names].map(stream$)).pipe(record, latestInto(latest)).subscribe({ error: (e: unknown) => log.error({ err: describeError(e) }, 'a sensor stream failed') }));
    if (cfg.score.enabled && link) d.subs.push(serveScoreRequests(link, new ScoreService(models, loop.gate, { maxCandidates: cfg.score.maxCandidates })));
    models.setInputs(latest);
    if (link) d.updates = startUpdates({ cfg, link, host: models, streams: names, onActiveChange: () => d.publishStatus('running') });
    if (!d.updates) models.onEvent = (e) => log.info({ ...e }, `model ${e.event}: ${e.model}`);
    link?.start();
    for (const s of serial) s.start();
    loop.start();
    if (web && webTap) d.web = web.startDeviceView(cfg, { tap: webTap, loop, models, latest, streams: plan.streams.keys(), ...(link ? { link } : {}) });
    if (cfg.telemetry.port >= 0) d.http = await startTelemetryServer({ host: cfg.telemetry.host, port: cfg.telemetry.port, readiness: () => d.readiness(), ...(d.web ? { handle: d.web.handler } : {}) });
    d.statusTimer = setInterval(() => d.publishStatus('running'), cfg.telemetry.statusIntervalMs);
    d.statusTimer.unref();
    d.publishStatus('running');
    if (cfg.telemetry.watchdog) d.watchdog = startWatchdog({ notifier: d.notifier, healthy: () => d.loop.health(d.stallMs).ticking, status: () => `deciding with ${model.id}` });
    log.info({ model: model.id, provider: (scorer.inner as { provider?: string }).provider ?? null, streams: [...names], mqtt: link ? url : null, serial: cfg.serial.map((s) => s.path), http: d.http?.url ?? null, loop: trigger ? { trigger } : { rateHz: cfg.loop.rateHz } }, 'edgereward is running');
    return d;
  }

  readiness(): Readiness {
    const h = this.loop.health(this.stallMs);
    const m = this.models.current();
    const fresh = h.lastFallback !== 'stale_input' && h.lastFallback !== 'missing_input';
    const checks = { model: m?.id ?? false, ticking: h.ticking, inputs_fresh: fresh, deciding: h.deciding, mqtt: this.link ? this.link.connected : 'off' };
    return { ready: m !== undefined && h.ticking && fresh, checks };
  }

  publishStatus(state: string): void {
    if (!this.link) return;
    const s = this.loop.stats;
    const [p50, p99] = this.loop.latency.percentiles([0.5, 0.99]);
    this.link.setStatus({ state, model: this.models.current()?.id ?? null, uptime_s: Math.round((Date.now() - this.started) / 1000), ticks: s.ticks, decisions: s.decisions, fallbacks: s.fallbacks, deadline_misses: s.deadlineMisses, p50_ms: round3(p50!), p99_ms: round3(p99!) });
  }

  /** Stop the loop, say goodbye (offline status, STOPPING=1), close links and telemetry. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.watchdog?.stop();
      clearInterval(this.statusTimer);
      const told = this.notifier.stopping();
      await this.loop.stop();
      for (const s of this.subs) s.unsubscribe();
      await Promise.allSettled([this.recorder?.close(), this.foxglove?.close()]);
      this.web?.close();
      await Promise.allSettled([this.link?.close(), ...this.serial.map((s) => s.close()), this.http?.close()]);
      await this.updates?.stop();
      await this.models.close().catch(() => undefined);
      await told;
      log.info({ decisions: this.loop.stats.decisions, fallbacks: this.loop.stats.fallbacks }, 'edgereward stopped');
    })();
    return this.stopping;
  }
}

/** The recorder and the Foxglove bridge, when configured, as decision taps (lazy imports: off by default). */
async function startViews(cfg: EdgeConfig, models: ModelSource, latest: LatestValues, maxAgeMs: Record<string, number>, taps: DecisionTap[]): Promise<{ recorder: Recorder | undefined; foxglove: FoxgloveBridge | undefined }> {
  let recorder: Recorder | undefined;
  let foxglove: FoxgloveBridge | undefined;
  const candidates = () => models.current()?.scorer.candidates;
  if (cfg.record.enabled && cfg.record.dir !== '') {
    const { Recorder } = await import('../io/record/Recorder.js');
    const { foxgloveViews } = await import('../telemetry/foxglove/views.js');
    const r = cfg.record;
    recorder = new Recorder({ dir: r.dir, maxFileBytes: r.maxFileBytes, maxFileAgeMs: r.maxFileAgeMs, maxTotalBytes: r.maxTotalBytes, chunkBytes: r.chunkBytes, flushMs: r.flushMs, queue: r.queue, views: [foxgloveViews({ rateHz: cfg.foxglove.rateHz, candidates })] });
    recorder.start({ policy: cfg.loop.policy, temperature: cfg.loop.temperature, seed: cfg.loop.seed, fallback: cfg.loop.fallback, maxAgeMs, defaultMaxAgeMs: cfg.loop.maxAgeMs, deadlineMs: cfg.loop.deadlineMs });
    taps.push(recorder);
  }
  if (cfg.foxglove.enabled) {
    const { FoxgloveBridge } = await import('../telemetry/foxglove/FoxgloveBridge.js');
    foxglove = await FoxgloveBridge.start({ host: cfg.foxglove.host, port: cfg.foxglove.port, token: cfg.foxglove.token, rateHz: cfg.foxglove.rateHz, latest, name: `edgereward ${cfg.device.id}` });
    taps.push(foxglove);
  }
  return { recorder, foxglove };
}

const round3 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

function serialStreamsOf(s: SerialConfig, cfg: EdgeConfig): string[] {
  if (s.codec !== 'jsonl' && s.stream) return [s.stream];
  return cfg.streams.filter((x) => x.source === 'serial').map((x) => x.name);
}

function serialCodec(s: SerialConfig): SerialCodecOptions {
  switch (s.codec) {
    case 'csv':
      return { kind: 'csv', columns: s.columns, stream: s.stream };
    case 'frame':
      return { kind: 'frame', streams: { 0: { stream: s.stream, fields: s.columns } } };
    default:
      return { kind: 'jsonl' };
  }
}
