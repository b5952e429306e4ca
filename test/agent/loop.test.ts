import t from 'tap';
import { Subject } from 'rxjs';
import { DecisionLoop } from '../../src/agent/loop.js';
import { LatestValues } from '../../src/agent/latest.js';
import { ModelSlot, type ActiveModel, type ScorerLike } from '../../src/agent/scorer.js';
import { argmax, makePolicy, softmax, seededRandom } from '../../src/agent/policy.js';
import { LatencyRing } from '../../src/agent/latency.js';
import type { ActionMessage } from '../../src/io/sinks/ActionSink.js';
import { registry } from '../../src/telemetry/metrics.js';
import { readBundle } from '../../src/runtime/bundle/format.js';
import { Scorer } from '../../src/runtime/engine/scorer.js';
import { makeTestBundle } from './fixtures.js';

t.test('argmax skips non-finite rewards; softmax is seeded', async (t) => {
  t.equal(argmax(new Float32Array([1, NaN, 3, Infinity, 2]), 5), 2);
  t.equal(argmax(new Float32Array([NaN, NaN]), 2), -1);
  const r = new Float32Array([0, 1, 2, 3]);
  const a = Array.from({ length: 20 }, () => 0).map((_x, i, arr) => (arr[i] = softmax(1, seededRandom(7))(r, 4)));
  const b = Array.from({ length: 20 }, () => softmax(1, seededRandom(7))(r, 4));
  t.same(a, b, 'same seed, same choices');
  const cold = makePolicy({ kind: 'softmax', temperature: 1e-4, seed: 3 });
  for (let i = 0; i < 10; i++) t.equal(cold(r, 4), 3, 'a tiny temperature is argmax');
});

t.test('latency ring percentiles', async (t) => {
  const ring = new LatencyRing(4);
  t.ok(Number.isNaN(ring.percentiles([0.5])[0]));
  for (const x of [5, 1, 3, 2, 4]) ring.push(x); // 5 falls out of the window of 4
  t.same(ring.percentiles([0.5, 1]), [2, 4]);
});

async function setup(t: { teardown(fn: () => unknown): void }, o: { nan?: boolean; deadlineMs?: number; delayMs?: number } = {}) {
  const tb = makeTestBundle(t, o.nan ? { nan: true } : {});
  const scorer = await Scorer.fromBundle(readBundle(tb.bundle), { warmupRuns: 0 });
  t.teardown(() => scorer.release());
  // A delay wrapper around the real scorer, for the deadline test (the model itself is fast).
  const s: ScorerLike = o.delayMs
    ? Object.assign(Object.create(scorer) as ScorerLike, {
        scoreBuffers: async (n: number) => {
          await new Promise((r) => setTimeout(r, o.delayMs));
          return scorer.scoreBuffers(n);
        },
      })
    : scorer;
  const model: ActiveModel = { scorer: s, id: scorer.id };
  const ticks = new Subject<number>();
  const latest = new LatestValues();
  const out: ActionMessage[] = [];
  let now = 1_000_000;
  const loop = new DecisionLoop({
    models: new ModelSlot(model),
    latest,
    ticks,
    sinks: [{ name: 'test', publish: (m) => out.push(structuredClone(m as ActionMessage)) }],
    fallback: { v: 0, w: 0 },
    deadlineMs: o.deadlineMs ?? 1000,
    maxAgeMs: { odom: 100 },
    defaultMaxAgeMs: 100,
    clock: () => now,
  });
  loop.start();
  t.teardown(() => loop.stop());
  const tick = async (): Promise<ActionMessage> => {
    const n = out.length;
    ticks.next(performance.now());
    while (out.length === n) await new Promise((r) => setImmediate(r));
    return out[out.length - 1]!;
  };
  return { scorer, loop, latest, out, tick, advance: (ms: number) => (now += ms), now: () => now };
}

t.test('the loop decides on fresh streams: argmax of one batched score', async (t) => {
  const { scorer, latest, tick, now } = await setup(t);
  latest.set('odom', { t: now(), v: 0.3 }, now());
  latest.set('goal', { t: now(), dx: 4 }, now() - 20);
  const m = await tick();
  t.equal(m.fallback, undefined);
  t.equal(m.model, 'nav@1.4.0');
  t.equal(m.obs_age_ms, 20);
  // The same scores straight from the engine: the published action is their argmax.
  const { rewards } = await scorer.scoreObservation({ odom: { v: 0.3 }, goal: { dx: 4 } });
  const best = argmax(rewards, rewards.length);
  const c = scorer.candidates!;
  t.same(m.action, { v: c.values[best * 2], w: c.values[best * 2 + 1] });
  t.ok(Math.abs(m.reward! - rewards[best]!) < 1e-6);
  t.equal(m.seq, 1);
});

t.test('stale or missing input -> fallback with the reason, counted', async (t) => {
  const { latest, tick, advance, now, loop } = await setup(t);
  const before = await registry.getSingleMetric('edgereward_fallbacks_total')!.get();
  const count = (v: typeof before, reason: string) => v.values.find((x) => x.labels['reason'] === reason)?.value ?? 0;
  let m = await tick();
  t.equal(m.fallback, 'missing_input');
  t.same(m.action, { v: 0, w: 0 });
  t.equal(m.reward, null);
  latest.set('odom', { t: now(), v: 0.3 }, now());
  latest.set('goal', { t: now(), dx: 4 }, now());
  m = await tick();
  t.equal(m.fallback, undefined, 'fresh again: decides');
  advance(150); // older than maxAgeMs 100
  m = await tick();
  t.equal(m.fallback, 'stale_input');
  t.equal(m.obs_age_ms, 150);
  const after = await registry.getSingleMetric('edgereward_fallbacks_total')!.get();
  t.equal(count(after, 'stale_input') - count(before, 'stale_input'), 1);
  t.equal(count(after, 'missing_input') - count(before, 'missing_input'), 1);
  t.equal(loop.stats.fallbacks, 2);
  t.equal(loop.health(1e9).lastFallback, 'stale_input');
});

t.test('non-finite input or output -> fallback', async (t) => {
  const a = await setup(t);
  a.latest.set('odom', { t: a.now(), v: NaN }, a.now());
  a.latest.set('goal', { t: a.now(), dx: 4 }, a.now());
  t.equal((await a.tick()).fallback, 'non_finite_input');
  const b = await setup(t, { nan: true });
  b.latest.set('odom', { t: b.now(), v: 0.1 }, b.now());
  b.latest.set('goal', { t: b.now(), dx: 4 }, b.now());
  const m = await b.tick();
  t.equal(m.fallback, 'non_finite_output');
  t.same(m.action, { v: 0, w: 0 });
});

t.test('a decision slower than its deadline -> fallback "deadline", the late result is dropped', async (t) => {
  const a = await setup(t, { deadlineMs: 5, delayMs: 60 });
  a.latest.set('odom', { t: a.now(), v: 0.1 }, a.now());
  a.latest.set('goal', { t: a.now(), dx: 4 }, a.now());
  const m = await a.tick();
  t.equal(m.fallback, 'deadline');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(a.out.length, 1, 'the late decision was not published');
  t.equal(a.loop.stats.deadlineMisses, 1);
});
