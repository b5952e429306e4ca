/**
 * Daemon benchmark (not a test): the real daemon (`node dist/cli/main.js run`) against a real
 * mosquitto on loopback. Lidar 20 Hz, odometry 50 Hz and goal 10 Hz over MQTT, an IMU at
 * 500 Hz through a socat pseudo-terminal (serial JSON lines), the loop ticking on odometry
 * (50 Hz) over the shipped model's 65 candidates. A subscriber measures sensor-to-action
 * latency (odometry published -> action received, same clock). Prints p50/p99/max latency,
 * deadline misses, the daemon's CPU% and peak RSS; then, in the same run, the same loop in
 * process scoring one candidate per session.run against one batched run, as a ratio.
 *
 *   npm run build && npx tsx bench/daemon.ts [--seconds 60]
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { Subject } from 'rxjs';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { ptyPair } from '../test/helpers/socat.js';
import { tmpDir } from '../test/helpers/tmp.js';
import { createSim, stepSim } from '../src/sim/sim.js';
import { observe } from '../src/sim/observe.js';
import { readBundle } from '../src/runtime/bundle/format.js';
import { modelId } from '../src/runtime/bundle/manifest.js';
import { Scorer } from '../src/runtime/engine/scorer.js';
import { DecisionLoop } from '../src/agent/loop.js';
import { LatestValues } from '../src/agent/latest.js';
import { ModelSlot, type ScorerLike } from '../src/agent/scorer.js';
import { LatencyRing } from '../src/agent/latency.js';
import { setLogLevel } from '../src/telemetry/log.js';

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const SECONDS = arg('seconds', 60);
const ROOT = join(import.meta.dirname, '..');
/** The shipped model (what config/default.json runs), or `--model FILE`. */
const MODEL = ((): string => {
  const i = process.argv.indexOf('--model');
  if (i > 0) return process.argv[i + 1]!;
  const cfg = JSON.parse(readFileSync(join(ROOT, 'config/default.json'), 'utf8')) as { model: { bundle: string } };
  return join(ROOT, 'config', cfg.model.bundle);
})();
const TRUST = [join(ROOT, 'models/trusted'), join(ROOT, 'models/sample/trusted')];
const MAIN = join(ROOT, 'dist/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const teardowns: Array<() => unknown> = [];
const T = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
setLogLevel('warn');

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (clock ticks, 100 Hz)
}
const peakRssMb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
};
const f2 = (x: number): string => x.toFixed(2);

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` first');
  const broker = await startMosquitto(T, { extra: ['set_tcp_nodelay true'] });
  const pty = await ptyPair(T);
  const dir = tmpDir(T, 'edgereward-bench-');
  const cfgFile = join(dir, 'bench.json');
  writeFileSync(cfgFile, JSON.stringify({
    device: { id: 'bench' },
    mqtt: { broker: 'external', url: broker.url, protocolVersion: 5 },
    streams: [
      { name: 'lidar', maxAgeMs: 200 }, { name: 'odom', maxAgeMs: 100 }, { name: 'goal', maxAgeMs: 500 },
      { name: 'imu', source: 'serial', maxAgeMs: 50 },
    ],
    serial: [{ path: pty.b, baud: 921600, codec: 'jsonl' }],
    loop: { trigger: 'odom', deadlineMs: 10, fallback: { v: 0, w: 0 } },
    model: { bundle: MODEL, trust: TRUST, dir: '' },
    engine: { intraOpThreads: 1, warmupRuns: 10 },
    telemetry: { port: 0, logLevel: 'info', live: 'off', watchdog: false },
  }));
  const daemon = spawn(process.execPath, [MAIN, 'run', '--config', cfgFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  teardowns.push(() => daemon.exitCode === null && daemon.kill('SIGKILL'));
  const http = await new Promise<string>((resolve) => {
    createInterface({ input: daemon.stdout! }).on('line', (l) => {
      try {
        const m = JSON.parse(l) as { msg?: string; http?: string };
        if (m.msg === 'edgereward is running' && m.http) resolve(m.http);
      } catch { /* not JSON */ }
    });
  });

  const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  (pub.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  (sub.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  let lastOdomSent = NaN;
  let odomSent = 0;
  let measuring = false;
  const lat: number[] = [];
  let actions = 0;
  let fallbacks = 0;
  sub.on('message', (_t, payload) => {
    const now = performance.now();
    if (!measuring) return;
    actions++;
    const m = JSON.parse(payload.toString()) as { fallback?: string };
    if (m.fallback) fallbacks++;
    if (Number.isFinite(lastOdomSent)) lat.push(now - lastOdomSent);
  });
  await sub.subscribeAsync('edgereward/bench/action');

  // Sensor feed from a driving simulated robot (the obstacle world of seed 7).
  const sim = createSim(7, {}, Date.now());
  let obs = observe(sim);
  const fd = openSync(pty.a, 'w');
  let n = 0;
  const feedStart = performance.now();
  // Slot-based: every callback emits the 2 ms slots that are due, so a late timer (a loaded
  // machine) shifts messages a little instead of lowering the rates.
  const feed = setInterval(() => {
    const due = Math.floor((performance.now() - feedStart) / 2);
    if (due <= n) return;
    const from = n;
    n = due;
    // IMU: every due 2 ms slot (a UART delivers bursts after a stall too).
    for (let k = from + 1; k <= due; k++) {
      try {
        writeSync(fd, `{"s":"imu","t":${Date.now()},"ax":0.01,"ay":-0.02,"az":9.81,"gx":0,"gy":0,"gz":${(k % 100) / 1000}}\n`);
      } catch { /* pty buffer full: drop like a UART would */ }
    }
    // MQTT sensors: at most one message per stream per callback, so a stalled benchmark
    // process never fires a burst of odometry (which would look like 2 kHz triggers).
    const crossed = (every: number): boolean => Math.floor(due / every) > Math.floor(from / every);
    const t = Date.now();
    if (crossed(50)) {
      stepSim(sim, 0.3, 0.1);
      if (sim.status !== 'running') Object.assign(sim, createSim(8, {}, Date.now()));
      obs = observe(sim);
      pub.publish('edgereward/bench/sensors/goal', JSON.stringify({ ...obs.goal, t }));
    }
    if (crossed(25)) pub.publish('edgereward/bench/sensors/lidar', JSON.stringify({ ...obs.lidar, t }));
    if (crossed(10)) {
      odomSent++;
      lastOdomSent = performance.now();
      pub.publish('edgereward/bench/sensors/odom', JSON.stringify({ ...obs.odom, t }));
    }
  }, 1);
  await sleep(2000); // warm-up: connections, JIT, first ticks
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${http}/metrics`)).text();
    return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  };
  const miss0 = await metric('edgereward_deadline_misses_total');
  const over0 = await metric('edgereward_deadline_misses_total\\{kind="overrun"\\}');
  const imu0 = await metric('edgereward_serial_lines_total').catch(() => 0);
  const cpu0 = cpuTicks(daemon.pid!);
  const t0 = performance.now();
  const odom0 = odomSent;
  measuring = true;
  process.stderr.write(`measuring for ${SECONDS} s...\n`);
  await sleep(SECONDS * 1000);
  measuring = false;
  const wall = (performance.now() - t0) / 1000;
  const cpu = ((cpuTicks(daemon.pid!) - cpu0) / 100 / wall) * 100;
  const misses = (await metric('edgereward_deadline_misses_total')) - miss0;
  const overruns = (await metric('edgereward_deadline_misses_total\\{kind="overrun"\\}')) - over0;
  const imuMsgs = await metric('edgereward_messages_total');
  void imu0;
  const rss = peakRssMb(daemon.pid!);
  clearInterval(feed);
  closeSync(fd);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await pub.endAsync();
  await sub.endAsync();

  console.log(`\ndaemon: ${SECONDS} s, loop triggered by odometry (50 Hz), 65 candidates, ${modelId(readBundle(MODEL).manifest)}, lidar 20 Hz + odom 50 Hz + goal 10 Hz over MQTT (mosquitto), IMU 500 Hz over a socat pty`);
  console.log(`  odometry published   ${odomSent - odom0} (${f2((odomSent - odom0) / wall)}/s)`);
  console.log(`  actions received     ${actions} (${f2(actions / wall)}/s), fallbacks ${fallbacks}`);
  console.log(`  sensor->action (ms)  p50 ${f2(pct(lat, 0.5))}  p99 ${f2(pct(lat, 0.99))}  max ${f2(Math.max(...lat))}   goal p99 <= 5`);
  console.log(`  deadline misses      ${misses} (of which overruns: ${overruns})   goal 0`);
  console.log(`  machine load         ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (1/5/15 min, ${2} cores)`);
  console.log(`  daemon CPU           ${f2(cpu)} % of one core`);
  console.log(`  daemon peak RSS      ${f2(rss)} MB   goal <= 150`);
  console.log(`  sensor messages      ${imuMsgs} counted by the daemon (all streams, since start)`);

  // Same loop in process: one batched run vs one session.run per candidate.
  const scorer = await Scorer.fromBundle(readBundle(MODEL), { warmupRuns: 10 });
  const count = scorer.candidates!.count;
  const one = scorer.inputBuffers(1);
  const perCandidate: ScorerLike = {
    id: scorer.id, manifest: scorer.manifest, candidates: scorer.candidates, plan: scorer.plan,
    inputBuffers: (c: number) => scorer.inputBuffers(c),
    async scoreBuffers(c: number) {
      const all = scorer.inputBuffers(c);
      const out = new Float32Array(c);
      for (let i = 0; i < c; i++) {
        for (let k = 0; k < all.length; k++) {
          const w = one[k]!.length;
          one[k]!.set(all[k]!.subarray(i * w, (i + 1) * w));
        }
        out[i] = (await scorer.scoreBuffers(1))[0]!;
      }
      return out;
    },
  };
  const runLoop = async (s: ScorerLike, ticksN: number): Promise<LatencyRing> => {
    const latest = new LatestValues();
    const o = observe(createSim(7));
    for (const [k, v] of Object.entries(o)) latest.set(k, v as unknown as Record<string, unknown>, Date.now());
    const ticks = new Subject<number>();
    let done = 0;
    const loop = new DecisionLoop({ models: new ModelSlot({ scorer: s, id: s.id }), latest, ticks, sinks: [{ name: 'count', publish: () => void done++ }], fallback: { v: 0, w: 0 }, deadlineMs: 1000, defaultMaxAgeMs: 1e9 });
    loop.start();
    for (let i = 0; i < ticksN; i++) {
      const before = done;
      ticks.next(performance.now());
      while (done === before) await new Promise((r) => setImmediate(r));
    }
    await loop.stop();
    return loop.latency;
  };
  const N = 1000;
  await runLoop(scorer, 100);
  const batched = (await runLoop(scorer, N)).percentiles([0.5, 0.99]);
  await runLoop(perCandidate, 50);
  const single = (await runLoop(perCandidate, N)).percentiles([0.5, 0.99]);
  console.log(`\nsame loop in process, ${N} ticks of ${count} candidates:`);
  console.log(`  one batched session.run        p50 ${f2(batched[0]!)} ms  p99 ${f2(batched[1]!)} ms`);
  console.log(`  one session.run per candidate  p50 ${f2(single[0]!)} ms  p99 ${f2(single[1]!)} ms`);
  console.log(`  ratio (per-candidate / batched) p50 ${f2(single[0]! / batched[0]!)}x  p99 ${f2(single[1]! / batched[1]!)}x`);
  await scorer.release();
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const f of teardowns.reverse()) await f();
    setTimeout(() => process.exit(), 200).unref();
  });
