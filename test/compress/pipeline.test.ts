/**
 * The pipeline end to end on a tiny teacher trained here (real simulator data, TF.js, onnxruntime,
 * signing): the bundle verifies, loads in the engine and scores; a restart redoes only the stages
 * whose checkpoints are gone. Tiny budgets; no wall-clock assertions.
 */
import t from 'tap';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp.js';
import { generateDataset } from '../../src/sim/generate.js';
import { writeDataset } from '../../src/sim/dataset.js';
import { DEFAULT_ACTION_GRID } from '../../src/sim/actions.js';
import { DEFAULT_FEATURE_MAP } from '../../src/sim/features.js';
import { loadTf } from '../../src/train/tf.js';
import { trainRewardModel } from '../../src/train/train.js';
import { groupedFromDataset } from '../../src/train/data.js';
import { mlpToOnnx, rewardManifest } from '../../src/train/export.js';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { generateKeyPair, loadTrustStore } from '../../src/runtime/bundle/keys.js';
import { openBundle } from '../../src/runtime/bundle/create.js';
import { Scorer } from '../../src/runtime/engine/scorer.js';
import { runPipeline, type PipelineOptions } from '../../src/compress/pipeline/index.js';

t.test('pipeline: tiny teacher -> signed student bundle + report; restart skips completed stages', async (t) => {
  const dir = tmpDir(t, 'edgereward-pipeline-');
  const { dataset } = generateDataset({ episodes: 8, seed: 500 });
  const data = join(dir, 'data.erds');
  await writeDataset(data, dataset);
  const tf = await loadTf();
  const teacherNet = await trainRewardModel(tf, groupedFromDataset(dataset), { hidden: [48, 48], epochs: 1, batchStates: 16, candidatesPerState: 16, seed: 2 });
  const onnx = mlpToOnnx(teacherNet.layers);
  teacherNet.dispose();
  const keys = generateKeyPair();
  writeFileSync(join(dir, 'dev.key'), keys.privateKeyPem);
  writeFileSync(join(dir, `${keys.keyId}.pub`), keys.publicKeyPem);
  const teacherPath = join(dir, 'teacher.bundle');
  writeFileSync(teacherPath, createBundle({
    model: onnx,
    manifest: rewardManifest({ name: 'nav-teacher', version: '0.0.1', description: 'tiny test teacher', featureMap: DEFAULT_FEATURE_MAP, grid: DEFAULT_ACTION_GRID, provenance: {} }),
    privateKeyPem: keys.privateKeyPem,
  }));
  const out = join(dir, 'student.bundle');
  const lines: string[] = [];
  const opts: PipelineOptions = {
    teacher: teacherPath, data, out, key: join(dir, 'dev.key'), targetLatencyMs: 50,
    maxEvaluations: 3, population: 2, children: 1, rungs: [{ fraction: 1, epochs: 1 }],
    space: { depths: [1], widths: [16], activations: ['relu'], bits: [8], sparsities: [0.5] },
    distillEpochs: 1, finetuneEpochs: 1, evalEpisodes: 2, monitorStates: 40, heldOutFraction: 0.25, latencyRuns: 20,
    progress: false, log: (l) => lines.push(l),
  };
  const res = await runPipeline(opts);
  t.same(res.stagesRun, ['teacher', 'search', 'distill', 'prune', 'quantize', 'evaluate', 'sign']);
  // The bundle verifies against the key and loads in the engine with the teacher's feature map.
  const b = openBundle(out, loadTrustStore(dir));
  t.equal(b.manifest.name, 'nav-student');
  const prov = b.manifest.provenance as Record<string, any>;
  t.equal(prov.teacher.sha256.length, 64);
  t.same(prov.steps.map((s: { step: string }) => s.step), ['search', 'distill', 'prune', 'quantize']);
  t.ok(prov.steps[2].applied !== false, 'pruning was applied (sparsity 0.5 chosen)');
  t.equal(prov.steps[3].applied, true, 'int8 was applied (bits 8 chosen)');
  t.ok(typeof prov.fidelity.top1_agreement === 'number');
  t.ok(prov.closed_loop.episodes === 2);
  const sc = await Scorer.fromBundle(b, { intraOpThreads: 1 });
  const r = await sc.scoreObservation({ lidar: { ranges: new Array(32).fill(3) }, odom: { v: 0.2, w: 0 }, goal: { dist: 4, bearing: 0.3 } });
  t.equal(r.rewards.length, 65);
  t.ok(r.rewards.every(Number.isFinite));
  await sc.release();
  // The report and its plots are next to the bundle.
  const report = readFileSync(res.report, 'utf8');
  t.match(report, /## Targets/);
  t.ok(existsSync(join(dir, 'student.pareto.svg')) && existsSync(join(dir, 'student.stages.svg')));
  t.match(readFileSync(join(dir, 'student.pareto.svg'), 'utf8'), /^<svg/);
  // Interrupted after quantize: only evaluate and sign run again.
  rmSync(join(`${out}.work`, '06-evaluate.json'));
  rmSync(join(`${out}.work`, '07-sign.json'));
  const again = await runPipeline(opts);
  t.same(again.stagesResumed, ['teacher', 'search', 'distill', 'prune', 'quantize']);
  t.same(again.stagesRun, ['evaluate', 'sign']);
  // Another closed-loop setting on the same work directory: only the stages from evaluate on are redone.
  const third = await runPipeline({ ...opts, evalEpisodes: 1 });
  t.same(third.stagesResumed, ['teacher', 'search', 'distill', 'prune', 'quantize']);
  t.same(third.stagesRun, ['evaluate', 'sign']);
  t.equal((openBundle(out, loadTrustStore(dir)).manifest.provenance as Record<string, any>).closed_loop.episodes, 1);
});
