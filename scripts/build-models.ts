/**
 * `npm run models`: reproduce the teacher reward model of the reference task (issue 3) from
 * scratch — simulator data, TF.js training, ONNX export, closed-loop evaluation, signed bundle.
 *
 *   1. data      `generateDataset` on world seeds 100000.. (clear of the evaluation seeds 1000..1199)
 *   2. training  39 → 512 → 512 → 256 → 1 MLP, Huber + listwise KL over each state's 65 candidates
 *      dagger    the trained model drives 200 more worlds (seeds 200000..); every state it visits is
 *                labelled with the true reward, and a 1-epoch fine-tune on those plus 30k original
 *                states teaches it the situations its own errors lead to (92% -> 97% success in
 *                the run that chose this)
 *   3. export    ONNX (Gemm per layer), checked against TF.js's own forward pass
 *   4. eval      closed loop on 200 unseen worlds through the engine's Scorer and the manifest's
 *                feature map, the oracle on the same worlds, fidelity to the true reward on
 *                held-out episodes
 *   5. bundle    models/teacher/teacher.bundle (nav-teacher@1.0.0), signed with the local dev key
 *                .keys/dev.key (git-ignored; created on first run), its public half in
 *                models/trusted/<key id>.pub
 *
 * Options: --episodes N (data), --epochs E, --candidates M (per state per step), --batch B,
 * --hidden 512,512,256, --dagger-episodes N (0 = skip), --dagger-orig-states N, --eval-episodes N,
 * --out DIR, --seed S. A summary with the time of each
 * phase ends the run. Budget: < 45 min on the 2-core build machine while it is shared.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateDataset } from '../src/sim/generate.js';
import { writeDataset } from '../src/sim/dataset.js';
import { DEFAULT_ACTION_GRID } from '../src/sim/actions.js';
import { DEFAULT_FEATURE_MAP } from '../src/sim/features.js';
import { evaluate, type EvaluateResult } from '../src/sim/episode.js';
import { oraclePolicy } from '../src/sim/policies.js';
import { modelPolicy, modelScoreFn } from '../src/sim/model-policy.js';
import { loadTf } from '../src/train/tf.js';
import { trainRewardModel } from '../src/train/train.js';
import { groupedFromDataset, splitByEpisode } from '../src/train/data.js';
import { concatSets, fillBatch, selectStates, type GroupedSet } from '../src/train/groups.js';
import { collectOnPolicy } from '../src/train/dagger.js';
import type { DenseLayer } from '../src/compress/onnx/build.js';
import type { TrainResult } from '../src/train/train.js';
import { mlpToOnnx, rewardManifest } from '../src/train/export.js';
import { progressBar } from '../src/train/progress.js';
import { mlpFlops } from '../src/train/mlp.js';
import { decisionFidelity } from '../src/train/fidelity.js';
import { buildManifest, createBundle } from '../src/runtime/bundle/create.js';
import { generateKeyPair, keyIdOf } from '../src/runtime/bundle/keys.js';
import { Scorer } from '../src/runtime/engine/scorer.js';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { log } from '../src/telemetry/log.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const { values: a } = parseArgs({
  options: {
    episodes: { type: 'string', default: '400' },
    'val-fraction': { type: 'string', default: '0.05' },
    epochs: { type: 'string', default: '2' },
    candidates: { type: 'string', default: '16' },
    batch: { type: 'string', default: '32' },
    hidden: { type: 'string', default: '512,512,256' },
    lr: { type: 'string', default: '0.001' },
    'dagger-episodes': { type: 'string', default: '200' },
    'dagger-seed': { type: 'string', default: '200000' },
    'dagger-epochs': { type: 'string', default: '1' },
    'dagger-rounds': { type: 'string', default: '1' },
    'dagger-lr': { type: 'string', default: '0.0003' },
    'dagger-orig-states': { type: 'string', default: '30000' },
    'eval-episodes': { type: 'string', default: '200' },
    'eval-seed': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '100000' },
    out: { type: 'string', default: join(ROOT, 'models', 'teacher') },
    trust: { type: 'string', default: join(ROOT, 'models', 'trusted') },
    key: { type: 'string', default: join(ROOT, '.keys', 'dev.key') },
    data: { type: 'string', default: join(ROOT, 'tmp', 'teacher-data.erds') },
    name: { type: 'string', default: 'nav-teacher' },
    version: { type: 'string', default: '1.0.0' },
  },
});

function num(name: string, v: string | undefined, min = Number.MIN_VALUE): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new RangeError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

const opts = {
  episodes: num('episodes', a.episodes),
  valFraction: num('val-fraction', a['val-fraction']),
  epochs: num('epochs', a.epochs),
  candidates: num('candidates', a.candidates),
  batch: num('batch', a.batch),
  hidden: a.hidden!.split(',').map((s) => num('hidden', s)),
  lr: num('lr', a.lr),
  evalEpisodes: num('eval-episodes', a['eval-episodes']),
  daggerEpisodes: num('dagger-episodes', a['dagger-episodes'], 0),
  daggerSeed: Number(a['dagger-seed']),
  daggerEpochs: num('dagger-epochs', a['dagger-epochs']),
  daggerRounds: num('dagger-rounds', a['dagger-rounds']),
  daggerLr: num('dagger-lr', a['dagger-lr']),
  daggerOrigStates: num('dagger-orig-states', a['dagger-orig-states']),
  evalSeed: Number(a['eval-seed']),
  seed: Number(a.seed),
};

const phases: Array<{ phase: string; seconds: number; note: string }> = [];
async function phase<T>(name: string, f: () => Promise<T> | T, note: (r: T) => string = () => ''): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const seconds = (performance.now() - t0) / 1000;
  phases.push({ phase: name, seconds, note: note(r) });
  process.stderr.write(`[${name}] ${seconds.toFixed(1)} s ${note(r)}\n`);
  return r;
}

/** The local signing key: reused when present, else created (0600) beside a fresh trust entry. */
function signingKey(path: string, trustDir: string): { privateKeyPem: string; keyId: string } {
  let pem: string;
  if (existsSync(path)) {
    pem = readFileSync(path, 'utf8');
  } else {
    const k = generateKeyPair();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, k.privateKeyPem, { mode: 0o600 });
    pem = k.privateKeyPem;
    process.stderr.write(`created signing key ${path} (key ${k.keyId}); keep it out of git\n`);
  }
  const priv = createPrivateKey(pem);
  const keyId = keyIdOf(priv);
  mkdirSync(trustDir, { recursive: true });
  const pub = join(trustDir, `${keyId}.pub`);
  if (!existsSync(pub)) {
    writeFileSync(pub, createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString());
  }
  return { privateKeyPem: pem, keyId };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

