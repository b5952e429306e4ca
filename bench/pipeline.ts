/**
 * Student against teacher, side by side, in one run: `npx tsx bench/pipeline.ts
 * [--teacher models/teacher/teacher.bundle] [--student models/student/student.bundle]
 * [--episodes 200] [--seed 1000] [--fidelity-episodes 30] [--json]`.
 *
 * Independent of the pipeline's own evaluation: fidelity on fresh states (world seeds 300000..,
 * never in any training or held-out data), latency at 1 and 65 candidates with interleaved runs
 * (one onnxruntime thread each, medians), file sizes, and the closed loop on seeded worlds.
 * Prints the targets with the measured values; figures only, no assertions.
 */
import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readBundle, modelBytes } from '../src/runtime/bundle/format.js';
import { Scorer } from '../src/runtime/engine/scorer.js';
import { evaluate, type EvaluateResult } from '../src/sim/episode.js';
import { modelPolicy } from '../src/sim/model-policy.js';
import { generateDataset } from '../src/sim/generate.js';
import { groupedFromDataset } from '../src/train/data.js';
import { decisionFidelity, scoreSet } from '../src/train/fidelity.js';
import { load, timingData } from '../src/compress/evaluate/compare.js';
import { latencySideBySide } from '../src/compress/evaluate/run.js';
import { log } from '../src/telemetry/log.js';

const root = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));
const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: root('models/teacher/teacher.bundle') },
    student: { type: 'string', default: root('models/student/student.bundle') },
    episodes: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1000' },
    'fidelity-episodes': { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';

const load0 = loadavg();
const tb = readBundle(a.teacher!);
const sb = readBundle(a.student!);
const sizes = { teacher: statSync(a.teacher!).size, student: statSync(a.student!).size };

// Latency: interleaved, medians, batch 1 and 65.
const tl = await load(modelBytes(tb), 'teacher', { threads: 1 });
const sl = await load(modelBytes(sb), 'student', { threads: 1 });
const lat = await latencySideBySide(tl, sl, timingData(tl.model, 65), [1, 65], { runs: 1000, warmup: 50 });
await tl.session.release();
await sl.session.release();

// Fidelity on fresh states.
const { dataset } = generateDataset({ episodes: Number(a['fidelity-episodes']), seed: 300000 });
const set = groupedFromDataset(dataset);
const ts = await Scorer.fromBundle(tb, { intraOpThreads: 1 });
const ss = await Scorer.fromBundle(sb, { intraOpThreads: 1 });
const tPred = await scoreSet(ts, set);
const sPred = await scoreSet(ss, set);
const fid = decisionFidelity(tPred, sPred, set.rewards, set.k);

// Closed loop.
const run = async (sc: Scorer): Promise<EvaluateResult> => evaluate({ episodes: Number(a.episodes), seed: Number(a.seed), policy: modelPolicy(sc) });
const te = await run(ts);
const se = await run(ss);
await ts.release();
await ss.release();

const b65 = lat.find((l) => l.batch === 65)!;
const out = {
  teacher: tb.manifest.name + '@' + tb.manifest.version,
  student: sb.manifest.name + '@' + sb.manifest.version,
  bytes: sizes,
  size_ratio: sizes.teacher / sizes.student,
  latency: lat.map((l) => ({ batch: l.batch, teacher_ms: l.aMs, student_ms: l.bMs, speedup: l.aMs / l.bMs })),
  fidelity: { states: fid.states, top1: fid.top1Agreement, spearman: fid.spearman, regret_true: fid.regret },
  closed_loop: { episodes: Number(a.episodes), teacher: te.successRate, student: se.successRate, ratio: se.successRate / te.successRate },
  load: { cpus: cpus().length, start: load0, end: loadavg() },
};
if (a.json) {
  process.stdout.write(JSON.stringify(out) + '\n');
} else {
  const row = (n: string, t: string, v: string, ok: boolean) => `  ${ok ? 'ok ' : 'NO '} ${n.padEnd(44)} ${v.padEnd(34)} (target ${t})`;
  process.stdout.write([
    `${out.student} against ${out.teacher} (load ${load0.map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs)`,
    row('file size teacher / student', '≥ 20×', `${out.size_ratio.toFixed(1)}× (${sizes.teacher} / ${sizes.student} B)`, out.size_ratio >= 20),
    row('latency at 65 candidates teacher / student', '≥ 10×', `${(b65.aMs / b65.bMs).toFixed(1)}× (${(b65.aMs * 1000).toFixed(0)} / ${(b65.bMs * 1000).toFixed(0)} µs)`, b65.aMs / b65.bMs >= 10),
    row(`top-1 agreement (${fid.states} fresh states)`, '≥ 95%', `${(100 * fid.top1Agreement).toFixed(1)}%`, fid.top1Agreement >= 0.95),
    row(`closed-loop success ratio (${a.episodes} episodes)`, '≥ 98%', `${(100 * out.closed_loop.ratio).toFixed(1)}% (${(100 * se.successRate).toFixed(1)}% vs ${(100 * te.successRate).toFixed(1)}%)`, out.closed_loop.ratio >= 0.98),
    row('mean regret (true reward)', 'reported', fid.regret.toFixed(4), true),
    `  Spearman ${fid.spearman.toFixed(4)}; latency at batch 1: ${(lat[0]!.aMs * 1000).toFixed(0)} / ${(lat[0]!.bMs * 1000).toFixed(0)} µs`,
  ].join('\n') + '\n');
}
