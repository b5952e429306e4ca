import t from 'tap';
import { backoffDelay } from '../../src/io/mqtt/backoff.js';
import { OfflineQueue, type QueuedMessage } from '../../src/io/mqtt/OfflineQueue.js';
import { resolveOptions } from '../../src/io/mqtt/options.js';
import { birthPayload, deathPayload } from '../../src/io/mqtt/status.js';
import { sensorTopic, topicMatches } from '../../src/io/mqtt/topics.js';

t.test('backoff: exponential, capped, jittered within bounds', async (t) => {
  const o = { minMs: 100, maxMs: 1000, jitter: 0.5 };
  t.same([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, o, () => 1)), [100, 200, 400, 800, 1000, 1000]);
  t.same([0, 1, 2].map((n) => backoffDelay(n, o, () => 0)), [50, 100, 200], 'jitter takes up to half off');
  t.equal(backoffDelay(3, { ...o, jitter: 0 }, () => 0.3), 800, 'no jitter: deterministic');
  t.equal(backoffDelay(1e6, o, () => 1), 1000, 'huge attempt counts do not overflow');
  t.throws(() => backoffDelay(0, { minMs: 10, maxMs: 5, jitter: 0 }), RangeError);
  t.throws(() => backoffDelay(0, { minMs: 1, maxMs: 5, jitter: 2 }), RangeError);
});

const msg = (topic: string, at: number, maxAgeMs = 1000, bytes = 10): QueuedMessage => ({ topic, payload: Buffer.alloc(bytes), qos: 0, retain: false, at, maxAgeMs });

t.test('offline queue: capped by count and bytes, oldest dropped, stale expired, order kept', async (t) => {
  const q = new OfflineQueue({ maxMessages: 3, maxBytes: 25, maxAgeMs: 1000 });
  const drops: string[] = [];
  q.onDrop = (r, m) => drops.push(`${r}:${m.topic}`);
  t.equal(q.push(msg('a', 0), 0), true);
  q.push(msg('b', 1), 1);
  q.push(msg('c', 2, 1000, 10), 2); // 30 bytes > 25: a goes
  t.same(drops, ['overflow:a']);
  t.equal(q.size, 20);
  q.push(msg('d', 3, 5), 3);
  t.same(drops, ['overflow:a', 'overflow:b']);
  t.equal(q.length, 2);
  t.same(q.drain(10).map((m) => m.topic), ['c'], 'd expired after 5 ms');
  t.same(drops.at(-1), 'expired:d');
  t.equal(q.length, 0);
  t.equal(q.push(msg('big', 20, 1000, 100), 20), false, 'larger than the whole queue');
  t.equal(q.push(msg('dead', 20, 0), 20), false, 'max age 0: never queued');
  t.same(drops.slice(-2), ['too_large:big', 'expired:dead']);
  q.push(msg('e', 30), 30);
  q.clear();
  t.same(drops.at(-1), 'expired:e');
});

t.test('topics and filters', async (t) => {
  t.equal(sensorTopic({ prefix: 'edgereward', device: 'r1' }, 'lidar'), 'edgereward/r1/sensors/lidar');
  t.ok(topicMatches('a/+/c', 'a/b/c'));
  t.ok(topicMatches('a/#', 'a'));
  t.ok(topicMatches('a/#', 'a/b/c'));
  t.notOk(topicMatches('a/+', 'a/b/c'));
  t.notOk(topicMatches('a/b', 'a/b/c'));
  t.notOk(topicMatches('#', '$SYS/x'));
  t.ok(topicMatches('$SYS/#', '$SYS/x'));
});

t.test('birth and death share the session number', async (t) => {
  const b = JSON.parse(birthPayload('r1', 7, { model: 'nav@1', state: 'spoofed' }, 5).toString());
  t.same(b, { model: 'nav@1', state: 'online', device: 'r1', session: 7, t: 5 });
  t.same(JSON.parse(deathPayload('r1', 7, 6).toString()), { state: 'offline', device: 'r1', session: 7, t: 6 });
});

t.test('options: MQTT.js retry and offline queue are off; bad options are TypeErrors naming the option', async (t) => {
  const r = resolveOptions({ url: 'mqtt://x', device: 'r1' });
  t.equal(r.client.reconnectPeriod, 0);
  t.equal(r.client.queueQoSZero, false);
  t.equal(r.client.protocolVersion, 4);
  t.equal(r.prefix, 'edgereward');
  t.throws(() => resolveOptions({ url: 'mqtt://x', device: 'a/b' }), { name: 'TypeError', message: /"device"/ });
  t.throws(() => resolveOptions({ url: 'mqtt://x', device: 'a', keepalive: 0.5 }), { message: /"keepalive"/ });
  t.throws(() => resolveOptions({ url: '', device: 'a' }), { message: /"url"/ });
  t.throws(() => resolveOptions({ url: 'mqtt://x', device: 'a', protocolVersion: 3 as 4 }), { message: /"protocolVersion"/ });
});
