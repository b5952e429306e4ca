/**
 * `edgereward compress pipeline`: teacher → (search → distil) → prune (+ fine-tune) → quantize
 * (calibrated on the data) → evaluate (fidelity on held-out states, latency side by side with the
 * teacher, closed loop in the simulator) → sign. Each stage leaves a checkpoint in the work
 * directory; a restarted run skips completed stages.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename } from 'node:path';
import { EdgeError } from '../../errors.js';
import { buildManifest, createBundle, type ManifestPart } from '../../runtime/bundle/create.js';
import { loadPrivateKey } from '../../runtime/bundle/keys.js';
import { modelId, type Manifest } from '../../runtime/bundle/manifest.js';
import { Scorer } from '../../runtime/engine/scorer.js';
import { writeFileAtomicSync } from '../../runtime/store/atomic.js';
import { decodeDataset } from '../../sim/dataset.js';
import { evaluate, type EvaluateResult } from '../../sim/episode.js';
import { modelPolicy } from '../../sim/model-policy.js';
import { splitByEpisode } from '../../train/data.js';
import { rewardManifest } from '../../train/export.js';
import { decisionFidelity } from '../../train/fidelity.js';
import { selectStates, type GroupedSet } from '../../train/groups.js';
import { progressBar } from '../../train/progress.js';
import { loadTf } from '../../train/tf.js';
import { decodeModel } from '../onnx/model.js';
import { load } from '../evaluate/compare.js';
import { groupedSpearman, top1Agreement } from '../evaluate/metrics.js';
import { latencySideBySide, scoreDataset } from '../evaluate/run.js';
import { provenanceStep } from '../io.js';
import { modelStats, type CompressReport } from '../report.js';
import { pruneModel } from '../prune/index.js';
import { quantizeModel } from '../quantize/index.js';
import { checkTeacherFeatures, distillStudent, heldOutFidelity, layersFromOnnx, readTeacher, scoreStates, studentOnnx, type DistillResult, type TeacherSource } from '../distill/index.js';
import { createEvaluator, DEFAULT_RUNGS, rowsDataset, searchArchitectures, type CostKind, type Rung, type SearchPoint, type SearchSpace, DEFAULT_SPACE, type Candidate } from '../search/index.js';
import { writeReport } from './report.js';
import { WorkDir } from './workdir.js';

export interface PipelineOptions {
  teacher: string;
  data: string;
  out: string;
  key: string;
  targetLatencyMs?: number;
  lambda?: number;
  cost?: CostKind;
  /** Size limit of the student model in bytes (a constraint of the search). */
  maxBytes?: number;
  /** Search budget in minutes (default 10) and/or evaluations. */
  budgetMin?: number;
  maxEvaluations?: number;
  work?: string;
  /** Closed-loop evaluation: episodes (default 200) on world seeds evalSeed.. (default 1000). */
  evalEpisodes?: number;
  evalSeed?: number;
  heldOutFraction?: number;
  /** Held-out states used by the search and early stopping (default 1000, strided). */
  monitorStates?: number;
  /** Use at most this many training states (default: all). */
  maxTrainStates?: number;
  distillEpochs?: number;
  finetuneEpochs?: number;
  patience?: number;
  rungs?: Rung[];
  population?: number;
  children?: number;
  space?: Partial<SearchSpace>;
  seeds?: Candidate[];
  deployBatch?: number;
  latencyRuns?: number;
  /** Candidates per state per training step in the search (default 16) and the final distillation (default 32); the true best is always among them. */
  searchCandidates?: number;
  distillCandidates?: number;
  seed?: number;
  name?: string;
  version?: string;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface StageFigure {
  stage: string;
  bytes: number;
  params: number;
  latencyMs: number;
  teacherLatencyMs: number;
  top1: number;
  spearman: number;
}

export interface EvaluateStage {
  stages: StageFigure[];
  latency: Array<{ batch: number; teacherMs: number; studentMs: number; speedup: number }>;
  fidelity: { states: number; top1: number; spearman: number; regretTrue: number; regretTeacherScale: number; meanAbsErr: number; maxAbsErr: number };
  closedLoop: { episodes: number; seed: number; teacher: EvaluateResult; student: EvaluateResult; successRatio: number } | null;
}

export interface PipelineResult {
  out: string;
  report: string;
  stagesRun: string[];
  stagesResumed: string[];
  summary: Summary;
}

