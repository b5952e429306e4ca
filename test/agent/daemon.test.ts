/**
 * The daemon against a real mosquitto: it decides on streams published over MQTT, falls back
 * when they go stale, serves score requests (MQTT 5 response topic + correlation data) and
 * reports on /metrics and /readyz.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { Daemon } from '../../src/agent/daemon.js';
import { loadConfig } from '../../src/config/load.js';
import { SystemdNotifier } from '../../src/telemetry/notify.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { makeTestBundle } from './fixtures.js';

const next = <T>(c: mqtt.MqttClient, topic: string, pred: (m: T) => boolean = () => true) =>
  new Promise<{ msg: T; packet: mqtt.IPublishPacket }>((resolve) => {
    const on = (tp: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      if (tp !== topic) return;
      const msg = JSON.parse(payload.toString()) as T;
      if (!pred(msg)) return;
      c.off('message', on);
      resolve({ msg, packet });
    };
    c.on('message', on);
  });

t.test('daemon on mosquitto: decide, stale fallback, score service, telemetry', async (t) => {
  const broker = await startMosquitto(t);
  const tb = makeTestBundle(t);
  const cfg = loadConfig({
    env: {},
    flags: {
      'device.id': 'r1',
      'mqtt.url': broker.url,
      'mqtt.protocolVersion': 5,
      'model.bundle': tb.bundle,
      'model.trust': tb.trust,
      'loop.rateHz': 20,
      'loop.maxAgeMs': 300,
      'engine.warmupRuns': 0,
      'telemetry.port': 0,
      'telemetry.watchdog': false,
    },
  });
  const d = await Daemon.start(cfg, { notifier: new SystemdNotifier({ socket: undefined }) });
  t.teardown(() => d.stop());
  await d.link!.whenConnected();

  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.teardown(() => c.end(true));
  await c.subscribeAsync(['edgereward/r1/action', 'edgereward/r1/score/response', 'planner/replies']);

  // No input yet: the fallback, with its reason.
  const missing = await next<{ fallback?: string }>(c, 'edgereward/r1/action', (m) => m.fallback === 'missing_input');
  t.same((missing.msg as unknown as { action: unknown }).action, { v: 0, w: 0 });

  // Fresh streams: a decision by the model.
  const publish = () => {
    const now = Date.now();
    c.publish('edgereward/r1/sensors/odom', JSON.stringify({ t: now, v: 0.2 }));
    c.publish('edgereward/r1/sensors/goal', JSON.stringify({ t: now, dx: 3 }));
  };
  const feeder = setInterval(publish, 50);
  publish();
  const decided = await next<{ fallback?: string; model: string; reward: number }>(c, 'edgereward/r1/action', (m) => m.fallback === undefined);
  t.equal(decided.msg.model, 'nav@1.4.0');
  t.type(decided.msg.reward, 'number');

  // Readiness and metrics while deciding.
  const ready = (await (await fetch(`${d.http!.url}/readyz`)).json()) as { ready: boolean; checks: Record<string, unknown> };
  t.equal(ready.ready, true, JSON.stringify(ready));
  const metrics = await (await fetch(`${d.http!.url}/metrics`)).text();
  t.match(metrics, /edgereward_decision_latency_seconds_bucket/);
  t.match(metrics, /edgereward_fallbacks_total\{reason="missing_input"\} [1-9]/);
  t.match(metrics, /edgereward_model_info\{model="nav@1.4.0"\} 1/);
  t.match(metrics, /edgereward_messages_total/);
  t.equal((await fetch(`${d.http!.url}/healthz`)).status, 200);

  // Score service, MQTT 5: reply on the request's response topic with its correlation data.
  const corr = Buffer.from('req-42-corr');
  const reply = next<{ id: string; rewards: number[]; best: number; model: string }>(c, 'planner/replies');
  await c.publishAsync(
    'edgereward/r1/score/request',
    JSON.stringify({ id: 'a1', streams: { odom: { v: 0.2 }, goal: { dx: 3 } }, candidates: [{ v: 0, w: 0 }, { v: 1, w: 0.5 }, { v: 0.5, w: -1 }] }),
    { qos: 1, properties: { responseTopic: 'planner/replies', correlationData: corr } },
  );
  const r = await reply;
  t.equal(r.msg.id, 'a1');
  t.equal(r.msg.rewards.length, 3);
  t.equal(r.msg.best, r.msg.rewards.indexOf(Math.max(...r.msg.rewards)));
  t.equal(r.msg.model, 'nav@1.4.0');
  t.same(r.packet.properties?.correlationData, corr, 'correlation data echoed');

  // Bad requests get {id, error:{code, message}} on the default response topic.
  const bad1 = next<{ id: unknown; error: { code: string; message: string } }>(c, 'edgereward/r1/score/response', (m) => m.id === 'b1');
  await c.publishAsync('edgereward/r1/score/request', JSON.stringify({ id: 'b1', streams: { odom: { v: 0.2 }, goal: { dx: 3 } }, candidates: [{ v: 1 }] }), { qos: 1 });
  t.equal((await bad1).msg.error.code, 'E_SCORE_REQUEST');
  t.match((await bad1).msg.error.message, /no finite value for "w"/);
  const bad2 = next<{ id: unknown; error: { code: string } }>(c, 'edgereward/r1/score/response', (m) => m.id === null);
  await c.publishAsync('edgereward/r1/score/request', '{not json', { qos: 1 });
  t.equal((await bad2).msg.error.code, 'E_SCORE_JSON');
  const bad3 = next<{ id: unknown; error: { code: string } }>(c, 'edgereward/r1/score/response', (m) => m.id === 'b3');
  await c.publishAsync('edgereward/r1/score/request', JSON.stringify({ id: 'b3', streams: { odom: { v: 0.2 } }, candidates: [{ v: 1, w: 0 }] }), { qos: 1 });
  t.equal((await bad3).msg.error.code, 'E_SCORE_INPUT');

  // The sensors stop: stale input -> fallback, and the daemon is no longer ready.
  clearInterval(feeder);
  const stale = await next<{ fallback?: string; action: unknown }>(c, 'edgereward/r1/action', (m) => m.fallback === 'stale_input');
  t.same(stale.msg.action, { v: 0, w: 0 });
  const notReady = await fetch(`${d.http!.url}/readyz`);
  t.equal(notReady.status, 503);

  await d.stop();
  t.equal(d.loop.running, false);
});
