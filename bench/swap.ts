/**
 * Hot-swap benchmark (not a test): a 50 Hz decision loop on the shipped model while a ~1 MB
 * new version is published through a real mosquitto and served by the fleet server.
 * Prints missed deadlines during the swap (goal 0), publish -> activation time (goal <= 2 s),
 * bytes moved, the canary's figures, and decision latency before / during the swap.
 *
 *   npx tsx bench/swap.ts [--size 1000000] [--canary 50]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setLogLevel } from '../src/telemetry/log.js';
import { loadTrustStore } from '../src/runtime/bundle/keys.js';
import { ModelStore } from '../src/runtime/store/ModelStore.js';
import { ModelHost } from '../src/runtime/host.js';
import { UpdateAgent } from '../src/runtime/updates/agent.js';
import type { UpdateEvent } from '../src/runtime/updates/protocol.js';
import { MqttLink } from '../src/io/mqtt/MqttLink.js';
import { DecisionLoop } from '../src/agent/loop.js';
import { LatestValues } from '../src/agent/latest.js';
import { ticks } from '../src/agent/tick.js';
import { FleetServer } from '../src/fleet/server.js';
import { publishBundle } from '../src/fleet/ops.js';
import { decodeBundle } from '../src/runtime/bundle/format.js';
import { fleetKeys, sampleBundle, startBroker, syntheticInputs, workDir } from './lib/fleet-world.js';

const { values: args } = parseArgs({ options: { size: { type: 'string', default: '1000000' }, canary: { type: 'string', default: '50' } } });
setLogLevel('warn');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const w = workDir();
const broker = await startBroker(w.dir);
try {
  const { kp, trustDir, bundles } = fleetKeys(w.dir);
  const trust = loadTrustStore(trustDir);
  const v1 = join(w.dir, 'v1.erwb');
  const v1b = sampleBundle(kp.privateKeyPem, '0.1.0');
  writeFileSync(v1, v1b);
  const v2 = join(w.dir, 'v2.erwb');
  const v2b = sampleBundle(kp.privateKeyPem, '0.2.0', Number(args.size));
  writeFileSync(v2, v2b);

  const server = new FleetServer({ url: broker.url, fleet: 'bench', bundles, coalesceMs: 20 });
  await server.start();

  const store = ModelStore.open(join(w.dir, 'store'));
  const host = new ModelHost({ store, trust, deadlineMs: 20, engine: { intraOpThreads: 1, warmupRuns: 3 }, canaryTicks: Number(args.canary), probationTicks: 250 });
  await host.boot(v1);
  const latest = new LatestValues();
  host.setInputs(latest);
  const inputs = syntheticInputs(decodeBundle(v1b).manifest);
  const feed = setInterval(() => {
    const now = Date.now();
    for (const [s, m] of Object.entries(inputs)) latest.set(s, { ...m, t: now } as never, now);
  }, 10);
  const link = new MqttLink({ url: broker.url, device: 'bench-robot', protocolVersion: 5 });
  // Late decisions counted at the sink: a blocked event loop also delays the loop's own deadline timer.
  const late = { n: 0, armed: false };
  const lateSink = { name: 'late', publish: (m: { latency_ms: number }) => { if (late.armed && m.latency_ms > 20) late.n++; } };
  const loop = new DecisionLoop({ models: host, latest, ticks: ticks({ rateHz: 50 }), sinks: [lateSink], fallback: { v: 0, w: 0 }, deadlineMs: 20 });
  const agent = new UpdateAgent({ link, host, trust, prefix: 'edgereward', fleet: 'bench', device: 'bench-robot', streams: new Set(Object.keys(inputs)), maxBundleBytes: 64 << 20 });
  const events: Array<UpdateEvent & { at: number }> = [];
  agent.on('event', (e) => events.push({ ...e, at: performance.now() }));
  await link.whenConnected();
  loop.start();
  agent.start();

  const base = monitorEventLoopDelay({ resolution: 1 });
  await sleep(1000);
  base.enable();
  await sleep(3000);
  base.disable();
  const before = { ...loop.stats };
  const latBefore = loop.latency.percentiles([0.5, 0.99, 1]);
  const cpu0 = broker.cpu();
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const gaps: Array<[number, number]> = [];
  let lastBeat = performance.now();
  const beat = setInterval(() => {
    const n = performance.now();
    if (n - lastBeat > 15) gaps.push([lastBeat, n - lastBeat]);
    lastBeat = n;
  }, 2);
  late.armed = true;
  const t0 = performance.now();
  await publishBundle({ url: broker.url, fleet: 'bench', bundle: v2, bundles });
  const until = (ev: string, ms = 30_000) => new Promise<UpdateEvent & { at: number }>((resolve, reject) => {
    const iv = setInterval(() => {
      const e = events.find((x) => x.event === ev || x.event === 'rejected');
      if (e) { clearInterval(iv); e.event === 'rejected' ? reject(new Error(JSON.stringify(e))) : resolve(e); }
    }, 5);
    setTimeout(() => { clearInterval(iv); reject(new Error(`no ${ev} within ${ms} ms`)); }, ms);
  });
  const received = await until('received');
  const activated = await until('activated');
  const confirmed = await until('confirmed');
  await sleep(500);
  const after = { ...loop.stats };
  clearInterval(beat);
  if (process.env['SWAP_DEBUG']) {
    for (const [at, ms] of gaps) process.stdout.write(`  stall ${ms.toFixed(1)} ms at +${(at - t0).toFixed(0)} ms\n`);
    for (const e of events) process.stdout.write(`  event ${e.event} at +${(e.at - t0).toFixed(0)} ms\n`);
  }
  const latDuring = loop.latency.percentiles([0.5, 0.99, 1]);
  const canary = events.find((e) => e.event === 'canary')!;
  const cpu1 = broker.cpu();
  eld.disable();

  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));
  const out = [
    `edgereward swap benchmark — 50 Hz loop on ${host.current()?.id} (was sample@0.1.0), deadline 20 ms, mosquitto on loopback`,
    `  new bundle                 ${v2b.length} bytes in ${Math.ceil(v2b.length / 65536)} chunks of 64 KiB`,
    `  publish -> received        ${(received.at - t0).toFixed(0)} ms`,
    `  publish -> activated       ${(activated.at - t0).toFixed(0)} ms   (goal <= 2000; canary ${canary['ticks']} live ticks at 50 Hz = ${(Number(canary['ticks']) * 20)} ms of it)`,
    `  publish -> confirmed       ${(confirmed.at - t0).toFixed(0)} ms   (after 250 probation ticks)`,
    `  ticks during the swap      ${after.ticks - before.ticks}, decisions ${after.decisions - before.decisions}, fallbacks ${after.fallbacks - before.fallbacks}`,
    `  missed deadlines           ${after.deadlineMisses - before.deadlineMisses} (overruns ${after.overruns - before.overruns})   (goal 0); decisions published later than 20 ms: ${late.n}`,
    `  canary                     p50 ${canary['p50_ms']} ms, p99 ${canary['p99_ms']} ms (budget ${canary['budget_ms']} ms), top-1 agreement ${canary['agreement']}`,
    `  decision latency before    p50 ${f(latBefore[0])} ms, p99 ${f(latBefore[1])} ms, max ${f(latBefore[2])} ms`,
    `  decision latency (last 1024 ticks, covering the swap)  p50 ${f(latDuring[0])} ms, p99 ${f(latDuring[1])} ms, max ${f(latDuring[2])} ms`,
    `  bytes moved                server -> broker ${server.stats.bytesSent} B in ${server.stats.chunksSent} chunks (${server.stats.broadcasts} broadcasts, ${server.stats.requests} requests); broker -> device ${Number(received['chunks']) * 65536 > v2b.length ? v2b.length : 0} B + ${received['duplicates']} duplicate chunks`,
    `  event-loop delay (3 s before, no swap)  p99 ${(base.percentile(99) / 1e6).toFixed(2)} ms, max ${(base.max / 1e6).toFixed(2)} ms`,
    `  event-loop delay (swap)    p99 ${(eld.percentile(99) / 1e6).toFixed(2)} ms, max ${(eld.max / 1e6).toFixed(2)} ms`,
    `  broker CPU                 ${((cpu1 - cpu0) * 1000).toFixed(0)} ms`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  clearInterval(feed);
  await agent.stop();
  await loop.stop();
  await link.close();
  await host.close();
  await server.close();
} finally {
  await broker.stop();
  w.cleanup();
}
