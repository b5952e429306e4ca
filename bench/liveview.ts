/**
 * Live-page benchmark (not a test): what an open live page costs the decision loop.
 *
 * The real daemon (`node dist/cli/main.js run`: the embedded demo — in-process broker,
 * simulated robot, shipped model — with the loop at a fixed 50 Hz) runs throughout; its
 * decisions' own latency (`latency_ms` of every action message, tick start to publish) is
 * collected per phase, phases alternating so drift hits all of them alike:
 *   none     no page open (the tap still writes one latency per tick)
 *   sse      one event-stream client in this process (the server side: sampling, JSON, SSE)
 *   browser  the page open in headless Chromium on this machine (adds the browser's CPU on the
 *            same cores: on a robot the browser usually runs on another machine)
 * Prints p50/p99/max, deadline misses and the daemon's CPU per phase, and p99 ratios.
 *
 *   npm run build && npx tsx bench/liveview.ts [--seconds 15] [--rounds 2]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const SECONDS = arg('seconds', 15);
const ROUNDS = arg('rounds', 2);
const ROOT = join(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- 1. In process: the tap's cost per tick and the sampler's cost per frame ----
{
  const { LiveTap } = await import('../src/telemetry/web/tap.js');
  const { DeviceView } = await import('../src/telemetry/web/device-view.js');
  const { LatestValues } = await import('../src/agent/latest.js');
  const { LatencyRing } = await import('../src/agent/latency.js');
  const { readBundle } = await import('../src/runtime/bundle/format.js');
  const { candidateSet } = await import('../src/runtime/features/candidates.js');
  const { createSim } = await import('../src/sim/sim.js');
  const { observe } = await import('../src/sim/observe.js');
  const { setLogLevel } = await import('../src/telemetry/log.js');
  setLogLevel('warn');
  const manifest = readBundle(join(ROOT, 'models/sample/sample.bundle')).manifest;
  const cands = candidateSet(manifest.actions);
  const latest = new LatestValues();
  const obs = observe(createSim(1));
  for (const [k, v] of Object.entries(obs)) latest.set(k, v as unknown as Record<string, unknown>, Date.now());
  const tap = new LiveTap({ view: latest.view, streams: ['lidar', 'goal', 'odom'] });
  const rewards = new Float32Array(cands.count).map((_, i) => Math.sin(i));
  const msg = { t: Date.now(), seq: 1, action: { v: 0.3, w: 0.25 }, reward: 0.8, model: 'sample@0.1.0', latency_ms: 0.4, obs_age_ms: 12, fallback: undefined };
  const detail = { tickAt: Date.now(), rewards, count: cands.count, best: 7, plan: undefined, candidates: cands, inputs: undefined };
  const N = 2_000_000;
  const time = (want: boolean): number => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      if (want) tap.request();
      msg.seq = i;
      tap.decision(msg, detail);
    }
    return ((performance.now() - t0) * 1e6) / N;
  };
  time(false);
  time(true); // warm up both paths
  const idle = time(false);
  const copy = time(true);
  const model = { scorer: { id: 'sample@0.1.0', manifest, candidates: cands, plan: undefined, inputBuffers: () => [], scoreBuffers: async () => rewards }, id: 'sample@0.1.0' };
  const view = new DeviceView({ device: 'bench', deadlineMs: 20, loop: { stats: { ticks: 0, decisions: 0, fallbacks: 0, deadlineMisses: 0, overruns: 0, lastDoneAt: NaN, lastFallback: undefined }, latency: new LatencyRing(16) }, models: { current: () => model }, latest, streams: [], access: { required: false, token: '' }, tap });
  let bytes = 0;
  const F = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < F; i++) bytes += JSON.stringify(view.buildFrame()).length;
  const perFrame = ((performance.now() - t0) * 1000) / F;
  view.close();
  console.log(`in process: tap per tick ${idle.toFixed(0)} ns (no frame asked), ${copy.toFixed(0)} ns (copying a frame's snapshot: ${cands.count} rewards + references); sampler ${perFrame.toFixed(1)} µs per frame (build + JSON, ${Math.round(bytes / F)} bytes), i.e. ${(perFrame * 10 / 1000).toFixed(2)} ms of event-loop time per second at 10 frames/s`);
}

// ---- 2. The real daemon, with and without a page open ----
if (ROUNDS <= 0) process.exit(0);
const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', '--live', 'off', '--no-record', '--rate', '50', '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise<{ http: string; mqtt: string }>((resolve, reject) => {
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => {
    try {
      const j = JSON.parse(l) as { msg?: string; http?: string; mqtt?: string };
      if (j.msg === 'edgereward is running' && j.http && j.mqtt) resolve({ http: j.http, mqtt: j.mqtt });
    } catch {
      // not a log line
    }
  });
  child.once('exit', (c) => reject(new Error(`the daemon exited (${c})`)));
});
const cpuTicks = (): number => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (clock ticks, 100/s)
};

let sink: number[] | undefined;
let misses = 0;
const c = await mqtt.connectAsync(ready.mqtt, { protocolVersion: 4 });
c.on('message', (_t, p) => {
  if (!sink) return;
  const m = JSON.parse(p.toString()) as { latency_ms: number; fallback?: string };
  sink.push(m.latency_ms);
  if (m.fallback === 'deadline') misses++;
});
await c.subscribeAsync('edgereward/demo/action', { qos: 0 });
await sleep(3000); // warm-up

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });

interface Phase { lat: number[]; misses: number; cpu: number; secs: number; frames: number }
const phases: Record<string, Phase> = {};
async function phase(name: 'none' | 'sse' | 'browser'): Promise<void> {
  let count = async (): Promise<number> => 0;
  let stop = async (): Promise<void> => undefined;
  if (name === 'sse') {
    const ac = new AbortController();
    const res = await fetch(`${ready.http}/live`, { signal: ac.signal });
    let frames = 0;
    const reader = res.body!.getReader();
    void (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        frames += (dec.decode(r.value).match(/event: frame/g) ?? []).length;
      }
    })();
    count = async () => frames;
    stop = async () => ac.abort();
  } else if (name === 'browser') {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${ready.http}/`);
    count = () => page.evaluate(() => Number(document.body.dataset['frames'] ?? 0));
    stop = () => page.close();
  }
  await sleep(1000); // settle
  const lat: number[] = [];
  sink = lat;
  misses = 0;
  const f0 = await count();
  const c0 = cpuTicks();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  sink = undefined;
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuTicks() - c0;
  const frames = (await count()) - f0;
  await stop();
  const p = (phases[name] ??= { lat: [], misses: 0, cpu: 0, secs: 0, frames: 0 });
  p.lat.push(...lat);
  p.misses += misses;
  p.cpu += cpu;
  p.secs += secs;
  p.frames += frames;
}

for (let r = 0; r < ROUNDS; r++) for (const n of ['none', 'sse', 'browser'] as const) await phase(n);

const pct = (a: number[], q: number): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const rows = Object.entries(phases).map(([n, p]) => ({ phase: n, decisions: p.lat.length, p50_ms: +pct(p.lat, 0.5).toFixed(3), p99_ms: +pct(p.lat, 0.99).toFixed(3), max_ms: +Math.max(...p.lat).toFixed(3), deadline_misses: p.misses, daemon_cpu_pct: +((p.cpu / p.secs)).toFixed(1), frames_per_s: +(p.frames / p.secs).toFixed(1) }));
console.log(`live page cost, ${ROUNDS} × ${SECONDS} s per phase, loop at 50 Hz on the shipped model (65 candidates), ${process.platform} ${process.arch}`);
console.table(rows);
const base = rows.find((r) => r.phase === 'none')!;
for (const r of rows) if (r.phase !== 'none') console.log(`p99 ${r.phase}/none: ${(r.p99_ms / base.p99_ms).toFixed(2)}x, p50 ${(r.p50_ms / base.p50_ms).toFixed(2)}x, CPU +${(r.daemon_cpu_pct - base.daemon_cpu_pct).toFixed(1)} points`);

await browser.close();
await c.endAsync();
child.kill('SIGINT');
await new Promise((r) => child.once('exit', r));
