/**
 * Transfer faults, with a test-controlled chunk responder in place of the fleet server:
 * tampered, truncated, missing, duplicated and out-of-order chunks, and the broker killed
 * in the middle of a download (which then resumes with only the missing chunks).
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { makeWorld, startDevice, FLEET, type World } from './fixture.js';
import { chunkTopic, hasBit, parseChunkRequest, requestFilter, type ChunkRequest } from '../../../src/runtime/updates/protocol.js';

const scope = { prefix: 'edgereward', fleet: FLEET };

/** Answers chunk requests; `plan(req, n, missing)` says what to send: [index, bytes][] in order. */
async function responder(t: Test, w: World, file: string, plan: (nth: number, missing: number[], chunk: (i: number) => Buffer) => Array<[number, Buffer]>): Promise<{ requests: ChunkRequest[] }> {
  const bytes = readFileSync(file);
  const c = await mqtt.connectAsync(w.broker.url, { reconnectPeriod: 100 });
  t.teardown(() => c.endAsync(true));
  const requests: ChunkRequest[] = [];
  c.on('message', (topic, payload) => {
    const req = parseChunkRequest(payload);
    requests.push(req);
    const parts = topic.split('/');
    const [model, version] = [parts[parts.length - 3]!, parts[parts.length - 2]!];
    const have = Buffer.from(req.have, 'base64');
    const missing: number[] = [];
    for (let i = 0; i < req.n; i++) if (!hasBit(have, i)) missing.push(i);
    const chunk = (i: number): Buffer => bytes.subarray(i * req.chunk_size, Math.min(bytes.length, (i + 1) * req.chunk_size));
    for (const [i, data] of plan(requests.length, missing, chunk)) c.publish(chunkTopic(scope, model, version, i), data, { qos: 1 });
  });
  await c.subscribeAsync(requestFilter(scope), { qos: 1 });
  return { requests };
}

t.test('transfer faults', async (t) => {
  const w = await makeWorld(t, { server: false });
  const v1 = w.bundle('1.0.0');
  const only = (id: string) => ({ rollout: { devices: [id] }, chunkSize: 16 * 1024, copy: false });

  t.test('tampered bytes in one chunk', async (t) => {
    const d = await startDevice(t, w, { id: 'tamper', seed: v1 });
    const f = w.bundle('3.0.0', { pad: 60_000 });
    await responder(t, w, f, (_n, missing, chunk) => missing.map((i) => {
      const b = Buffer.from(chunk(i));
      if (i === 2) b[100] = b[100]! ^ 0xff;
      return [i, b];
    }));
    await w.publish(f, only('tamper'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_UPDATE_SHA256');
    t.equal(e['stage'], 'verify');
    t.equal(d.host.current()?.id, 'nav@1.0.0', 'the active model keeps serving');
    t.equal(d.store.state.entries.length, 1, 'nothing stored');
  });

  t.test('duplicated and out-of-order chunks', async (t) => {
    const d = await startDevice(t, w, { id: 'order', seed: v1 });
    const f = w.bundle('3.0.1', { pad: 60_000 });
    await responder(t, w, f, (_n, missing, chunk) => missing.slice().reverse().flatMap((i) => [[i, chunk(i)], [i, chunk(i)]] as Array<[number, Buffer]>));
    await w.publish(f, only('order'));
    const rx = await d.waitEvent((x) => x.event === 'received', 'received');
    t.ok((rx['duplicates'] as number) >= (rx['chunks'] as number) - 1, 'duplicates counted and ignored');
    await d.waitEvent((x) => x.event === 'activated', 'activated');
    t.equal(d.host.current()?.id, 'nav@3.0.1');
  });

  t.test('a missing chunk is asked for again', async (t) => {
    const d = await startDevice(t, w, { id: 'missing', seed: v1 });
    const f = w.bundle('3.0.2', { pad: 60_000 });
    const r = await responder(t, w, f, (n, missing, chunk) => missing.filter((i) => n > 1 || i !== 1).map((i) => [i, chunk(i)]));
    await w.publish(f, only('missing'));
    const rx = await d.waitEvent((x) => x.event === 'received', 'received');
    t.ok((rx['requests'] as number) >= 2, 'a second request was sent');
    const second = Buffer.from(r.requests[1]!.have, 'base64');
    t.notOk(hasBit(second, 1), 'the second request lacks chunk 1');
    t.ok(hasBit(second, 0) && hasBit(second, 2), '... and has the others');
    await d.waitEvent((x) => x.event === 'activated', 'activated');
  });

  t.test('truncated chunks: the download stalls and is refused, the active model stays', async (t) => {
    const d = await startDevice(t, w, { id: 'trunc', seed: v1 });
    const f = w.bundle('3.0.3', { pad: 60_000 });
    await responder(t, w, f, (_n, missing, chunk) => missing.map((i) => [i, i === 1 ? chunk(i).subarray(0, 1000) : chunk(i)]));
    await w.publish(f, only('trunc'));
    const e = await d.waitEvent((x) => x.event === 'rejected', 'rejected');
    t.equal(e.code, 'E_UPDATE_STALLED');
    t.match(e.reason, /wrong size/);
    t.equal(e['retry'], true, 'a transient failure is retried later');
    t.equal(d.host.current()?.id, 'nav@1.0.0', 'the active model keeps serving');
    t.equal(d.store.state.entries.length, 1, 'nothing stored');
  });

  t.test('broker killed mid-download: resumes with only the missing chunks', async (t) => {
    const d = await startDevice(t, w, { id: 'resume', seed: v1 });
    const f = w.bundle('3.0.4', { pad: 100_000 });
    let halfSent!: () => void;
    const half = new Promise<void>((r) => (halfSent = r));
    const r = await responder(t, w, f, (n, missing, chunk) => {
      if (n === 1) {
        setTimeout(halfSent, 100);
        return missing.slice(0, 3).map((i) => [i, chunk(i)]);
      }
      return missing.map((i) => [i, chunk(i)]);
    });
    await w.publish(f, only('resume'));
    await half;
    await w.broker.kill();
    await w.broker.restart();
    const rs = await d.waitEvent((x) => x.event === 'resumed', 'resumed');
    t.ok((rs['missing'] as number) > 0, 'resumed with chunks missing');
    const rx = await d.waitEvent((x) => x.event === 'received', 'received');
    t.ok((rx['resumes'] as number) >= 1);
    const after = Buffer.from(r.requests[r.requests.length - 1]!.have, 'base64');
    t.ok(hasBit(after, 0) && hasBit(after, 1) && hasBit(after, 2), 'the resume request says chunks 0-2 are already here');
    await d.waitEvent((x) => x.event === 'activated', 'activated');
    t.equal(d.host.current()?.id, 'nav@3.0.4');
  });
});
