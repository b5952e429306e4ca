/**
 * The pipeline's report next to the bundle: `<name>.report.md` with the targets, the stages and
 * two SVG plots — the search's Pareto front (fidelity against latency) and size, latency and
 * fidelity after each stage.
 */
import { basename, dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../../runtime/store/atomic.js';
import { barsSvg, scatterSvg, type ScatterPoint } from '../plot/svg.js';
import type { SearchResult } from '../search/evolve.js';
import type { EvaluateStage, Summary } from './pipeline.js';

export interface ReportInput {
  out: string;
  summary: Summary;
  search: Omit<SearchResult, 'chosenLayers' | 'chosenModel'>;
  evaluation: EvaluateStage;
  distilled: { history: Array<{ epoch: number; loss: number; top1: number; spearman: number; seconds: number }>; bestEpoch: number; heldOut: { top1: number; spearman: number } };
  pruned: { applied: boolean; reason?: string; beforeFinetune?: { top1: number | null; spearman: number | null }; finetune?: { heldOut: { top1: number; spearman: number } } | null };
  quantized: { applied: boolean; note: string };
  targetLatencyMs: number | undefined;
  lambda: number | undefined;
  wallSeconds: number;
}

/** Checkpoints are JSON: a NaN written by one run comes back as null in a resumed one. */
const num = (x: number | null | undefined): number => (typeof x === 'number' ? x : NaN);
const pct = (x: number | null | undefined): string => (Number.isFinite(num(x)) ? `${(100 * num(x)).toFixed(1)}%` : 'n/a');
const fx = (x: number | null | undefined, d: number): string => (Number.isFinite(num(x)) ? num(x).toFixed(d) : 'n/a');

export function paretoSvg(search: ReportInput['search'], targetLatencyMs?: number): string {
  const front = new Set(search.front.map((p) => p.key));
  const pts: ScatterPoint[] = search.points.map((p) => ({
    x: p.latencyMs * 1000,
    y: p.top1,
    label: `${p.key} (rung ${p.rung})`,
    kind: search.chosen && p.key === search.chosen.key ? 'chosen' : front.has(p.key) ? 'front' : 'point',
  }));
  for (const p of pts) if (p.kind === 'point') delete p.label;
  const teacherMs = search.points.length ? search.points.reduce((a, p) => a + p.teacherLatencyMs, 0) / search.points.length : NaN;
  if (Number.isFinite(teacherMs)) pts.push({ x: teacherMs * 1000, y: 1, label: 'teacher', kind: 'reference' });
  return scatterSvg(pts, {
    title: `Architecture search: ${search.points.length} candidates, ${search.evaluations.length} evaluations`,
    xLabel: `latency at the deployment batch, µs (onnxruntime-node, this machine, log scale)`,
    yLabel: 'held-out top-1 agreement with the teacher',
    logX: true,
    ...(targetLatencyMs !== undefined ? { xLine: { x: targetLatencyMs * 1000, label: `target ${targetLatencyMs} ms` } } : {}),
  });
}

export function stagesSvg(e: EvaluateStage): string {
  const v = (f: (s: EvaluateStage['stages'][number]) => number) => e.stages.map((s) => ({ label: s.stage, value: f(s) }));
  return barsSvg(
    [
      { title: 'model size', unit: ' kB', values: v((s) => s.bytes / 1000), logScale: true },
      { title: 'latency, one batch', unit: ' µs', values: v((s) => s.latencyMs * 1000), logScale: true },
      { title: 'top-1 vs teacher', unit: '', values: v((s) => s.top1) },
      { title: 'Spearman vs teacher', unit: '', values: v((s) => s.spearman) },
    ],
    { title: 'After each stage (measured side by side with the teacher in one run)' },
  );
}

export function writeReport(r: ReportInput): string {
  const base = r.out.replace(/\.bundle$/, '');
  const dir = dirname(r.out);
  const name = basename(base);
  const paretoFile = `${name}.pareto.svg`;
  const stagesFile = `${name}.stages.svg`;
  writeFileAtomicSync(join(dir, paretoFile), paretoSvg(r.search, r.targetLatencyMs));
  writeFileAtomicSync(join(dir, stagesFile), stagesSvg(r.evaluation));
  const s = r.summary;
  const e = r.evaluation;
  const L: string[] = [];
  L.push(`# ${s.student.id}: distilled from ${s.teacher.id}`, '');
  L.push(`Produced by \`edgereward compress pipeline\` from \`${basename(s.teacher.file)}\` (sha256 \`${s.teacher.sha256.slice(0, 16)}…\`). Student: ${s.student.arch}; bundle \`${basename(s.student.file)}\`, ${s.student.bytes} bytes (model ${s.student.modelBytes} bytes).`, '');
  L.push(`Machine: ${s.load.cpus} CPUs, load average ${s.load.start.join(' ')} at the start and ${s.load.end.join(' ')} at the end (shared); latencies are medians of interleaved runs, one onnxruntime thread each, so load hits teacher and student alike.`, '');
  L.push('## Targets', '', '| figure | target | measured | met |', '| --- | --- | --- | --- |');
  for (const t of s.targets) L.push(`| ${t.name} | ${t.target} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
  L.push('');
  L.push('## Stages', '', '| stage | seconds |', '| --- | --- |');
  for (const [k, v] of Object.entries(s.stageSeconds)) L.push(`| ${k} | ${v.toFixed(1)} |`);
  L.push(`| total (stage time, summed over restarts) | ${s.pipelineSeconds.toFixed(1)} |`, '');
  L.push(`![size, latency and fidelity after each stage](${stagesFile})`, '');
  L.push('| model | bytes | params | latency µs | teacher µs (same run) | top-1 vs teacher | Spearman |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const st of e.stages) L.push(`| ${st.stage} | ${st.bytes} | ${st.params} | ${(st.latencyMs * 1000).toFixed(1)} | ${(st.teacherLatencyMs * 1000).toFixed(1)} | ${pct(st.top1)} | ${fx(st.spearman, 4)} |`);
  L.push('', '(top-1 and Spearman here on the held-out monitor states; the final figures below on all held-out states.)', '');
  L.push('## Search', '');
  const so = r.search.options;
  L.push(`Evolutionary search (population ${so.population}, ${so.children} children per generation, ${so.parents} parents kept) screened by successive halving (η = ${so.eta}; rungs ${so.rungs.map((x) => `${x.epochs} epoch(s) on ${pct(x.fraction)} of the states`).join(', ')}). Objective: ${r.lambda !== undefined ? `L + ${r.lambda}·C with C = ${so.cost}` : `most faithful within ${r.targetLatencyMs} ms at the deployment batch`}. ${r.search.evaluations.length} evaluations in ${r.search.generations} generations, ${r.search.seconds.toFixed(0)} s, stopped by ${r.search.stoppedBy}.`, '');
  L.push(`![Pareto front](${paretoFile})`, '');
  L.push('Pareto front (fidelity against latency):', '', '| candidate | rung | top-1 | Spearman | latency µs | bytes |', '| --- | --- | --- | --- | --- | --- |');
  for (const p of r.search.front) L.push(`| ${p.key}${r.search.chosen && p.key === r.search.chosen.key ? ' **(chosen)**' : ''} | ${p.rung} | ${pct(p.top1)} | ${fx(p.spearman, 4)} | ${(p.latencyMs * 1000).toFixed(1)} | ${p.bytes} |`);
  if (r.search.chosen && !r.search.front.some((p) => p.key === r.search.chosen!.key)) L.push('', `Chosen: ${r.search.chosen.key} (top rung; the front above may include lower-rung points).`);
  L.push('', '## Distillation, pruning, quantization', '');
  L.push(`Distillation: ${r.distilled.history.length} epochs, best epoch ${r.distilled.bestEpoch}; held-out top-1 ${pct(r.distilled.heldOut.top1)}, Spearman ${fx(r.distilled.heldOut.spearman, 4)}.`);
  L.push(r.pruned.applied ? `Pruning: structured; top-1 ${r.pruned.beforeFinetune?.top1 ?? '?'} before the fine-tune, ${r.pruned.finetune ? pct(r.pruned.finetune.heldOut.top1) : '?'} after.` : `Pruning: skipped (${r.pruned.reason}).`);
  L.push(`Quantization: ${r.quantized.note}.`, '');
  L.push('## Final student against the teacher', '');
  L.push(`Held-out fidelity (${e.fidelity.states} states of episodes not trained on): top-1 ${pct(e.fidelity.top1)}, Spearman ${fx(e.fidelity.spearman, 4)}, mean regret ${fx(e.fidelity.regretTrue, 4)} in true reward (${fx(e.fidelity.regretTeacherScale, 4)} on the teacher's scale), mean |reward error| ${fx(e.fidelity.meanAbsErr, 4)}.`, '');
  L.push('| batch | teacher ms | student ms | speedup |', '| --- | --- | --- | --- |');
  for (const l of e.latency) L.push(`| ${l.batch} | ${l.teacherMs.toFixed(4)} | ${l.studentMs.toFixed(4)} | ${l.speedup.toFixed(1)}× |`);
  if (e.closedLoop) {
    const c = e.closedLoop;
    L.push('', `Closed loop on ${c.episodes} seeded worlds (${c.seed}..${c.seed + c.episodes - 1}):`, '', '| model | success | collision | timeout | time to goal s | decision ms |', '| --- | --- | --- | --- | --- | --- |');
    for (const [n, x] of [['teacher', c.teacher], ['student', c.student]] as const) L.push(`| ${n} | ${pct(x.successRate)} | ${pct(x.collisionRate)} | ${pct(x.timeoutRate)} | ${fx(x.meanTimeToGoal, 2)} | ${fx(x.meanLatencyMs, 3)} |`);
  }
  L.push('');
  const path = `${base}.report.md`;
  writeFileAtomicSync(path, L.join('\n'));
  return path;
}
