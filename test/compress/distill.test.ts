/**
 * Distillation: the loss terms against hand-computed values, and a short real TF.js run that
 * lowers the held-out distillation loss on a tiny problem. No wall-clock assertions.
 */
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { loadTf } from '../../src/train/tf.js';
import { boltzmann, distillLoss, distillStudent, huber, klDivergence, layersFromOnnx, studentOnnx } from '../../src/compress/distill/index.js';
import type { DenseLayer } from '../../src/compress/onnx/build.js';
import { fillBatch, selectStates, type GroupedSet } from '../../src/train/groups.js';
import { mulberry32 } from '../../src/sim/rng.js';
import { tinyProblem } from './distill-fixtures.js';

function forward(layers: DenseLayer[], x: Float32Array, rows: number): Float32Array {
  let h = x;
  for (const l of layers) {
    const o = new Float32Array(rows * l.outDim);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < l.outDim; j++) {
        let s = l.bias[j]!;
        for (let i = 0; i < l.inDim; i++) s += h[r * l.inDim + i]! * l.weight[i * l.outDim + j]!;
        o[r * l.outDim + j] = l.activation === 'relu' ? Math.max(0, s) : l.activation === 'tanh' ? Math.tanh(s) : s;
      }
    }
    h = o;
  }
  return h;
}

/** Held-out distillation loss (plain numbers): mean KL(teacher ‖ student) at T plus Huber to the teacher. */
function heldOutLoss(layers: DenseLayer[], set: GroupedSet, teacher: Float32Array, T: number): number {
  const dim = set.obsDim + set.actDim;
  const x = new Float32Array(set.states * set.k * dim);
  fillBatch(set, Int32Array.from({ length: set.states }, (_, i) => i), x, new Float32Array(set.states * set.k));
  const pred = forward(layers, x, set.states * set.k);
  let kl = 0;
  for (let s = 0; s < set.states; s++) {
    const tt = teacher.subarray(s * set.k, (s + 1) * set.k);
    const pp = pred.subarray(s * set.k, (s + 1) * set.k);
    kl += klDivergence(boltzmann(tt, T), boltzmann(pp, T));
  }
  return kl / set.states + huber(pred, teacher);
}

t.test('KL and supervised terms against hand-computed values', async (t) => {
  // softmax([1, 0]) = [e/(e+1), 1/(e+1)] = [0.731059, 0.268941]; against uniform:
  // 0.731059·ln(1.462117) + 0.268941·ln(0.537883) = 0.277719 − 0.166774 = 0.110944
  const p = boltzmann([1, 0], 1);
  t.ok(Math.abs(p[0]! - 0.731059) < 1e-6);
  t.ok(Math.abs(klDivergence(p, [0.5, 0.5]) - 0.110944) < 1e-6);
  // Temperature 0.5 doubles the logits: softmax([2, 0]) = [0.880797, 0.119203].
  t.ok(Math.abs(boltzmann([1, 0], 0.5)[0]! - 0.880797) < 1e-6);
  // Huber(δ=1): errors 0.5 and 3 → (0.125 + 2.5) / 2 = 1.3125.
  t.equal(huber([0.5, 3], [0, 0], 1), 1.3125);

  const tf = await loadTf();
  // Two states. State 0: teacher [1, 0], student [0, 0], truth [0.5, 0]; state 1: teacher = student = [0, 2], truth [0, 2].
  const pred = tf.tensor2d([0, 0, 0, 2], [2, 2]);
  const teacher = tf.tensor2d([1, 0, 0, 2], [2, 2]);
  const truth = tf.tensor2d([0.5, 0, 0, 2], [2, 2]);
  const o = { alpha: 0.25, temperature: 1, regression: 0, delta: 1, scale: 1 };
  const l = distillLoss(tf, pred, teacher, truth, o);
  const kl = (0.110944 + 0) / 2;
  const sup = 0.5 * 0.5 ** 2 / 4; // one error of 0.5 among 4 values
  t.ok(Math.abs(l.kl.dataSync()[0]! - kl) < 1e-5, `L_KL = ${l.kl.dataSync()[0]} (want ${kl})`);
  t.ok(Math.abs(l.huber.dataSync()[0]! - sup) < 1e-6, `L_sup = ${l.huber.dataSync()[0]} (want ${sup})`);
  t.ok(Math.abs(l.total.dataSync()[0]! - (0.25 * sup + 0.75 * kl)) < 1e-5, 'L = α·L_sup + (1−α)·L_KL');
  // The temperature is in reward units: scale 2 with T = 2 is the same as scale 1, T = 1.
  const l2 = distillLoss(tf, pred, teacher, truth, { ...o, scale: 2, temperature: 2 });
  t.ok(Math.abs(l2.kl.dataSync()[0]! - kl) < 1e-5);
  // The regression term adds β·Huber(student, teacher): one error of 1 among 4 → 0.5/4.
  const l3 = distillLoss(tf, pred, teacher, undefined, { ...o, regression: 2 });
  t.ok(Math.abs(l3.total.dataSync()[0]! - (kl + 2 * 0.125)) < 1e-5, 'without truth: KL + β·Huber to the teacher');
  tf.dispose([pred, teacher, truth, l.total, l.huber, l.kl, l2.total, l2.huber, l2.kl, l3.total, l3.huber, l3.kl]);
});

