/**
 * Recording cost, side by side in one run: the embedded demo (aedes + simulated robot +
 * daemon on the sample model, odom-triggered loop) with recording off, then on, then off and
 * on again (interleaved phases cancel drift), and the figures:
 *   - decision-loop latency p50/p99/max and deadline misses, recording off vs on
 *   - recording size per minute of the demo, write rate (messages/s, kB/s), chunks, dropped
 *
 *   npx tsx bench/record.ts [--seconds 15] [--model models/sample/sample.bundle --trust models/sample/trusted]
 *
 * A benchmark, not a test: it prints figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, defaultConfigFile } from '../src/config/load.js';
import { startStack } from '../src/demo/stack.js';
import { listRecordings } from '../src/io/record/retention.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, model: { type: 'string' }, trust: { type: 'string' } } });
const seconds = Number(values.seconds);

interface Phase {
  record: boolean;
  latencies: number[];
  ticks: number;
  misses: number;
  fallbacks: number;
  bytes: number;
  messages: number;
  chunks: number;
  dropped: number;
  seconds: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
}

async function phase(record: boolean, dir: string): Promise<Phase> {
  const flags: Record<string, unknown> = { 'record.enabled': record, 'record.dir': dir, 'telemetry.port': -1, 'telemetry.live': 'off', 'telemetry.watchdog': false, 'telemetry.logLevel': 'warn' };
  if (values.model) flags['model.bundle'] = values.model;
  if (values.trust) flags['model.trust'] = values.trust;
  const cfg = loadConfig({ file: defaultConfigFile(), env: {}, flags });
  const stack = await startStack(cfg);
  const d = stack.daemon;
  // Skip the first second (connections, warm-up), then sample every tick's latency.
  await new Promise((r) => setTimeout(r, 1000));
  const latencies: number[] = [];
  const s0 = { ...d.loop.stats };
  const tap = { decision: (m: { latency_ms: number }) => void latencies.push(m.latency_ms) };
  (d.loop as unknown as { taps: Array<typeof tap> }).taps.push(tap);
  const r0 = d.recorder ? { ...d.recorder.stats } : undefined;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const el = (performance.now() - t0) / 1000;
  const s1 = { ...d.loop.stats };
  const r1 = d.recorder ? { ...d.recorder.stats } : undefined;
  await stack.stop();
  return {
    record,
    latencies,
    ticks: s1.ticks - s0.ticks,
    misses: s1.deadlineMisses - s0.deadlineMisses,
    fallbacks: s1.fallbacks - s0.fallbacks,
    bytes: r1 && r0 ? r1.bytes - r0.bytes : 0,
    messages: r1 && r0 ? r1.messages - r0.messages : 0,
    chunks: r1 && r0 ? r1.chunks - r0.chunks : 0,
    dropped: r1 && r0 ? r1.dropped - r0.dropped : 0,
    seconds: el,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'edgereward-bench-rec-'));
try {
  const phases: Phase[] = [];
  for (const rec of [false, true, false, true]) {
    process.stderr.write(`phase: recording ${rec ? 'on' : 'off'} for ${seconds} s\n`);
    phases.push(await phase(rec, dir));
  }
  const merge = (rec: boolean) => {
    const ps = phases.filter((p) => p.record === rec);
    const lat = ps.flatMap((p) => p.latencies);
    const sum = (k: keyof Phase) => ps.reduce((n, p) => n + (p[k] as number), 0);
    return { lat, ticks: sum('ticks'), misses: sum('misses'), fallbacks: sum('fallbacks'), bytes: sum('bytes'), messages: sum('messages'), chunks: sum('chunks'), dropped: sum('dropped'), seconds: sum('seconds') };
  };
  const off = merge(false);
  const on = merge(true);
  const files = await listRecordings(dir);
  const line = (name: string, m: ReturnType<typeof merge>) =>
    `${name.padEnd(14)} ticks ${String(m.ticks).padStart(5)}  p50 ${pct(m.lat, 0.5).toFixed(3)} ms  p99 ${pct(m.lat, 0.99).toFixed(3)} ms  max ${Math.max(...m.lat).toFixed(3)} ms  deadline misses ${m.misses}  fallbacks ${m.fallbacks}`;
  console.log(`decision loop, embedded demo, ${seconds} s x 2 phases each (interleaved off/on/off/on):`);
  console.log(line('recording off', off));
  console.log(line('recording on', on));
  console.log(`p99 ratio on/off: ${(pct(on.lat, 0.99) / pct(off.lat, 0.99)).toFixed(2)}   p50 ratio: ${(pct(on.lat, 0.5) / pct(off.lat, 0.5)).toFixed(2)}`);
  const perMin = (on.bytes / on.seconds) * 60;
  console.log(`recording: ${(perMin / 1e6).toFixed(2)} MB per minute of demo, ${(on.messages / on.seconds).toFixed(0)} messages/s, ${(on.bytes / on.seconds / 1024).toFixed(1)} kB/s written in ${on.chunks} chunks (${(on.chunks / on.seconds).toFixed(2)} writes+fdatasync/s), dropped ${on.dropped}`);
  console.log(`files: ${files.length}, ${files.reduce((n, f) => n + f.size, 0)} bytes; a 50 MB cap holds ~${(50e6 / perMin).toFixed(0)} min of the demo`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
