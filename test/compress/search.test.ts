/**
 * Architecture search with real training (TF.js), real compression and real onnxruntime timing
 * on a tiny problem: the budget holds, the latency constraint holds, the front is a true Pareto
 * front. No wall-clock assertions (latencies are measured, never compared with a clock budget).
 */
import t from 'tap';
import { loadTf } from '../../src/train/tf.js';
import { buildMlpModel } from '../../src/compress/onnx/build.js';
import { scoreStates } from '../../src/compress/distill/index.js';
import { createEvaluator, dominates, paretoFront, searchArchitectures, choose, type SearchPoint } from '../../src/compress/search/index.js';
import { selectStates } from '../../src/train/groups.js';
import { weights } from '../helpers/models.js';
import { tinyProblem } from './distill-fixtures.js';

t.test('paretoFront keeps exactly the non-dominated points', async (t) => {
  const pts = [
    { fidelity: 0.9, cost: 1 }, { fidelity: 0.8, cost: 1 }, { fidelity: 0.95, cost: 2 },
    { fidelity: 0.95, cost: 3 }, { fidelity: 0.7, cost: 0.5 }, { fidelity: 0.99, cost: 5 }, { fidelity: 0.6, cost: 0.6 },
  ];
  const f = paretoFront(pts);
  t.same(f, [{ fidelity: 0.7, cost: 0.5 }, { fidelity: 0.9, cost: 1 }, { fidelity: 0.95, cost: 2 }, { fidelity: 0.99, cost: 5 }]);
  t.ok(dominates({ fidelity: 1, cost: 1 }, { fidelity: 1, cost: 2 }));
  t.notOk(dominates({ fidelity: 1, cost: 1 }, { fidelity: 1, cost: 1 }), 'equal points do not dominate each other');
});

t.test('choose: the most faithful point within the latency target; else the fastest, flagged', async (t) => {
  const p = (top1: number, latencyMs: number) => ({ top1, latencyMs, objective: 1 - top1 }) as SearchPoint;
  const pts = [p(0.9, 0.05), p(0.95, 0.2), p(0.99, 0.5)];
  t.equal(choose(pts, { targetLatencyMs: 0.3 }).chosen, pts[1]);
  const none = choose(pts, { targetLatencyMs: 0.01 });
  t.equal(none.chosen, pts[0]);
  t.equal(none.meetsTarget, false);
});

t.test('the search respects its budget and latency constraint and returns a true Pareto front', async (t) => {
  const tf = await loadTf();
  const { set } = tinyProblem(240, 11);
  const teacherModel = buildMlpModel({
    inputName: 'x', outputName: 'reward',
    layers: [
      { weight: weights(8 * 32, 1), bias: weights(32, 2), inDim: 8, outDim: 32, activation: 'relu' },
      { weight: weights(32 * 32, 3), bias: weights(32, 4), inDim: 32, outDim: 32, activation: 'relu' },
      { weight: weights(32, 5), bias: new Float32Array(1), inDim: 32, outDim: 1, activation: 'none' },
    ],
  });
  const teacher = await scoreStates(teacherModel, set);
  const tr = Array.from({ length: 192 }, (_, i) => i);
  const ho = Array.from({ length: 48 }, (_, i) => 192 + i);
  const pick = (idx: number[]) => ({ set: selectStates(set, idx), teacher: selectStates({ ...set, rewards: teacher }, idx).rewards });
  const a = pick(tr);
  const b = pick(ho);
  const ev = await createEvaluator({
    tf, train: a.set, teacherTrain: a.teacher, heldOut: b.set, teacherHeldOut: b.teacher, teacherModel, io: { input: 'x', output: 'reward' },
    deployBatch: 9, latencyRuns: 20, rungs: [{ fraction: 0.5, epochs: 1 }, { fraction: 1, epochs: 1 }], distill: { batchStates: 16, lr: 1e-2 }, calibStates: 8,
  });
  t.teardown(() => ev.release());
  const target = 5; // ms: generous, the check is that the choice respects it
  const res = await searchArchitectures(ev, {
    space: { depths: [1, 2], widths: [4, 8, 16], activations: ['relu', 'tanh'], bits: [32, 8], sparsities: [0, 0.5] },
    population: 4, children: 3, maxEvaluations: 9, targetLatencyMs: target, seed: 3,
  });
  t.ok(res.evaluations.length <= 9, `${res.evaluations.length} evaluations within the budget of 9`);
  t.equal(res.stoppedBy, 'evaluations');
  t.ok(res.chosen, 'a candidate is chosen');
  if (res.meetsTarget) t.ok(res.chosen!.latencyMs <= target, `chosen latency ${res.chosen!.latencyMs} ms ≤ ${target} ms`);
  const feasibleTop = res.points.filter((p) => p.rung === 1 && p.latencyMs <= target);
  for (const p of feasibleTop) t.ok(p.top1 <= res.chosen!.top1, `no feasible top-rung point beats the choice (${p.key})`);
  // A true Pareto front: no front point is dominated by any point; every other point is dominated by a front point.
  const asT = (p: SearchPoint) => ({ fidelity: p.top1, cost: p.cost });
  for (const f of res.front) for (const p of res.points) t.notOk(dominates(asT(p), asT(f)), `${p.key} does not dominate front point ${f.key}`);
  for (const p of res.points) if (!res.front.includes(p) && !res.front.some((f) => f.key === p.key)) t.ok(res.front.some((f) => dominates(asT(f), asT(p))), `${p.key} is dominated by the front`);
  // Successive halving: fewer evaluations at the top rung than at rung 0.
  t.ok(res.evaluations.filter((e) => e.rung === 1).length < res.evaluations.filter((e) => e.rung === 0).length);
  t.ok(res.chosenModel && res.chosenModel.length > 0);
});