export interface Summary {
  teacher: { id: string; file: string; bytes: number; sha256: string };
  student: { id: string; file: string; bytes: number; modelBytes: number; arch: string };
  sizeRatio: number;
  speedupB65: number;
  top1: number;
  spearman: number;
  regretTrue: number;
  successTeacher: number | null;
  successStudent: number | null;
  successRatio: number | null;
  pipelineSeconds: number;
  stageSeconds: Record<string, number>;
  targets: Array<{ name: string; target: string; value: string; met: boolean }>;
  load: { cpus: number; start: number[]; end: number[] };
}

const r4 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);
const archText = (c: Candidate): string => `${[39, ...c.hidden, 1].join('→')} ${c.activation}${c.sparsity ? `, ${c.sparsity * 100}% units pruned` : ''}${c.bits === 8 ? ', int8' : ', fp32'}`;

function stepOf(r: CompressReport): Record<string, unknown> {
  return JSON.parse(JSON.stringify(provenanceStep(r), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as Record<string, unknown>;
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const t0 = performance.now();
  const say = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const progress = o.progress !== false;
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  if (o.targetLatencyMs === undefined && o.lambda === undefined) throw new EdgeError('E_PIPELINE_OPTION', 'give --target-latency-ms (the latency budget at the deployment batch) or --lambda (the weight of the cost)');
  const key = loadPrivateKey(o.key);
  const teacher: TeacherSource = readTeacher(o.teacher);
  let dataBytes: Buffer;
  try {
    dataBytes = readFileSync(o.data);
  } catch (e) {
    throw new EdgeError('E_PIPELINE_DATA', `cannot read data ${o.data}; generate it with \`edgereward sim dataset\``, { cause: e });
  }
  const dataSha = createHash('sha256').update(dataBytes).digest('hex');
  const ds = decodeDataset(dataBytes, o.data);
  checkTeacherFeatures(teacher, ds.meta.featureMap);
  const k = ds.candidateCount;
  const deployBatch = o.deployBatch ?? k;
  const seed = o.seed ?? 1;
  const settings = {
    teacher: teacher.sha256, data: dataSha, target: o.targetLatencyMs ?? null, maxBytes: o.maxBytes ?? null, lambda: o.lambda ?? null, cost: o.cost ?? 'latency',
    heldOut: o.heldOutFraction ?? 0.1, monitor: o.monitorStates ?? 1000, maxTrain: o.maxTrainStates ?? null, seed, deployBatch,
    rungs: o.rungs ?? DEFAULT_RUNGS, space: o.space ?? null, distillEpochs: o.distillEpochs ?? 6, finetuneEpochs: o.finetuneEpochs ?? 2,
    searchCandidates: Math.min(k, o.searchCandidates ?? 16), distillCandidates: Math.min(k, o.distillCandidates ?? 32),
    evalEpisodes: o.evalEpisodes ?? 200, evalSeed: o.evalSeed ?? 1000,
  };
  // Which settings each stage depends on (besides those of the stages before it).
  const perStage: Array<Array<keyof typeof settings>> = [
    [],
    ['teacher', 'data', 'heldOut', 'monitor', 'maxTrain', 'seed', 'deployBatch'],
    ['target', 'maxBytes', 'lambda', 'cost', 'rungs', 'space', 'searchCandidates'],
    ['distillEpochs', 'distillCandidates'],
    ['finetuneEpochs'],
    [],
    ['evalEpisodes', 'evalSeed'],
    [],
  ];
  const stageFingerprint = (index: number): string => {
    const keys = perStage.slice(0, index + 1).flat();
    return createHash('sha256').update(JSON.stringify(keys.map((key) => [key, settings[key]]))).digest('hex').slice(0, 16);
  };
  const fingerprint = stageFingerprint(perStage.length - 1);
  const work = new WorkDir(o.work ?? `${o.out}.work`, stageFingerprint);
  const stagesRun: string[] = [];
  const stagesResumed: string[] = [];
  const stageSeconds: Record<string, number> = {};
  async function stage<T>(index: number, name: string, f: () => Promise<T>): Promise<T> {
    const done = work.load<T>(index, name, say);
    if (done) {
      stagesResumed.push(name);
      stageSeconds[name] = done.seconds;
      say(`[${name}] done in an earlier run (${done.seconds.toFixed(1)} s): ${work.dir}`);
      return done.result;
    }
    say(`[${name}] …`);
    const s0 = performance.now();
    const r = await f();
    const secs = (performance.now() - s0) / 1000;
    work.save(index, name, secs, r);
    stagesRun.push(name);
    stageSeconds[name] = secs;
    say(`[${name}] ${secs.toFixed(1)} s`);
    return r;
  }

  // Data: split by episode (held-out worlds), a strided monitor subset for search and early stopping.
  const split = splitByEpisode(ds, settings.heldOut, seed);
  const train: GroupedSet = o.maxTrainStates && split.train.states > o.maxTrainStates ? selectStates(split.train, Array.from({ length: o.maxTrainStates }, (_, i) => i)) : split.train;
  const val = split.validation;
  const monStride = Math.max(1, Math.floor(val.states / settings.monitor));
  const monIdx = Array.from({ length: Math.min(settings.monitor, Math.ceil(val.states / monStride)) }, (_, i) => i * monStride).filter((i) => i < val.states);
  const mon = selectStates(val, monIdx);
  const tm = decodeModel(teacher.model, 'the teacher');
  const io = {
    input: teacher.manifest?.features[0]?.input ?? tm.graph?.input?.[0]?.name ?? 'x',
    output: teacher.manifest?.output.name ?? tm.graph?.output?.[0]?.name ?? 'reward',
  };
  say(`teacher ${teacher.manifest ? modelId(teacher.manifest) : basename(teacher.path)} (${teacher.fileBytes} bytes); data ${ds.states} states: train ${train.states}, held-out ${val.states} (${split.validationEpisodes} episodes), monitor ${mon.states}; load ${loadStart.join(' ')} on ${cpus().length} CPUs`);

  // 1. The teacher scores every candidate of every state once.
  await stage(1, 'teacher', async () => {
    const bar = await progressBar('teacher', train.states + val.states, { enabled: progress });
    const a = await scoreStates(teacher.model, train, { onProgress: (d) => bar.update(d) });
    const b = await scoreStates(teacher.model, val, { onProgress: (d) => bar.update(train.states + d) });
    bar.stop();
    work.writeFloats('teacher-train.f32', a);
    work.writeFloats('teacher-val.f32', b);
    return { trainStates: train.states, heldOutStates: val.states };
  });
  const tTrain = work.readFloats('teacher-train.f32');
  const tVal = work.readFloats('teacher-val.f32');
  if (tTrain.length !== train.states * k || tVal.length !== val.states * k) throw new EdgeError('E_PIPELINE_WORKDIR', `teacher scores in ${work.dir} do not match the data; delete the work directory`);
  const tMon = selectStates({ ...val, rewards: tVal }, monIdx).rewards;
  const tf = await loadTf();

  // 2. Search.
  const search = await stage(2, 'search', async () => {
    const ev = await createEvaluator({
      tf, train, teacherTrain: tTrain, heldOut: mon, teacherHeldOut: tMon, teacherModel: teacher.model, io, deployBatch,
      latencyRuns: o.latencyRuns ?? 100, rungs: settings.rungs, distill: { seed, candidatesPerState: settings.searchCandidates },
    });
    const budgetMin = o.budgetMin ?? (o.maxEvaluations === undefined ? 10 : undefined);
    const byEvals = o.maxEvaluations !== undefined;
    const bar = await progressBar('search', byEvals ? o.maxEvaluations! : Math.round((budgetMin ?? 10) * 60), { enabled: progress, fields: 'best {best}' });
    const s0 = performance.now();
    let bestTop1 = 0;
    try {
      const res = await searchArchitectures(ev, {
        space: { ...DEFAULT_SPACE, ...o.space },
        ...(o.population ? { population: o.population } : {}),
        ...(o.children ? { children: o.children } : {}),
        ...(o.maxEvaluations !== undefined ? { maxEvaluations: o.maxEvaluations } : {}),
        ...(budgetMin !== undefined ? { minutes: budgetMin } : {}),
        ...(o.targetLatencyMs !== undefined ? { targetLatencyMs: o.targetLatencyMs } : {}),
        ...(o.lambda !== undefined ? { lambda: o.lambda } : {}),
        cost: settings.cost as CostKind,
        ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
        ...(o.seeds ? { seeds: o.seeds } : {}),
        seed,
        onEvaluation: (m, n) => {
          if (m.rung === settings.rungs.length - 1) bestTop1 = Math.max(bestTop1, m.top1);
          if (!process.stderr.isTTY) say(`  ${String(n).padStart(3)}. ${m.key} rung ${m.rung}: top-1 ${m.top1.toFixed(3)}, ${(m.latencyMs * 1000).toFixed(1)} µs (teacher ${(m.teacherLatencyMs * 1000).toFixed(0)} µs), ${m.bytes} B, ${m.trainSeconds.toFixed(1)} s training`);
          bar.update(byEvals ? n : Math.round((performance.now() - s0) / 1000), { best: bestTop1.toFixed(3) });
        },
        onLog: say,
      });
      bar.stop();
      if (!res.chosen || !res.chosenLayers) throw new EdgeError('E_PIPELINE_SEARCH', 'the search evaluated no candidate within its budget; give it more --budget-min');
      work.writeBytes('search-best.onnx', studentOnnx(res.chosenLayers, io));
      const { chosenLayers: _l, chosenModel: _m, ...rest } = res;
      say(`search: ${res.evaluations.length} evaluations in ${res.generations} generations (${res.stoppedBy}); chosen ${res.chosen.key}: top-1 ${res.chosen.top1.toFixed(3)}, ${res.chosen.latencyMs.toFixed(4)} ms vs teacher ${res.chosen.teacherLatencyMs.toFixed(4)} ms${res.meetsTarget ? '' : ' (NO candidate met the latency target: the fastest was taken)'}`);
      return rest;
    } finally {
      await ev.release();
    }
  });
  const chosen = search.chosen as SearchPoint;
  const cand = chosen.candidate;

  // 3. Distil the chosen architecture longer (warm start from its search weights), early-stopped.
  const distilled = await stage(3, 'distill', async () => {
    const init = layersFromOnnx(work.readBytes('search-best.onnx'));
    const epochs = settings.distillEpochs;
    const stepsPer = Math.floor(train.states / 128);
    let bar = await progressBar('distill e1', stepsPer, { enabled: progress, fields: 'loss {loss}' });
    const d: DistillResult = await distillStudent(tf, {
      train, teacherTrain: tTrain, heldOut: mon, teacherHeldOut: tMon, arch: { hidden: cand.hidden, activation: cand.activation }, init, epochs, patience: o.patience ?? 3, seed, lr: 2e-3, candidatesPerState: settings.distillCandidates,
      onStep: (p) => bar.update(p.step, { loss: p.loss.toFixed(4) }),
      onEpoch: (e) => {
        bar.stop();
        say(`  epoch ${e.epoch}: loss ${e.train.loss.toFixed(4)} (sup ${e.train.huber.toFixed(4)}, KL ${e.train.kl.toFixed(4)}), held-out score ${e.monitor?.toFixed(4)}`);
        if (e.epoch < epochs) void progressBar(`distill e${e.epoch + 1}`, stepsPer, { enabled: progress, fields: 'loss {loss}' }).then((b) => (bar = b));
      },
    });
    work.writeBytes('student-distilled.onnx', studentOnnx(d.layers, io));
    const { layers: _l, ...rest } = d;
    return rest;
  });

  const held = rowsDataset(mon, mon.states, io.input, 'held-out monitor states');
  const calib = rowsDataset(train, 32, io.input, `${basename(o.data)} (training states, calibration)`);

  // 4. Structured pruning + a short fine-tune.
  const pruned = await stage(4, 'prune', async () => {
    const dense = work.readBytes('student-distilled.onnx');
    if (!(cand.sparsity > 0)) {
      work.writeBytes('student-pruned.onnx', dense);
      return { applied: false, reason: 'the chosen architecture has no pruning (sparsity 0)', report: null, finetune: null };
    }
    const p = await pruneModel(dense, { structured: true, sparsity: cand.sparsity, evalData: held, groupSize: k, deployBatch, threads: 1 });
    const init = layersFromOnnx(p.bytes);
    const ft = await distillStudent(tf, {
      train, teacherTrain: tTrain, heldOut: mon, teacherHeldOut: tMon, arch: { hidden: init.slice(0, -1).map((l) => l.outDim), activation: cand.activation }, init,
      epochs: settings.finetuneEpochs, patience: 2, seed, lr: 1e-3, candidatesPerState: settings.distillCandidates,
      onEpoch: (e) => say(`  fine-tune epoch ${e.epoch}: held-out score ${e.monitor?.toFixed(4)}`),
    });
    work.writeBytes('student-pruned.onnx', studentOnnx(ft.layers, io));
    return { applied: true, report: stepOf(p.report), beforeFinetune: { top1: p.report.top1_agreement, spearman: p.report.spearman }, finetune: { epochs: ft.history.length, bestEpoch: ft.bestEpoch, heldOut: ft.heldOut } };
  });

  // 5. Quantization (static int8, calibrated on the data), checked on the target; kept when chosen.
  const quantized = await stage(5, 'quantize', async () => {
    const input = work.readBytes('student-pruned.onnx');
    let rep: Record<string, unknown> | null = null;
    let bytes = input;
    let note = '';
    try {
      const q = await quantizeModel(input, { mode: 'static', calib, evalData: held, groupSize: k, deployBatch, threads: 1 });
      rep = stepOf(q.report);
      if (cand.bits === 8) bytes = q.bytes;
      note = cand.bits === 8 ? 'applied (the search chose int8)' : `measured, not applied: the search chose float weights (int8 here: latency ×${q.report.latency_ratio_b64 ?? '?'} at batch 64, top-1 ${q.report.top1_agreement})`;
    } catch (e) {
      note = `not applied: ${(e as Error).message.split('\n')[0]}`;
    }
    work.writeBytes('student-final.onnx', bytes);
    return { applied: bytes !== input, note, report: rep };
  });

  // 6. Evaluate: every stage side by side with the teacher; the final student on all held-out states and in closed loop.
  const manifestPart = studentManifest(teacher, ds.meta, o, io);
  const finalModel = work.readBytes('student-final.onnx');
  const evaluation = await stage(6, 'evaluate', async (): Promise<EvaluateStage> => {
    const tl = await load(teacher.model, 'the teacher', { threads: 1 });
    const stages: StageFigure[] = [];
    const runs = o.latencyRuns ?? 300;
    try {
      const tPred = await scoreDataset(tl.session, tl.model, held);
      const lat0 = await latencySideBySide(tl, tl, held, [deployBatch], { runs: 50 });
      stages.push({ stage: 'teacher', bytes: teacher.model.length, params: modelStats(teacher.model).params, latencyMs: lat0[0]!.aMs, teacherLatencyMs: lat0[0]!.aMs, top1: top1Agreement(tMon, tPred, k), spearman: groupedSpearman(tMon, tPred, k) });
      const names: Array<[string, string]> = [['distilled', 'student-distilled.onnx'], ...(pruned.applied ? [['pruned', 'student-pruned.onnx'] as [string, string]] : []), ...(quantized.applied ? [['quantized', 'student-final.onnx'] as [string, string]] : [])];
      for (const [stageName, file] of names) {
        const b = work.readBytes(file);
        const s = await load(b, stageName, { threads: 1 });
        try {
          const pred = await scoreDataset(s.session, s.model, held);
          const l = (await latencySideBySide(tl, s, held, [deployBatch], { runs }))[0]!;
          stages.push({ stage: stageName, bytes: b.length, params: modelStats(b).params, latencyMs: l.bMs, teacherLatencyMs: l.aMs, top1: top1Agreement(tMon, pred, k), spearman: groupedSpearman(tMon, pred, k) });
        } finally {
          await s.session.release();
        }
      }
      const fs = await load(finalModel, 'the student', { threads: 1 });
      let latency: EvaluateStage['latency'];
      let fid: EvaluateStage['fidelity'];
      try {
        const lat = await latencySideBySide(tl, fs, held, [1, deployBatch], { runs });
        latency = lat.map((l) => ({ batch: l.batch, teacherMs: l.aMs, studentMs: l.bMs, speedup: l.aMs / l.bMs }));
        const all = rowsDataset(val, val.states, io.input, 'all held-out states');
        const sPred = await scoreDataset(fs.session, fs.model, all);
        const d = decisionFidelity(tVal, sPred, val.rewards, k);
        const { regret } = await import('../evaluate/metrics.js');
        fid = { states: d.states, top1: d.top1Agreement, spearman: d.spearman, regretTrue: d.regret, regretTeacherScale: regret(tVal, sPred, k), meanAbsErr: d.meanAbsErr, maxAbsErr: d.maxAbsErr };
      } finally {
        await fs.session.release();
      }
      let closedLoop: EvaluateStage['closedLoop'] = null;
      if (settings.evalEpisodes > 0) {
        const sm = buildManifest({ model: finalModel, manifest: manifestPart });
        const run = async (label: string, model: Uint8Array, manifest: Manifest | undefined): Promise<EvaluateResult> => {
          const sc = await Scorer.fromModel(model, manifest, { intraOpThreads: 1, label });
          const bar = await progressBar(label, settings.evalEpisodes, { enabled: progress, fields: 'success {success}' });
          let goals = 0;
          try {
            return await evaluate({
              episodes: settings.evalEpisodes, seed: settings.evalSeed, policy: modelPolicy(sc, ds.meta.grid),
              onEpisode: (ep, i) => {
                if (ep.outcome === 'goal') goals++;
                bar.update(i + 1, { success: `${((100 * goals) / (i + 1)).toFixed(1)}%` });
              },
            });
          } finally {
            bar.stop();
            await sc.release();
          }
        };
        const te = await run('closed loop teacher', teacher.model, teacher.manifest);
        const se = await run('closed loop student', finalModel, sm);
        closedLoop = { episodes: settings.evalEpisodes, seed: settings.evalSeed, teacher: te, student: se, successRatio: te.successRate > 0 ? se.successRate / te.successRate : NaN };
      }
      return { stages, latency, fidelity: fid, closedLoop };
    } finally {
      await tl.session.release();
    }
  });

  // 7. Sign: the bundle with its provenance, and the report next to it.
  const pipelineSeconds = Object.values(stageSeconds).reduce((a, b) => a + b, 0) + 0;
  const loadEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const b65 = evaluation.latency.find((l) => l.batch === deployBatch) ?? evaluation.latency[evaluation.latency.length - 1]!;
  const cl = evaluation.closedLoop;
  const provenance = {
    kind: 'student',
    teacher: { id: teacher.manifest ? modelId(teacher.manifest) : basename(teacher.path), file: basename(teacher.path), sha256: teacher.sha256, model_sha256: teacher.modelSha256, bytes: teacher.fileBytes },
    data: { file: basename(o.data), sha256: dataSha, states: ds.states, train_states: train.states, heldout_states: val.states, heldout_episodes: split.validationEpisodes, split_seed: seed },
    pipeline: { fingerprint, target_latency_ms: o.targetLatencyMs ?? null, lambda: o.lambda ?? null, cost: settings.cost, deploy_batch: deployBatch, machine: { cpus: cpus().length, loadavg_start: loadStart, loadavg_end: loadEnd }, stage_seconds: stageSeconds },
    steps: [
      { step: 'search', method: 'evolutionary + successive halving, hardware in the loop (onnxruntime-node latency at the deployment batch, side by side with the teacher)', evaluations: search.evaluations.length, generations: search.generations, stopped_by: search.stoppedBy, options: search.options, chosen: { key: chosen.key, top1: r4(chosen.top1), latency_ms: r4(chosen.latencyMs), bytes: chosen.bytes }, meets_target: search.meetsTarget },
      { step: 'distill', arch: { hidden: cand.hidden, activation: cand.activation }, loss: distilled.loss, epochs: distilled.history.length, best_epoch: distilled.bestEpoch, stopped_early: distilled.stoppedEarly, heldout: { top1: r4(distilled.heldOut.top1), spearman: r4(distilled.heldOut.spearman) } },
      pruned.applied ? { ...(pruned.report as Record<string, unknown>), finetune: pruned.finetune } : { step: 'prune', applied: false, reason: pruned.reason },
      { ...(quantized.report ?? { step: 'quantize' }), applied: quantized.applied, note: quantized.note },
    ],
    fidelity: { data: `held-out episodes of ${basename(o.data)} (${evaluation.fidelity.states} states)`, top1_agreement: r4(evaluation.fidelity.top1), spearman: r4(evaluation.fidelity.spearman), regret_true_reward: r4(evaluation.fidelity.regretTrue), regret_teacher_scale: r4(evaluation.fidelity.regretTeacherScale), mean_abs_err: r4(evaluation.fidelity.meanAbsErr) },
    latency: evaluation.latency.map((l) => ({ batch: l.batch, teacher_ms: r4(l.teacherMs), student_ms: r4(l.studentMs), speedup: r4(l.speedup) })),
    closed_loop: cl ? { episodes: cl.episodes, world_seeds: `${cl.seed}..${cl.seed + cl.episodes - 1}`, teacher_success: r4(cl.teacher.successRate), student_success: r4(cl.student.successRate), ratio: r4(cl.successRatio), teacher_collision: r4(cl.teacher.collisionRate), student_collision: r4(cl.student.collisionRate) } : null,
  };
  const bundle = createBundle({ model: finalModel, manifest: { ...manifestPart, provenance }, privateKeyPem: key });
  writeFileAtomicSync(o.out, bundle);
  const targets = [
    { name: 'file size (teacher / student)', target: '≥ 20×', value: `${(teacher.fileBytes / bundle.length).toFixed(1)}×`, met: teacher.fileBytes / bundle.length >= 20 },
    { name: `scoring latency, ${deployBatch} candidates (teacher / student)`, target: '≥ 10×', value: `${b65.speedup.toFixed(1)}× (${(b65.teacherMs * 1000).toFixed(0)} µs → ${(b65.studentMs * 1000).toFixed(0)} µs)`, met: b65.speedup >= 10 },
    { name: 'top-1 agreement with the teacher (held-out)', target: '≥ 95%', value: `${(100 * evaluation.fidelity.top1).toFixed(1)}%`, met: evaluation.fidelity.top1 >= 0.95 },
    ...(cl ? [{ name: `closed-loop success vs teacher (${cl.episodes} episodes)`, target: '≥ 98%', value: `${(100 * Number(cl.successRatio ?? NaN)).toFixed(1)}% (${(100 * cl.student.successRate).toFixed(1)}% vs ${(100 * cl.teacher.successRate).toFixed(1)}%)`, met: cl.successRatio >= 0.98 }] : []),
    { name: 'mean regret (true reward, vs the teacher\'s choice)', target: 'reported', value: Number(evaluation.fidelity.regretTrue ?? NaN).toFixed(4), met: true },
    { name: 'pipeline time', target: '< 30 min', value: `${(pipelineSeconds / 60).toFixed(1)} min`, met: pipelineSeconds < 1800 },
  ];
  const summary: Summary = {
    teacher: { id: provenance.teacher.id, file: teacher.path, bytes: teacher.fileBytes, sha256: teacher.sha256 },
    student: { id: `${manifestPart.name}@${manifestPart.version}`, file: o.out, bytes: bundle.length, modelBytes: finalModel.length, arch: archText(cand) },
    sizeRatio: teacher.fileBytes / bundle.length,
    speedupB65: b65.speedup,
    top1: evaluation.fidelity.top1,
    spearman: evaluation.fidelity.spearman,
    regretTrue: evaluation.fidelity.regretTrue,
    successTeacher: cl ? cl.teacher.successRate : null,
    successStudent: cl ? cl.student.successRate : null,
    successRatio: cl ? cl.successRatio : null,
    pipelineSeconds,
    stageSeconds,
    targets,
    load: { cpus: cpus().length, start: loadStart, end: loadEnd },
  };
  const report = writeReport({ out: o.out, summary, search, evaluation, distilled, pruned, quantized, targetLatencyMs: o.targetLatencyMs, lambda: o.lambda, wallSeconds: (performance.now() - t0) / 1000 });
  work.save(7, 'sign', 0, { out: o.out, bytes: bundle.length, report });
  stagesRun.push('sign');
  return { out: o.out, report, stagesRun, stagesResumed, summary };
}

/** The student's manifest: the teacher's (feature map, action space, output) with a new name and version. */
function studentManifest(t: TeacherSource, meta: { featureMap: Parameters<typeof rewardManifest>[0]['featureMap']; grid: Parameters<typeof rewardManifest>[0]['grid'] }, o: PipelineOptions, io: { input: string; output: string }): ManifestPart {
  if (t.manifest) {
    const { files: _f, model: _m, provenance: _p, ...rest } = t.manifest;
    return { ...rest, name: o.name ?? `${t.manifest.name.replace(/-teacher$/, '')}-student`, version: o.version ?? t.manifest.version, created: new Date().toISOString(), description: `Student of ${modelId(t.manifest)} (distilled, searched and compressed by edgereward compress pipeline).` };
  }
  const m = rewardManifest({ name: o.name ?? 'student', version: o.version ?? '1.0.0', description: `Student of ${basename(t.path)} (edgereward compress pipeline).`, featureMap: meta.featureMap, grid: meta.grid, provenance: {} });
  m.features[0]!.input = io.input;
  m.output.name = io.output;
  return m;
}