t.test('distillation lowers the held-out loss on a tiny problem; the ONNX student matches', async (t) => {
  const tf = await loadTf();
  const { set, teacher } = tinyProblem(400, 3);
  const trainIdx = Array.from({ length: 320 }, (_, i) => i);
  const heldIdx = Array.from({ length: 80 }, (_, i) => 320 + i);
  const train = selectStates(set, trainIdx);
  const held = selectStates(set, heldIdx);
  const tTrain = selectStates({ ...set, rewards: teacher }, trainIdx).rewards;
  const tHeld = selectStates({ ...set, rewards: teacher }, heldIdx).rewards;
  // A seeded random start, the same for "before" and the warm start.
  const rng = mulberry32(9);
  const rand = (n: number, s: number) => new Float32Array(n).map(() => (rng() - 0.5) * s);
  const init: DenseLayer[] = [
    { weight: rand(8 * 16, 0.8), bias: rand(16, 0.1), inDim: 8, outDim: 16, activation: 'relu' },
    { weight: rand(16, 0.8), bias: new Float32Array(1), inDim: 16, outDim: 1, activation: 'none' },
  ];
  const T = 0.1;
  const before = heldOutLoss(init, held, tHeld, T);
  const res = await distillStudent(tf, { train, teacherTrain: tTrain, heldOut: held, teacherHeldOut: tHeld, arch: { hidden: [16], activation: 'relu' }, init, epochs: 6, patience: 6, batchStates: 16, lr: 1e-2, loss: { temperature: T } });
  const after = heldOutLoss(res.layers, held, tHeld, T);
  t.ok(after < before * 0.7, `held-out loss ${before.toFixed(4)} -> ${after.toFixed(4)}`);
  t.ok(res.heldOut.top1 > 0.5, `held-out top-1 vs teacher ${res.heldOut.top1}`);
  t.equal(res.history.length, 6);
  // Export: onnxruntime computes what the layers compute, and the graph reads back as the same layers.
  const onnx = studentOnnx(res.layers, { input: 'x', output: 'reward' });
  const s = await ort.InferenceSession.create(onnx);
  const x = new Float32Array(9 * 8).map((_, i) => (i % 7) / 7);
  const got = (await s.run({ x: new ort.Tensor('float32', x, [9, 8]) })).reward!.data as Float32Array;
  const want = forward(res.layers, x, 9);
  for (let i = 0; i < 9; i++) t.ok(Math.abs(got[i]! - want[i]!) < 1e-4);
  await s.release();
  const back = layersFromOnnx(onnx);
  t.same(back.map((l) => [l.inDim, l.outDim, l.activation]), res.layers.map((l) => [l.inDim, l.outDim, l.activation]));
  t.same(Array.from(back[0]!.weight), Array.from(res.layers[0]!.weight));
});

t.test('early stopping keeps the best epoch', async (t) => {
  const tf = await loadTf();
  const { set, teacher } = tinyProblem(128, 5);
  const idx = Array.from({ length: 96 }, (_, i) => i);
  const hidx = Array.from({ length: 32 }, (_, i) => 96 + i);
  const res = await distillStudent(tf, {
    train: selectStates(set, idx), teacherTrain: selectStates({ ...set, rewards: teacher }, idx).rewards,
    heldOut: selectStates(set, hidx), teacherHeldOut: selectStates({ ...set, rewards: teacher }, hidx).rewards,
    arch: { hidden: [4], activation: 'tanh' }, epochs: 12, patience: 1, batchStates: 16, lr: 1e-5, lrFinal: 1e-5,
  });
  const scores = res.history.map((h) => h.top1 + 0.1 * h.spearman);
  const best = Math.max(...scores);
  t.equal(scores[res.bestEpoch - 1], best, 'the kept epoch has the best held-out score');
  if (res.stoppedEarly) t.ok(res.history.length < 12);
  t.equal(res.layers[0]!.activation, 'tanh');
});
