/**
 * The training glue with real TensorFlow.js (WASM backend) and real onnxruntime-node: the exported
 * ONNX graph computes what TF.js computes, a short run lowers the loss, batches are shaped per
 * state. Small data and few steps: no wall-clock assertions.
 */
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { loadTf } from '../../src/train/tf.js';
import { trainRewardModel } from '../../src/train/train.js';
import { fillBatch, rewardNorm, selectStates, type GroupedSet } from '../../src/train/groups.js';
import { mlpToOnnx, TEACHER_INPUT, TEACHER_OUTPUT } from '../../src/train/export.js';
import { mlpParams } from '../../src/train/mlp.js';
import { mulberry32 } from '../../src/sim/rng.js';

/** A synthetic task with the reference task's shape: 37 observation columns, 65 (v, w) candidates. */
function synthetic(states: number, seed: number): GroupedSet {
  const rng = mulberry32(seed);
  const k = 65;
  const obsDim = 37;
  const actDim = 2;
  const obs = new Float32Array(states * obsDim).map(() => rng());
  const act = new Float32Array(k * actDim);
  for (let c = 0; c < k; c++) {
    act[2 * c] = Math.floor(c / 13) / 4;
    act[2 * c + 1] = ((c % 13) - 6) / 6;
  }
  const rewards = new Float32Array(states * k);
  for (let s = 0; s < states; s++) {
    for (let c = 0; c < k; c++) {
      const v = act[2 * c]!;
      const w = act[2 * c + 1]!;
      // Prefer turning toward a target turn rate; a "collision" cliff when fast and obs[0] is small.
      rewards[s * k + c] = v * obs[s * obsDim + 1]! - (w - (2 * obs[s * obsDim + 2]! - 1)) ** 2 - (obs[s * obsDim]! < 0.2 && v > 0.5 ? 10 : 0);
    }
  }
  return { states, k, obsDim, actDim, obs, act, rewards };
}

t.test('batches are [states, candidates, features] rows: observation columns then the action columns', async (t) => {
  const s = synthetic(5, 1);
  const dim = 39;
  const x = new Float32Array(2 * 65 * dim);
  const r = new Float32Array(2 * 65);
  fillBatch(s, [3, 1], x, r);
  for (const [b, st] of [[0, 3], [1, 1]] as const) {
    for (const c of [0, 17, 64]) {
      const row = x.subarray((b * 65 + c) * dim, (b * 65 + c + 1) * dim);
      t.same(Array.from(row.subarray(0, 37)), Array.from(s.obs.subarray(st * 37, st * 37 + 37)), `state ${st} candidate ${c}: observation`);
      t.same(Array.from(row.subarray(37)), [s.act[2 * c]!, s.act[2 * c + 1]!], `state ${st} candidate ${c}: action`);
      t.equal(r[b * 65 + c], s.rewards[st * 65 + c]);
    }
  }
  // A subset of candidates, in the given order.
  const cand = Int32Array.from([5, 0, 64, 7]);
  const xs = new Float32Array(2 * 2 * dim);
  const rs = new Float32Array(4);
  fillBatch(s, [4, 0], xs, rs, cand, 2);
  t.same(Array.from(xs.subarray(37, 39)), [s.act[10]!, s.act[11]!]);
  t.same(Array.from(rs), [s.rewards[4 * 65 + 5]!, s.rewards[4 * 65 + 0]!, s.rewards[0 * 65 + 64]!, s.rewards[0 * 65 + 7]!]);
  const sub = selectStates(s, [4, 2]);
  t.same(Array.from(sub.rewards.subarray(65, 130)), Array.from(s.rewards.subarray(130, 195)));
  const n = rewardNorm(s.rewards);
  t.ok(n.scale > 0 && Number.isFinite(n.mean));
});

t.test('a short training run lowers the loss and improves the choice', async (t) => {
  const tf = await loadTf();
  t.equal(tf.getBackend(), 'wasm');
  const train = synthetic(512, 2);
  const val = synthetic(128, 3);
  const res = await trainRewardModel(tf, train, { hidden: [32, 32], epochs: 6, batchStates: 16, lr: 3e-3, seed: 4, validation: val });
  t.teardown(() => res.dispose());
  const first = res.history[0]!;
  const last = res.history[res.history.length - 1]!;
  t.ok(last.train.loss < first.train.loss, `train loss ${first.train.loss.toFixed(3)} -> ${last.train.loss.toFixed(3)}`);
  t.ok(last.validation!.loss < first.validation!.loss, `validation loss ${first.validation!.loss.toFixed(3)} -> ${last.validation!.loss.toFixed(3)}`);
  t.ok(last.validation!.regret <= first.validation!.regret + 1e-6, `regret ${first.validation!.regret.toFixed(3)} -> ${last.validation!.regret.toFixed(3)}`);
  // Subsampled candidates (the best always among them) train too.
  const sub = await trainRewardModel(tf, train, { hidden: [32], epochs: 2, batchStates: 16, candidatesPerState: 8, seed: 5 });
  t.ok(Number.isFinite(sub.history[1]!.train.loss));
  sub.dispose();
});

t.test('the exported ONNX teacher computes what TF.js computes (within 1e-4)', async (t) => {
  const tf = await loadTf();
  const data = synthetic(64, 6);
  // The teacher's architecture, a few steps so the weights and the output scaling are not trivial.
  const res = await trainRewardModel(tf, data, { epochs: 1, batchStates: 16, candidatesPerState: 8, seed: 7 });
  t.teardown(() => res.dispose());
  t.equal(res.params, mlpParams({ inDim: 39, hidden: [512, 512, 256] }));
  t.equal(res.layers.length, 4);
  const onnx = mlpToOnnx(res.layers);
  const session = await ort.InferenceSession.create(onnx);
  t.teardown(() => session.release());
  const rows = 4 * 65;
  const x = new Float32Array(rows * 39);
  fillBatch(data, [0, 9, 33, 63], x, new Float32Array(rows));
  const want = res.predict(x, rows);
  const out = await session.run({ [TEACHER_INPUT]: new ort.Tensor('float32', x, [rows, 39]) });
  const got = out[TEACHER_OUTPUT]!.data as Float32Array;
  t.same(out[TEACHER_OUTPUT]!.dims, [rows, 1]);
  let maxErr = 0;
  for (let i = 0; i < rows; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  t.ok(maxErr < 1e-4, `max |onnx - tfjs| = ${maxErr.toExponential(2)}`);
  t.ok(want.some((v) => v !== want[0]), 'outputs vary with the input');
});
