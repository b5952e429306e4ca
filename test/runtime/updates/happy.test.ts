/**
 * The happy path through a real mosquitto and a real fleet server: publish -> the targeted
 * devices download, verify, store, canary and activate (with no tick missed); the
 * untargeted one does not. Then a fleet rollback (signed revocation) brings them back.
 */
import t from 'tap';
import { makeWorld, startDevice } from './fixture.js';
import { revokeModel, fleetStatus } from '../../../src/fleet/ops.js';

t.test('publish -> targeted devices activate, untargeted do not; fleet rollback', async (t) => {
  const w = await makeWorld(t);
  const v1 = w.bundle('1.0.0');
  const a = await startDevice(t, w, { id: 'robot-a', seed: v1 });
  const b = await startDevice(t, w, { id: 'robot-b', seed: v1, tags: ['lab'] });
  const c = await startDevice(t, w, { id: 'robot-c', seed: v1 });
  t.equal(a.host.current()?.id, 'nav@1.0.0', 'boots the configured bundle');

  const v2 = w.bundle('1.1.0', { pad: 200_000 }); // 4 chunks of 64 KiB
  await w.publish(v2, { rollout: { devices: ['robot-a'], tags: ['lab'] } });
  for (const d of [a, b]) {
    const act = await d.waitEvent((e) => e.event === 'activated' && e.model === 'nav@1.1.0', 'activated');
    t.equal(act.active, 'nav@1.1.0', `${d.id} runs the new model`);
    const rx = d.events.find((e) => e.event === 'received')!;
    t.equal(rx['chunks'], 4, `${d.id} received 4 chunks`);
    const canary = d.events.find((e) => e.event === 'canary')!;
    t.equal(canary['passed'], true, `${d.id} canary passed`);
    t.ok((canary['ticks'] as number) >= 10, 'canary compared live ticks');
    t.ok(d.events.findIndex((e) => e.event === 'verified') < d.events.findIndex((e) => e.event === 'activated'), 'verified before activated');
    t.equal(d.store.state.active?.id, 'nav@1.1.0', 'store points at the new model');
  }
  await a.waitEvent((e) => e.event === 'confirmed', 'confirmed');
  t.equal(a.store.state.lastKnownGood?.id, 'nav@1.0.0', 'the old model is the last-known-good');
  t.equal(c.host.current()?.id, 'nav@1.0.0', 'untargeted device keeps its model');
  t.notOk(c.events.some((e) => e.event === 'received'), 'untargeted device downloaded nothing');
  for (const d of [a, b, c]) t.equal(d.loop.stats.deadlineMisses, 0, `${d.id}: no deadline missed`);

  const rows = await fleetStatus({ url: w.broker.url, fleet: 'test', waitMs: 300 });
  t.same(rows.map((r) => [r.device, r.model]), [['robot-a', 'nav@1.1.0'], ['robot-b', 'nav@1.1.0'], ['robot-c', 'nav@1.0.0']], 'fleet status shows each model');

  await revokeModel({ url: w.broker.url, fleet: 'test', model: 'nav', privateKeyPem: w.key });
  const rb = await a.waitEvent((e) => e.event === 'rolled_back', 'rolled_back');
  t.equal(rb.code, 'E_FLEET_REVOKED');
  t.equal(a.host.current()?.id, 'nav@1.0.0', 'back on the last-known-good');
  t.ok(a.store.isBlocked(a.store.state.entries.find((e) => e.id === 'nav@1.1.0')!.sha256), 'the revoked version is blocked');
  t.ok(a.loop.stats.decisions > 0);
});
