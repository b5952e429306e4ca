/**
 * Fleet benchmark (not a test): N simulated devices running the real update path (MqttLink,
 * announcement checks, chunked download with bitmap requests, sha256 + signature + manifest
 * verification, atomic store write, host activation with a light session instead of ORT)
 * spread over P worker processes on one mosquitto, and one publish of a ~1 MB bundle.
 * Prints time until all devices activated, bytes through the broker and CPU per party.
 *
 *   npx tsx bench/fleet.ts [--n 10,100,1000] [--procs 4] [--size 1000000] [--store DIR]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { setLogLevel } from '../src/telemetry/log.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { n: { type: 'string', default: '10,100,1000' }, procs: { type: 'string', default: '4' }, size: { type: 'string', default: '1000000' }, store: { type: 'string' }, coalesce: { type: 'string', default: '200' } },
});
setLogLevel('error');

if (positionals[0] === 'worker') await worker(positionals.slice(1));
else await main();

/** Parent: broker, fleet server, workers; one publish per N. */
async function main(): Promise<void> {
  const { FleetServer } = await import('../src/fleet/server.js');
  const { publishBundle } = await import('../src/fleet/ops.js');
  const { fleetKeys, sampleBundle, startBroker, workDir } = await import('./lib/fleet-world.js');
  const w = workDir();
  const broker = await startBroker(w.dir);
  const procs = Number(args.procs);
  const lines: string[] = [`edgereward fleet benchmark — one mosquitto on loopback, ${procs} device processes, 2-core machine, fleet server coalescing ${args.coalesce} ms`];
  try {
    const { kp, trustDir, bundles } = fleetKeys(w.dir);
    const server = new FleetServer({ url: broker.url, fleet: 'bench', bundles, coalesceMs: Number(args.coalesce) });
    await server.start();
    lines.push('     N   all activated   median   p90      broker in    broker out     broadcasts  requests  broker CPU  devices CPU');
    for (const n of args.n!.split(',').map(Number)) {
      const version = `1.${n}.0`;
      const file = join(w.dir, `${version}.erwb`);
      const bytes = sampleBundle(kp.privateKeyPem, version, Number(args.size));
      writeFileSync(file, bytes);
      const storeRoot = join(args.store ?? w.dir, `stores-${n}`);
      const per = Math.ceil(n / procs);
      const kids = Array.from({ length: Math.min(procs, n) }, (_, k) => {
        const from = k * per;
        const count = Math.max(0, Math.min(per, n - from));
        const p = spawn(process.execPath, [...(process.env['FLEET_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=/tmp/fleetprof'] : []), '--import', 'tsx', fileURLToPath(import.meta.url), 'worker', broker.url, trustDir, storeRoot, String(from), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
        const rl = createInterface({ input: p.stdout! });
        return { p, rl, count };
      });
      const activatedAt: number[] = [];
      const recv = { bytes: 0, dup: 0 };
      let ready = 0;
      let cpu = 0;
      let failed = 0;
      const allReady = new Promise<void>((res) => {
        for (const k of kids) {
          k.rl.on('line', (l) => {
            const m = JSON.parse(l) as { k: string; at?: number; bytes?: number; dup?: number; cpu?: number; code?: string };
            if (m.k === 'ready' && ++ready === kids.length) res();
            if (m.k === 'activated') {
              activatedAt.push(m.at!);
              recv.bytes += m.bytes!;
              recv.dup += m.dup!;
            }
            if (m.k === 'rejected') failed++;
            if (m.k === 'cpu') cpu += m.cpu!;
          });
        }
      });
      await allReady;
      const s0 = { ...server.stats };
      const cpu0 = broker.cpu();
      const t0 = Date.now();
      if (process.env['FLEET_DEBUG']) process.stderr.write(`publish at ${t0}\n`);
      await publishBundle({ url: broker.url, fleet: 'bench', bundle: file, bundles });
      const deadline = Date.now() + 180_000;
      while (activatedAt.length + failed < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const tAll = Math.max(...activatedAt) - t0;
      const cpu1 = broker.cpu();
      // Clear the retained announcement: the next round's devices must not start by fetching this one.
      const { default: mqtt } = await import('mqtt');
      const c = await mqtt.connectAsync(broker.url);
      await c.publishAsync('edgereward/fleet/bench/models/sample', '', { qos: 1, retain: true });
      await c.endAsync();
      const exited = kids.map((k) => new Promise((r) => k.p.once('exit', r)));
      for (const k of kids) k.p.kill('SIGTERM');
      await Promise.all(exited);
      const sorted = activatedAt.map((x) => x - t0).sort((a, b) => a - b);
      const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!;
      const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
      const inBytes = server.stats.bytesSent - s0.bytesSent;
      lines.push(`${String(n).padStart(6)}   ${activatedAt.length === n ? `${(tAll / 1000).toFixed(2)} s`.padEnd(13) : `${activatedAt.length}/${n} (${failed} failed)`.padEnd(13)}   ${(q(0.5) / 1000).toFixed(2)} s   ${(q(0.9) / 1000).toFixed(2)} s   ${mb(inBytes).padStart(9)}   ${mb(recv.bytes).padStart(10)}     ${String(server.stats.broadcasts - s0.broadcasts).padStart(9)}  ${String(server.stats.requests - s0.requests).padStart(8)}  ${((cpu1 - cpu0)).toFixed(2).padStart(8)} s  ${cpu.toFixed(1).padStart(9)} s`);
      process.stdout.write(lines[lines.length - 1] + '\n');
    }
    await server.close();
  } finally {
    await broker.stop();
    w.cleanup();
  }
  process.stdout.write('\n' + lines.join('\n') + '\n');
}

/** Worker: `count` devices, each with its own MQTT connection, store and host. */
async function worker([url, trustDir, storeRoot, fromS, countS]: string[]): Promise<void> {
  const { loadTrustStore } = await import('../src/runtime/bundle/keys.js');
  const { ModelStore } = await import('../src/runtime/store/ModelStore.js');
  const { ModelHost } = await import('../src/runtime/host.js');
  const { UpdateAgent } = await import('../src/runtime/updates/agent.js');
  const { MqttLink } = await import('../src/io/mqtt/MqttLink.js');
  const { candidateSet } = await import('../src/runtime/features/candidates.js');
  const { compileFeatures } = await import('../src/runtime/features/assemble.js');
  const { actionNames } = await import('../src/runtime/bundle/create.js');
  const { modelId } = await import('../src/runtime/bundle/manifest.js');
  type Bundle = import('../src/runtime/bundle/format.js').Bundle;
  const trust = loadTrustStore(trustDir!);
  const from = Number(fromS);
  const count = Number(countS);
  const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
  // A light session: the manifest's plan and candidates, constant rewards, no ORT.
  const light = async (b: Bundle) => {
    const candidates = candidateSet(b.manifest.actions);
    const plan = compileFeatures(b.manifest.features, actionNames(b.manifest));
    const rewards = new Float32Array(candidates.count);
    return { id: modelId(b.manifest), manifest: b.manifest, candidates, plan, inputBuffers: () => [], scoreBuffers: async () => rewards, release: async () => undefined };
  };
  const devices: Array<{ link: InstanceType<typeof MqttLink>; agent: InstanceType<typeof UpdateAgent> }> = [];
  const cpu0 = process.cpuUsage();
  for (let i = from; i < from + count; i++) {
    const id = `robot-${String(i).padStart(4, '0')}`;
    const store = ModelStore.open(join(storeRoot!, id));
    const host = new ModelHost({ store, trust, deadlineMs: 20, createScorer: light, watchMs: 0 });
    const link = new MqttLink({ url: url!, device: id, protocolVersion: 5, status: false, keepalive: 60 });
    const agent = new UpdateAgent({ link, host, trust, prefix: 'edgereward', fleet: 'bench', device: id, maxBundleBytes: 64 << 20, chunkTimeoutMs: 10_000, timeoutMs: 170_000 });
    agent.on('event', (e) => {
      if (e.event === 'activated') {
        const d = agent.downloads[agent.downloads.length - 1];
        out({ k: 'activated', at: Date.now(), bytes: d ? d.bytes + d.duplicates * 65536 : 0, dup: d?.duplicates ?? 0 });
      } else if (e.event === 'rejected') out({ k: 'rejected', code: e.code, reason: e.reason });
      if (process.env['FLEET_DEBUG'] && i === from) process.stderr.write(`${id} ${e.event} ${Date.now()} ${JSON.stringify(e).slice(0, 200)}\n`);
    });
    devices.push({ link, agent });
  }
  // Connect in batches so 250 CONNECTs do not hit the broker in one burst.
  for (let i = 0; i < devices.length; i += 50) await Promise.all(devices.slice(i, i + 50).map((d) => d.link.whenConnected(30_000)));
  for (const d of devices) d.agent.start();
  await new Promise((r) => setTimeout(r, 300)); // subscriptions in place
  out({ k: 'ready' });
  process.once('SIGTERM', () => {
    const u = process.cpuUsage(cpu0);
    out({ k: 'cpu', cpu: (u.user + u.system) / 1e6 });
    process.exit(0);
  });
}