async function closedLoop(label: string, policy: Parameters<typeof evaluate>[0]['policy']): Promise<EvaluateResult> {
  const bar = await progressBar(label, opts.evalEpisodes, { fields: 'success {success}' });
  let goals = 0;
  const r = await evaluate({
    episodes: opts.evalEpisodes,
    seed: opts.evalSeed,
    policy,
    onEpisode: (ep, i) => {
      if (ep.outcome === 'goal') goals++;
      bar.update(i + 1, { success: pct(goals / (i + 1)) });
    },
  });
  bar.stop();
  return r;
}

/** One training run with progress bars and a line per epoch. */
async function train(set: GroupedSet, o: { epochs: number; lr: number; lrFinal?: number; seed: number; init?: DenseLayer[] }): Promise<TrainResult> {
  const tf = await loadTf();
  const stepsPerEpoch = Math.floor(set.states / opts.batch);
  let bar = await progressBar('epoch 1', stepsPerEpoch, { fields: 'loss {loss} kl {kl}' });
  let ema = NaN;
  let emaKl = NaN;
  return trainRewardModel(tf, set, {
    hidden: opts.hidden,
    epochs: o.epochs,
    batchStates: opts.batch,
    candidatesPerState: opts.candidates,
    lr: o.lr,
    ...(o.lrFinal !== undefined ? { lrFinal: o.lrFinal } : {}),
    seed: o.seed,
    ...(o.init ? { init: o.init } : {}),
    validation: validationSet,
    onStep: (p) => {
      ema = Number.isNaN(ema) ? p.loss : 0.98 * ema + 0.02 * p.loss;
      emaKl = Number.isNaN(emaKl) ? p.kl : 0.98 * emaKl + 0.02 * p.kl;
      bar.update(p.step, { loss: ema.toFixed(3), kl: emaKl.toFixed(3) });
    },
    onEpoch: (e) => {
      bar.stop();
      const v = e.validation!;
      process.stderr.write(
        `epoch ${e.epoch}: ${e.seconds.toFixed(0)} s, train loss ${e.train.loss.toFixed(4)} (huber ${e.train.huber.toFixed(4)}, kl ${e.train.kl.toFixed(4)}), ` +
          `validation loss ${v.loss.toFixed(4)}, top-1 vs true ${pct(v.top1)}, regret ${v.regret.toFixed(4)}\n`,
      );
      if (e.epoch < o.epochs) void progressBar(`epoch ${e.epoch + 1}`, stepsPerEpoch, { fields: 'loss {loss} kl {kl}' }).then((b) => (bar = b));
    },
  });
}

