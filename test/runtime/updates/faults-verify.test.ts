/**
 * Faults caught by verification and the canary, each against a real mosquitto and fleet
 * server: the active model keeps serving, the store is untouched, the reason is reported.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { makeWorld, startDevice, logModel, slowModel, FLEET, type Device } from './fixture.js';
import { makeAnnouncement } from '../../../src/fleet/announce.js';
import { announceTopic } from '../../../src/runtime/updates/protocol.js';
import { ModelStore } from '../../../src/runtime/store/ModelStore.js';
import { tinyPart } from '../../helpers/models.js';

async function stillServing(t: Test, d: Device): Promise<void> {
  const before = d.loop.stats.decisions;
  await new Promise((r) => setTimeout(r, 60));
  t.equal(d.host.current()?.id, 'nav@1.0.0', 'the active model keeps serving');
  t.ok(d.loop.stats.decisions > before, 'decisions continue');
  t.equal(d.store.state.active?.id, 'nav@1.0.0', 'the store still points at it');
  t.equal(ModelStore.open(d.store.dir).bootSync(3).entry?.id, 'nav@1.0.0', 'a reboot would load it');
}

t.test('verification and canary faults', async (t) => {
  const w = await makeWorld(t);
  const v1 = w.bundle('1.0.0');
  const only = (id: string) => ({ rollout: { devices: [id] } });

  t.test('bad signature: the announced manifest was altered after signing', async (t) => {
    const d = await startDevice(t, w, { id: 'sig', seed: v1 });
    const ann = makeAnnouncement(readFileSync(w.bundle('2.0.0')), only('sig'));
    ann.manifest.description = 'altered after signing';
    const c = await mqtt.connectAsync(w.broker.url);
    await c.publishAsync(announceTopic({ prefix: 'edgereward', fleet: FLEET }, 'nav'), JSON.stringify(ann), { qos: 1, retain: true });
    await c.endAsync();
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_BUNDLE_SIGNATURE');
    t.equal(e['stage'], 'announcement', 'refused before downloading');
    await stillServing(t, d);
  });

  t.test('unknown key', async (t) => {
    const d = await startDevice(t, w, { id: 'key', seed: v1 });
    await w.publish(w.bundle('2.0.1', { key: w.strangerKey }), only('key'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_BUNDLE_UNTRUSTED');
    await stillServing(t, d);
  });

  t.test('oversized bundle', async (t) => {
    const d = await startDevice(t, w, { id: 'big', seed: v1, maxBundleBytes: 100_000 });
    await w.publish(w.bundle('2.0.2', { pad: 150_000 }), only('big'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_UPDATE_TOO_LARGE');
    t.notOk(d.events.some((x) => x.event === 'received'), 'nothing downloaded');
    await stillServing(t, d);
  });

  t.test('incompatible manifest: reads a stream this device does not consume', async (t) => {
    const d = await startDevice(t, w, { id: 'compat', seed: v1 });
    const part = tinyPart();
    part.features[0]!.columns[1] = { stream: 'lidar', field: 'r', index: 0 };
    await w.publish(w.bundle('2.0.3', { part: { features: part.features } }), only('compat'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_UPDATE_INCOMPATIBLE');
    t.match(e.reason, /lidar/);
    await stillServing(t, d);
  });

  t.test('a model that outputs NaN is refused by the canary', async (t) => {
    const d = await startDevice(t, w, { id: 'nan', seed: v1 });
    d.speed = -1; // log(-1) = NaN in the new model; the active MLP is fine
    await w.publish(w.bundle('2.0.4', { model: logModel() }), only('nan'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_CANARY_NONFINITE');
    t.ok(d.events.some((x) => x.event === 'verified'), 'it was verified and loaded first');
    t.ok(d.store.isBlocked(d.store.state.entries.find((x) => x.id === 'nav@2.0.4')!.sha256), 'blocked, so the retained announcement is not retried');
    await stillServing(t, d);
  });

  t.test('a model too slow for the budget is refused by the canary', async (t) => {
    const d = await startDevice(t, w, { id: 'slow', seed: v1, maxBundleBytes: 4 << 20, host: { budgetMs: 0.05 } });
    await w.publish(w.bundle('2.0.5', { model: slowModel() }), only('slow'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, "E_CANARY_SLOW", JSON.stringify(e));
    t.ok((e['p99_ms'] as number) > 0.05, 'the reported p99 is over the budget');
    await stillServing(t, d);
  });

  t.test('NaN after activation rolls back during probation', async (t) => {
    const d = await startDevice(t, w, { id: 'probe', seed: v1, host: { probationTicks: 100_000 } });
    await w.publish(w.bundle('2.0.6', { model: logModel() }), only('probe'));
    await d.waitEvent((x) => x.event === 'activated', 'activated');
    t.equal(d.host.current()?.id, 'nav@2.0.6');
    d.speed = -1;
    const e = await d.waitEvent((x) => x.event === 'rolled_back', 'rolled_back');
    t.equal(e.code, 'E_HOST_NONFINITE');
    t.equal(e['to'], 'nav@1.0.0');
    await stillServing(t, d);
    t.ok(d.store.isBlocked(d.store.state.entries.find((x) => x.id === 'nav@2.0.6')!.sha256), 'the bad version is blocked');
  });
});
