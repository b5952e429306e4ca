import t from 'tap';
import mqtt from 'mqtt';
import { firstValueFrom, take, toArray, filter, timeout } from 'rxjs';
import { MqttLink } from '../../src/io/mqtt/MqttLink.js';
import { registry } from '../../src/telemetry/metrics.js';
import { startMosquitto } from '../helpers/mosquitto.js';

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const v = (await m.get()).values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

function waitFor<T>(link: MqttLink, ev: 'connect' | 'disconnect', ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
    link.once(ev, (x: unknown) => {
      clearTimeout(timer);
      resolve(x as T);
    });
  });
}

for (const protocolVersion of [4, 5] as const) {
  t.test(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: sensor streams arrive as observables, bad input is counted and dropped`, async (t) => {
    const broker = await startMosquitto(t);
    const link = new MqttLink({ url: broker.url, device: 'bot1', protocolVersion, reconnect: { minMs: 50, maxMs: 500, jitter: 0.5 } });
    t.teardown(() => link.close());
    const got = firstValueFrom(link.stream$('odom').pipe(take(2), toArray(), timeout(10_000)));
    await link.whenConnected();
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion });
    t.teardown(() => pub.endAsync());
    // let the link's SUBSCRIBE reach the broker: a retained probe on the same topic comes back
    const topic = 'edgereward/bot1/sensors/odom';
    const before = await metric('edgereward_messages_total', { stream: 'odom', result: 'ok' });
    await pub.publishAsync(topic, JSON.stringify({ t: Date.now(), x: 1, y: 2, theta: 0, v: 0.5, w: 0 }), { qos: 1 });
    const bad: string[] = [
      '{"t": 1, "x": ',                               // bad_json
      '[1,2,3]',                                     // not_object
      JSON.stringify({ t: Date.now(), x: 'one' }),    // bad_type
      `{"t": ${Date.now()}, "x": 1e999}`,            // non_finite
      JSON.stringify({ t: Date.now() + 3_600_000, x: 1 }), // future
      JSON.stringify({ t: Date.now(), x: Array(40000).fill(1) }), // too_large: 80 kB, limit 64 KiB
    ];
    for (const b of bad) await pub.publishAsync(topic, b, { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ t: Date.now(), x: 3, y: 4, theta: 0, v: 0.5, w: 0 }), { qos: 1 });
    const samples = await got;
    t.equal(samples.length, 2);
    t.equal(samples[0]!.stream, 'odom');
    t.equal(samples[0]!.msg['x'], 1);
    t.equal(samples[1]!.msg['x'], 3, 'the bad messages in between were dropped');
    t.type(samples[0]!.rx, 'number');
    t.equal((await metric('edgereward_messages_total', { stream: 'odom', result: 'ok' })) - before, 2);
    for (const r of ['bad_json', 'not_object', 'bad_type', 'non_finite', 'future', 'too_large']) {
      t.ok((await metric('edgereward_messages_total', { stream: 'odom', result: r })) >= 1, `${r} counted`);
    }
  });
}

t.test('MQTT 5 properties (responseTopic, correlationData) pass through publish and subscribe$', async (t) => {
  const broker = await startMosquitto(t);
  const link = new MqttLink({ url: broker.url, device: 'bot2', protocolVersion: 5 });
  t.teardown(() => link.close());
  const req = firstValueFrom(link.subscribe$(link.topic('score/request')).pipe(timeout(10_000)));
  await link.whenConnected();
  const peer = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.teardown(() => peer.endAsync());
  await peer.subscribeAsync('reply/here');
  const reply = new Promise<mqtt.IPublishPacket>((resolve) => peer.on('message', (_t, _p, packet) => resolve(packet)));
  await peer.publishAsync('edgereward/bot2/score/request', '{"id":1}', { qos: 1, properties: { responseTopic: 'reply/here', correlationData: Buffer.from('abc') } });
  const m = await req;
  t.equal(m.properties?.responseTopic, 'reply/here');
  t.same(m.properties?.correlationData, Buffer.from('abc'));
  t.equal(link.publish(m.properties!.responseTopic!, '{"id":1,"rewards":[]}', { qos: 1, properties: { correlationData: m.properties!.correlationData! } }), 'sent');
  const p = await reply;
  t.same(p.properties?.correlationData, Buffer.from('abc'));
});

t.test('retained birth, and the last will "offline" when the socket dies; birth again after reconnect', async (t) => {
  const broker = await startMosquitto(t);
  const link = new MqttLink({ url: broker.url, device: 'bot3', keepalive: 5, status: { model: 'nav@1.0.0' }, reconnect: { minMs: 100, maxMs: 200, jitter: 0 } });
  t.teardown(() => link.close());
  await link.whenConnected();
  const watcher = await mqtt.connectAsync(broker.url);
  t.teardown(() => watcher.endAsync());
  const states: Array<{ state: string; session: number; model?: string }> = [];
  let onStatus = () => {};
  watcher.on('message', (_topic, payload) => {
    states.push(JSON.parse(payload.toString()));
    onStatus();
  });
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`status history: ${JSON.stringify(states)}`)), 10_000);
      const check = () => pred() && (clearTimeout(timer), resolve());
      onStatus = check;
      check();
    });
  await watcher.subscribeAsync('edgereward/bot3/status');
  await until(() => states.length >= 1);
  t.match(states[0], { state: 'online', device: 'bot3', session: 1, model: 'nav@1.0.0' }, 'retained birth seen by a late subscriber');
  const reconnected = waitFor(link, 'connect');
  link.dropConnection();
  await until(() => states.some((s) => s.state === 'offline'));
  t.match(states.find((s) => s.state === 'offline'), { state: 'offline', session: 1 }, 'the will carries the dead session');
  await reconnected;
  await until(() => states.some((s) => s.state === 'online' && s.session === 2));
  t.pass('a new birth with the next session after reconnect');
  // graceful close publishes offline explicitly (a clean DISCONNECT suppresses the will)
  await link.close();
  await until(() => states.filter((s) => s.state === 'offline').length >= 2);
  t.match(states.at(-1), { state: 'offline', session: 2 });
});

t.test('broker killed and restarted: reconnect with backoff, messages flow again, the offline queue stays bounded and stale actions expire', async (t) => {
  const broker = await startMosquitto(t);
  const link = new MqttLink({
    url: broker.url,
    device: 'bot4',
    keepalive: 2,
    reconnect: { minMs: 50, maxMs: 400, jitter: 0.5 },
    queue: { maxMessages: 5, maxAgeMs: 60_000 },
  });
  t.teardown(() => link.close());
  const drops: string[] = [];
  link.on('drop', (d) => drops.push(d.reason));
  const reconnectsBefore = await metric('edgereward_mqtt_reconnects_total');
  await link.whenConnected();
  const lost = waitFor(link, 'disconnect');
  await broker.kill();
  await lost;
  t.equal(link.connected, false);
  // While offline: 3 stale actions (max age 1 ms) and 20 fresh ones into a queue of 5.
  for (let i = 0; i < 3; i++) t.equal(link.publish(link.topic('action'), JSON.stringify({ seq: -i }), { qos: 1, maxAgeMs: 1 }), 'queued');
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 20; i++) link.publish(link.topic('action'), JSON.stringify({ seq: i }), { qos: 1 });
  t.equal(link.queued, 5, 'the queue is capped');
  t.equal(drops.filter((d) => d === 'expired').length, 3, 'stale actions expired');
  t.equal(drops.filter((d) => d === 'overflow').length, 15, 'oldest dropped on overflow');

  await broker.restart();
  // Subscribe a watcher before the link gets back so it sees exactly what the queue flushes.
  const watcher = await mqtt.connectAsync(broker.url);
  t.teardown(() => watcher.endAsync());
  await watcher.subscribeAsync('edgereward/bot4/action', { qos: 1 });
  const seen: number[] = [];
  watcher.on('message', (_t, p) => seen.push((JSON.parse(p.toString()) as { seq: number }).seq));
  // the link may already be back (backoff is short): wait for online either way
  await link.whenConnected(15_000);
  t.ok((await metric('edgereward_mqtt_reconnects_total')) > reconnectsBefore, 'reconnect counted');
  const stream = firstValueFrom(link.stream$('lidar').pipe(take(1), timeout(10_000)));
  const pub = await mqtt.connectAsync(broker.url);
  t.teardown(() => pub.endAsync());
  // publish until the resubscription is in place (retained would also do; this checks live flow)
  const iv = setInterval(() => void pub.publishAsync('edgereward/bot4/sensors/lidar', JSON.stringify({ t: Date.now(), ranges: [1, 2, 3] })), 50);
  const s = await stream.finally(() => clearInterval(iv));
  t.same(s.msg['ranges'], [1, 2, 3], 'messages flow again after the restart');
  link.publish(link.topic('action'), JSON.stringify({ seq: 999 }), { qos: 1 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`seen ${JSON.stringify(seen)}`)), 10_000);
    const iv2 = setInterval(() => seen.includes(999) && (clearInterval(iv2), clearTimeout(timer), resolve()), 20);
  });
  const flushed = seen.filter((x) => x !== 999);
  t.ok(flushed.length <= 5, `at most the 5 queued actions were flushed (${JSON.stringify(flushed)})`);
  t.ok(flushed.every((x) => x >= 15), 'only the freshest survived');
});

t.test('sensors$: all streams through one wildcard subscription; unknown streams counted, not delivered', async (t) => {
  const broker = await startMosquitto(t);
  const link = new MqttLink({ url: broker.url, device: 'bot5', streams: new Map([['imu', undefined], ['goal', { fields: { dist: 'number' } }]]) });
  t.teardown(() => link.close());
  const got = firstValueFrom(link.sensors$().pipe(take(2), toArray(), timeout(10_000)));
  await link.whenConnected();
  const pub = await mqtt.connectAsync(broker.url);
  t.teardown(() => pub.endAsync());
  const unknown0 = await metric('edgereward_messages_total', { source: 'mqtt', stream: '_unknown', result: 'unknown_stream' });
  // retained, so they arrive whatever the order of SUBSCRIBE and PUBLISH
  await pub.publishAsync('edgereward/bot5/sensors/sonar', JSON.stringify({ t: Date.now(), d: 1 }), { qos: 1 });
  await pub.publishAsync('edgereward/bot5/sensors/goal', JSON.stringify({ t: Date.now(), dist: 'far' }), { qos: 1 });
  await pub.publishAsync('edgereward/bot5/sensors/imu', JSON.stringify({ t: Date.now(), ax: 1 }), { qos: 1, retain: true });
  await pub.publishAsync('edgereward/bot5/sensors/goal', JSON.stringify({ t: Date.now(), dist: 2 }), { qos: 1, retain: true });
  const s = await got;
  t.same(s.map((x) => x.stream).sort(), ['goal', 'imu']);
  t.ok((await metric('edgereward_messages_total', { source: 'mqtt', stream: '_unknown', result: 'unknown_stream' })) > unknown0, 'unknown stream counted under _unknown');
  t.ok((await metric('edgereward_messages_total', { source: 'mqtt', stream: 'goal', result: 'bad_type' })) >= 1, 'spec violation counted');
});