let validationSet: GroupedSet | undefined;

async function main(): Promise<void> {
  if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';
  const t0 = performance.now();
  // 1. Data.
  const { dataset, stats } = await phase(
    'data',
    async () => {
      const bar = await progressBar('data', opts.episodes, { fields: 'states {states}' });
      const g = generateDataset({ episodes: opts.episodes, seed: opts.seed, onProgress: (p) => bar.update(p.episode, { states: p.states }) });
      bar.stop();
      mkdirSync(dirname(a.data!), { recursive: true });
      await writeDataset(a.data!, g.dataset);
      return g;
    },
    (g) => `${g.stats.states} states from ${g.stats.episodes} episodes, ${g.stats.statesPerSecond.toFixed(0)} states/s -> ${a.data}`,
  );
  const split = splitByEpisode(dataset, opts.valFraction, opts.seed);
  validationSet = split.validation;
  process.stderr.write(`train ${split.train.states} states, validation ${split.validation.states} states (${split.validationEpisodes} episodes)\n`);

  // 2. Training.
  const stepsPerEpoch = Math.floor(split.train.states / opts.batch);
  const shape = { inDim: split.train.obsDim + split.train.actDim, hidden: opts.hidden };
  const rows = stepsPerEpoch * opts.epochs * opts.batch * opts.candidates;
  process.stderr.write(
    `training ${shape.inDim}→${opts.hidden.join('→')}→1: ${opts.epochs} epochs × ${stepsPerEpoch} steps × ${opts.batch} states × ${opts.candidates} candidates = ${(rows / 1e6).toFixed(2)} M rows, ` +
      `${((rows * 3 * mlpFlops(shape)) / 1e12).toFixed(2)} TFLOP\n`,
  );
  const res1 = await phase(
    'training',
    () => train(split.train, { epochs: opts.epochs, lr: opts.lr, seed: opts.seed }),
    (r) => `${r.rowsPerSecond.toFixed(0)} rows/s, ${r.gflops.toFixed(2)} GFLOP/s, ${r.history.map((h) => h.seconds.toFixed(0)).join(' + ')} s per epoch`,
  );

  // 2b. On-policy data (DAgger): the states the trained model drives into, labelled with the true
  // reward, then a short fine-tune on them plus part of the original data.
  let res = res1;
  const v1 = res1.history[res1.history.length - 1]!.validation!;
  const res1Summary = { top1_vs_true: Number(v1.top1.toFixed(4)), regret: Number(v1.regret.toFixed(4)), loss: Number(v1.loss.toFixed(4)) };
  const dagger: Array<{ round: number; world_seeds: string; on_policy_states: number; on_policy_goals: number; on_policy_collisions: number; fine_tune_states: number }> = [];
  let onPolicy: GroupedSet | undefined;
  for (let round = 1; opts.daggerEpisodes > 0 && round <= opts.daggerRounds; round++) {
    const prev = res;
    const seed0 = opts.daggerSeed + (round - 1) * opts.daggerEpisodes;
    const col = await phase(
      `dagger-data ${round}`,
      async () => {
        const s1 = await Scorer.fromModel(mlpToOnnx(prev.layers), undefined, { intraOpThreads: 1 });
        const bar = await progressBar(`dagger ${round}`, opts.daggerEpisodes, { fields: 'states {states} goals {goals}' });
        const c = await collectOnPolicy({
          score: modelScoreFn(s1),
          episodes: opts.daggerEpisodes,
          seed: seed0,
          onProgress: (p) => bar.update(p.episode, { states: p.states, goals: p.goals }),
        });
        bar.stop();
        await s1.release();
        await writeDataset(a.data!.replace(/(\.erds)?$/, `-dagger${round}.erds`), c.dataset);
        return c;
      },
      (c) => `${c.dataset.states} states from ${opts.daggerEpisodes} episodes of the trained model (${c.goals} goals, ${c.collisions} collisions), ${(c.dataset.states / c.seconds).toFixed(0)} states/s`,
    );
    // Round 1: 30k original states + its on-policy states. Later rounds: half as many original
    // states, up to 15k earlier on-policy states, and the new ones (the set stays ~60k states).
    const fresh = groupedFromDataset(col.dataset);
    const n = Math.min(Math.round(opts.daggerOrigStates / (round === 1 ? 1 : 2)), split.train.states);
    const spread = (set: GroupedSet, k: number): number[] => Array.from({ length: Math.min(k, set.states) }, (_, i) => Math.floor((i * set.states) / Math.min(k, set.states)));
    let tuneSet = concatSets(selectStates(split.train, spread(split.train, n)), fresh);
    if (onPolicy) tuneSet = concatSets(tuneSet, selectStates(onPolicy, spread(onPolicy, Math.round(opts.daggerOrigStates / 2))));
    onPolicy = onPolicy ? concatSets(onPolicy, fresh) : fresh;
    dagger.push({ round, world_seeds: `${seed0}..${seed0 + opts.daggerEpisodes - 1}`, on_policy_states: col.dataset.states, on_policy_goals: col.goals, on_policy_collisions: col.collisions, fine_tune_states: tuneSet.states });
    process.stderr.write(`round ${round}: fine-tuning on ${tuneSet.states} states (${col.dataset.states} new on-policy, ${n} original)\n`);
    res = await phase(
      `fine-tune ${round}`,
      () => train(tuneSet, { epochs: opts.daggerEpochs, lr: opts.daggerLr, lrFinal: 1e-5, seed: opts.seed + round, init: prev.layers }),
      (r) => `${r.rowsPerSecond.toFixed(0)} rows/s, ${r.history.map((h) => h.seconds.toFixed(0)).join(' + ')} s per epoch`,
    );
    prev.dispose();
  }

  // 3. Export + parity with TF.js.
  const { onnx, manifest, parity } = await phase(
    'export',
    async () => {
      const onnx = mlpToOnnx(res.layers, `nav-teacher: reward MLP of the edgereward reference task, trained by scripts/build-models.ts`);
      const manifestPart = rewardManifest({
        name: a.name!,
        version: a.version!,
        description: 'Teacher reward model of the reference robot task (issue 3): scores (v, w) candidates from 32-beam lidar, odometry and the goal in the robot frame.',
        featureMap: DEFAULT_FEATURE_MAP,
        grid: DEFAULT_ACTION_GRID,
        provenance: {},
      });
      const manifest = buildManifest({ model: onnx, manifest: manifestPart });
      // Parity: the ONNX graph in onnxruntime vs TF.js on validation rows.
      const scorer = await Scorer.fromModel(onnx, undefined, { intraOpThreads: 1, warmupRuns: 0 });
      const v = split.validation;
      const n = Math.min(16, v.states);
      const x = new Float32Array(n * v.k * shape.inDim);
      fillBatch(v, Int32Array.from({ length: n }, (_, i) => i), x, new Float32Array(n * v.k));
      scorer.inputBuffers(n * v.k)[0]!.set(x);
      const got = await scorer.scoreBuffers(n * v.k);
      const want = res.predict(x, n * v.k);
      let parity = 0;
      for (let i = 0; i < want.length; i++) parity = Math.max(parity, Math.abs(got[i]! - want[i]!));
      await scorer.release();
      if (!(parity < 1e-4)) throw new Error(`the exported ONNX differs from TF.js by ${parity} (> 1e-4)`);
      return { onnx, manifest, parity };
    },
    (r) => `${r.onnx.length} bytes ONNX, max |onnx − tfjs| ${r.parity.toExponential(2)}`,
  );
  res.dispose();

  // 4. Evaluation: fidelity to the true reward on held-out episodes, closed loop on unseen worlds.
  const scorer = await Scorer.fromModel(onnx, manifest, { intraOpThreads: 1 });
  const { fid, teacherEval, oracleEval } = await phase(
    'evaluation',
    async () => {
      const { scoreSet } = await import('../src/train/fidelity.js');
      const pred = await scoreSet(scorer, split.validation);
      const fid = decisionFidelity(split.validation.rewards, pred, split.validation.rewards, split.validation.k);
      const teacherEval = await closedLoop('teacher', modelPolicy(scorer));
      const oracleEval = await closedLoop('oracle', oraclePolicy());
      return { fid, teacherEval, oracleEval };
    },
    (r) => `teacher ${pct(r.teacherEval.successRate)} success vs oracle ${pct(r.oracleEval.successRate)}; top-1 vs oracle ${pct(r.fid.top1Agreement)}`,
  );
  await scorer.release();

  // 5. Bundle.
  const last = res.history[res.history.length - 1]!;
  const key = signingKey(a.key!, a.trust!);
  const round = (x: number, d = 4): number | null => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
  const provenance = {
    kind: 'teacher',
    trainer: 'scripts/build-models.ts (TensorFlow.js 4.22, wasm backend)',
    dataset: {
      generator: 'src/sim/generate.ts generateDataset',
      seed: opts.seed,
      episodes: opts.episodes,
      states: stats.states,
      behaviours: stats.behaviours,
      train_states: split.train.states,
      validation_states: split.validation.states,
      validation_episodes: split.validationEpisodes,
    },
    architecture: { inputs: shape.inDim, hidden: opts.hidden, activation: 'relu', params: res.params },
    training: {
      epochs: opts.epochs,
      batch_states: opts.batch,
      candidates_per_state: opts.candidates,
      lr: opts.lr,
      lr_final: res1.options.lrFinal,
      loss: `huber(delta ${res.options.loss.delta}) on normalised reward + ${res.options.loss.listwise} x KL(softmax(true/${res.options.loss.temperature}) || softmax(pred/${res.options.loss.temperature})) per state`,
      reward_norm: { shift: round(res.norm.shift, 6), scale: round(res.norm.scale, 6) },
      phase1_validation: res1Summary,
      dagger: { episodes_per_round: opts.daggerEpisodes, epochs_per_round: opts.daggerEpochs, lr: opts.daggerLr, lr_final: 1e-5, rounds: dagger },
      final_train_loss: { total: round(last.train.loss), huber: round(last.train.huber), kl: round(last.train.kl) },
      final_validation: { loss: round(last.validation!.loss), huber: round(last.validation!.huber), kl: round(last.validation!.kl), top1_vs_true: round(last.validation!.top1), regret: round(last.validation!.regret) },
      seconds: round(phases.filter((p) => p.phase === 'training' || p.phase.startsWith('fine-tune')).reduce((x, p) => x + p.seconds, 0), 1),
      rows_per_second: Math.round(res.rowsPerSecond),
    },
    fidelity_vs_oracle: {
      data: `validation episodes of the dataset (${split.validation.states} states)`,
      top1_agreement: round(fid.top1Agreement),
      spearman: round(fid.spearman),
      regret: round(fid.regret),
      mean_abs_reward_error: round(fid.meanAbsErr),
      max_abs_reward_error: round(fid.maxAbsErr),
    },
    closed_loop: {
      world_seeds: `${opts.evalSeed}..${opts.evalSeed + opts.evalEpisodes - 1}`,
      teacher: { success: round(teacherEval.successRate), collision: round(teacherEval.collisionRate), timeout: round(teacherEval.timeoutRate), time_to_goal_s: round(teacherEval.meanTimeToGoal, 2) },
      oracle: { success: round(oracleEval.successRate), collision: round(oracleEval.collisionRate), timeout: round(oracleEval.timeoutRate), time_to_goal_s: round(oracleEval.meanTimeToGoal, 2) },
      teacher_over_oracle: round(teacherEval.successRate / Math.max(1e-9, oracleEval.successRate)),
    },
    onnx_parity_max_abs: parity,
  };
  const bundlePath = join(a.out!, 'teacher.bundle');
  const bundle = await phase(
    'bundle',
    () => {
      const b = createBundle({ model: onnx, manifest: { ...manifest, provenance }, privateKeyPem: key.privateKeyPem });
      mkdirSync(a.out!, { recursive: true });
      writeFileSync(bundlePath, b);
      return b;
    },
    (b) => `${b.length} bytes -> ${bundlePath}, signed by ${key.keyId}`,
  );
  void bundle;

  const total = (performance.now() - t0) / 1000;
  const lines = [
    '',
    `nav-teacher@${a.version}: ${res.params} params, ${(onnx.length / 1e6).toFixed(2)} MB ONNX -> ${bundlePath} (key ${key.keyId}, trust ${join(a.trust!, key.keyId + '.pub')})`,
    '',
    'phase        seconds  share  note',
    ...phases.map((p) => `${p.phase.padEnd(12)} ${p.seconds.toFixed(1).padStart(7)}  ${pct(p.seconds / total).padStart(5)}  ${p.note}`),
    `${'total'.padEnd(12)} ${total.toFixed(1).padStart(7)}          (${(total / 60).toFixed(1)} min; budget 45 min)`,
    '',
    `closed loop on worlds ${provenance.closed_loop.world_seeds}:`,
    `  teacher  success ${pct(teacherEval.successRate)}  collision ${pct(teacherEval.collisionRate)}  timeout ${pct(teacherEval.timeoutRate)}  time to goal ${teacherEval.meanTimeToGoal.toFixed(2)} s  latency ${teacherEval.meanLatencyMs.toFixed(3)} ms`,
    `  oracle   success ${pct(oracleEval.successRate)}  collision ${pct(oracleEval.collisionRate)}  timeout ${pct(oracleEval.timeoutRate)}  time to goal ${oracleEval.meanTimeToGoal.toFixed(2)} s  latency ${oracleEval.meanLatencyMs.toFixed(3)} ms`,
    `  teacher / oracle success: ${pct(teacherEval.successRate / Math.max(1e-9, oracleEval.successRate))} (targets: teacher ≥ 90%, ≥ 95% of oracle)`,
    `fidelity vs oracle (held-out states): top-1 ${pct(fid.top1Agreement)}, Spearman ${fid.spearman.toFixed(3)}, regret ${fid.regret.toFixed(4)}, mean |err| ${fid.meanAbsErr.toFixed(3)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeFileSync(join(a.out!, 'build-summary.json'), JSON.stringify({ phases, total_seconds: round(total, 1), provenance }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`build-models: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
