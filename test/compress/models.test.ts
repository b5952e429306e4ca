/**
 * Real onnxruntime-node: round trips, quantized and pruned models on the PyTorch fixtures and on
 * models built here. No wall-clock assertions (timing runs are kept tiny: latencyRuns 2).
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel } from '../../src/compress/onnx/model.js';
import { buildMlpModel } from '../../src/compress/onnx/build.js';
import { onnx, toNumber } from '../../src/compress/onnx/proto.js';
import { tensorToFloat32 } from '../../src/compress/onnx/tensor.js';
import { topoOrder, indexGraph, constantOf } from '../../src/compress/onnx/graph.js';
import { denseChains, convChains } from '../../src/compress/onnx/shapes.js';
import { readDataset, parseDataset } from '../../src/compress/evaluate/data.js';
import { openSession, scoreDataset } from '../../src/compress/evaluate/run.js';
import { quantizeModel } from '../../src/compress/quantize/index.js';
import { equalizeModel } from '../../src/compress/quantize/equalize.js';
import { pruneModel } from '../../src/compress/prune/index.js';
import { applyUnitPlans } from '../../src/compress/prune/structured.js';
import { isEdgeError } from '../../src/errors.js';
import { weights } from '../helpers/models.js';

const FIX = 'test/fixtures/pytorch';
const fixtures = readdirSync(FIX).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5));
const fast = { latencyRuns: 2 };

async function run(bytes: Uint8Array, ds: ReturnType<typeof readDataset>): Promise<Float32Array> {
  const s = await openSession(bytes, 'model');
  try {
    return await scoreDataset(s, decodeModel(bytes), ds);
  } finally {
    await s.release();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function builtMlp(seed = 1): Uint8Array {
  return buildMlpModel({
    inputName: 'x',
    outputName: 'reward',
    opset: 13,
    layers: [
      { weight: weights(12 * 64, seed), bias: weights(64, seed + 1), inDim: 12, outDim: 64, activation: 'relu' },
      { weight: weights(64 * 32, seed + 2), bias: weights(32, seed + 3), inDim: 64, outDim: 32, activation: 'tanh' },
      { weight: weights(32, seed + 4), bias: new Float32Array(1), inDim: 32, outDim: 1, activation: 'none' },
    ],
  });
}

function builtData(rows = 130): ReturnType<typeof readDataset> {
  const lines = Array.from({ length: rows }, (_, r) => JSON.stringify({ x: Array.from(weights(12, 100 + r)).map((v) => v * 4) }));
  return parseDataset(lines.join('\n'), 'built.jsonl');
}

t.test('round trip of unmodified models gives identical outputs', async (t) => {
  t.ok(fixtures.length >= 4, `fixtures: ${fixtures.join(', ')}`);
  for (const name of fixtures) {
    const bytes = readFileSync(join(FIX, `${name}.onnx`));
    const m = decodeModel(bytes);
    const again = encodeModel(m);
    // protobufjs may lay out a few length prefixes differently; the content must be the same.
    const obj = (x: Uint8Array) => JSON.stringify(onnx.ModelProto.toObject(decodeModel(x), { bytes: String, longs: String }));
    t.equal(obj(again), obj(bytes), `${name}: same content after re-encoding`);
    t.ok(toNumber(m.irVersion) <= 8, `${name}: IR ${toNumber(m.irVersion)} ≤ 8, so onnx-proto (IR 8) knows every field`);
    t.ok(again.length >= bytes.length && again.length - bytes.length < 100, `${name}: size ${bytes.length} -> ${again.length} (nothing dropped)`);
    t.equal(topoOrder(m.graph!).length, m.graph!.node!.length, `${name}: topological order covers every node`);
    const ds = readDataset(join(FIX, `${name}.ref.json`));
    const a = await run(bytes, ds);
    const b = await run(again, ds);
    t.equal(maxDiff(a, b), 0, `${name}: identical outputs`);
    const ref = ds.outputs && Object.values(ds.outputs)[0];
    if (ref) t.ok(maxDiff(a, ref.data) < 1e-4, `${name}: matches PyTorch's reference outputs`);
  }
  for (const seed of [1, 5, 9]) {
    const bytes = builtMlp(seed);
    const again = encodeModel(decodeModel(bytes));
    const ds = builtData(20);
    t.equal(maxDiff(await run(bytes, ds), await run(again, ds)), 0, `built MLP seed ${seed}: identical outputs`);
  }
});

t.test('graph layer: constants through Identity, chains', async (t) => {
  // PyTorch shares tied weights through Identity nodes; build such a graph.
  const tied = decodeModel(builtMlp(4));
  tied.graph!.node!.unshift({ opType: 'Identity', name: 'alias', input: ['l0.weight'], output: ['l0.weight_alias'] });
  tied.graph!.node!.find((n) => n.name === 'l0/Gemm')!.input![1] = 'l0.weight_alias';
  const idx = indexGraph(tied.graph!);
  t.equal(constantOf(idx, 'l0.weight_alias')?.name, 'l0.weight', 'weight resolved through Identity');
  const q = await quantizeModel(encodeModel(tied), { mode: 'dynamic', calib: builtData(65), ...fast });
  t.equal(q.report.changed_nodes.length, 3, 'the Gemm reading an Identity is quantized');
  t.ok(q.report.max_abs_err! < 0.05, `within tolerance (${q.report.max_abs_err})`);
  t.notOk(decodeModel(q.bytes).graph!.initializer!.some((i) => i.name === 'l0.weight'), 'the float weight is gone');
  const mlp = decodeModel(readFileSync(join(FIX, 'mlp4_reward.onnx')));
  t.equal(denseChains(mlp.graph!).length, 3, 'mlp4: three dense chains');
  const conv = decodeModel(readFileSync(join(FIX, 'lidar_conv1d.onnx')));
  t.equal(convChains(conv.graph!).length, 1, 'lidar: conv1 -> relu -> conv2');
});

t.test('quantized models load in onnxruntime-node and stay within tolerance', async (t) => {
  const mlp = readFileSync(join(FIX, 'mlp4_reward.onnx'));
  const mlpData = readDataset(join(FIX, 'mlp4_reward.ref.json'));
  const tol = (r: { max_abs_err: number | null }, limit: number, what: string) => t.ok(r.max_abs_err !== null && r.max_abs_err < limit, `${what}: max abs err ${r.max_abs_err} < ${limit}`);
  for (const mode of ['dynamic', 'static'] as const) {
    for (const perChannel of [false, true]) {
      const r = await quantizeModel(mlp, { mode, perChannel, calib: mlpData, groupSize: 8, ...fast });
      t.equal(r.report.changed_nodes.length, 4, `${mode}: all four Gemms quantized`);
      t.ok(r.report.size_ratio < 0.3, `${mode}: int8 file ${r.report.size_ratio}× of fp32`);
      tol(r.report, 0.5, `mlp4 ${mode}${perChannel ? ' per-channel' : ''}`);
      const again = await run(r.bytes, mlpData); // the written bytes load on their own
      t.equal(again.length, 64);
    }
  }
  const wo = await quantizeModel(mlp, { mode: 'weight-only', bits: 4, calib: mlpData, groupSize: 8, ...fast });
  t.ok(wo.report.int4_share > 0.9, 'weight-only: int4 share');
  tol(wo.report, 2, 'mlp4 weight-only 4-bit');

  const lidar = readFileSync(join(FIX, 'lidar_conv1d.onnx'));
  const lidarData = readDataset(join(FIX, 'lidar_conv1d.ref.json'));
  const dyn = await quantizeModel(lidar, { mode: 'dynamic', calib: lidarData, groupSize: 8, ...fast });
  t.same(dyn.report.skipped_nodes.map((s) => s.op), ['Conv', 'Conv'], 'dynamic: Conv left float and listed');
  t.ok(dyn.report.skipped_nodes.every((s) => /ConvInteger/.test(s.reason)));
  const st = await quantizeModel(lidar, { mode: 'static', calib: lidarData, groupSize: 8, ...fast });
  t.equal(st.report.changed_nodes.length, 4, 'static: Conv and Gemm quantized');
  tol(st.report, 0.05, 'lidar static');

  const tr = readFileSync(join(FIX, 'tiny_transformer.onnx'));
  const trData = readDataset(join(FIX, 'tiny_transformer.ref.json'));
  for (const mode of ['dynamic', 'static'] as const) {
    const r = await quantizeModel(tr, { mode, calib: trData, groupSize: 8, ...fast });
    t.ok(r.report.changed_nodes.length >= 8, `transformer ${mode}: ${r.report.changed_nodes.length} nodes`);
    tol(r.report, 0.1, `transformer ${mode}`);
  }
  const ex = await quantizeModel(mlp, { mode: 'dynamic', exclude: ['/net/net.6/Gemm', 'Conv'], ...fast });
  t.same(ex.report.skipped_nodes, [{ node: '/net/net.6/Gemm', op: 'Gemm', reason: 'excluded (--exclude)' }]);
});

t.test('cross-layer equalization keeps the function; uint8 weights (U8U8) load and stay within tolerance', async (t) => {
  const mlp = readFileSync(join(FIX, 'mlp4_reward.onnx'));
  const data = readDataset(join(FIX, 'mlp4_reward.ref.json'));
  const m = decodeModel(mlp);
  const pairs = await equalizeModel(m, data);
  t.same(pairs.map((p) => `${p.a}>${p.b}`), ['/net/net.0/Gemm>/net/net.2/Gemm', '/net/net.2/Gemm>/net/net.4/Gemm', '/net/net.4/Gemm>/net/net.6/Gemm']);
  const before = await run(mlp, data);
  const after = await run(encodeModel(m), data);
  t.ok(maxDiff(before, after) < 1e-3, `equalized float model equals the original (max diff ${maxDiff(before, after)})`);
  const eq = await quantizeModel(mlp, { mode: 'static', perChannel: true, calib: data, groupSize: 8, ...fast });
  t.ok(eq.report.notes.some((n) => /equalization rescaled 3 Relu chains/.test(n)), 'per-channel static equalizes by default');
  t.ok(eq.report.max_abs_err !== null && eq.report.max_abs_err < 0.5, `equalized per-channel: max abs err ${eq.report.max_abs_err}`);
  const off = await quantizeModel(mlp, { mode: 'static', perChannel: true, equalize: false, calib: data, groupSize: 8, ...fast });
  t.notOk(off.report.notes.some((n) => /equalization/.test(n)), 'equalize: false turns it off');

  for (const mode of ['static', 'dynamic'] as const) {
    const r = await quantizeModel(mlp, { mode, weightType: 'uint8', calib: data, groupSize: 8, ...fast });
    const q = decodeModel(r.bytes);
    const zps = (q.graph!.initializer ?? []).filter((i) => /W_zero_point|weight_zero_point/.test(i.name ?? ''));
    t.ok(zps.length >= 4, `${mode}: weight zero points stored (${zps.length})`);
    t.ok(zps.every((z) => z.dataType === onnx.TensorProto.DataType.UINT8 && [...(z.rawData ?? [])].every((b) => b === 128)), `${mode}: uint8 weights with zero point 128`);
    t.notOk(r.report.notes.some((n) => /±63/.test(n)), `${mode}: full range, no reduced-range note`);
    t.ok(r.report.max_abs_err !== null && r.report.max_abs_err < 0.5, `${mode} uint8 weights: max abs err ${r.report.max_abs_err}`);
  }
});

t.test('sensitivity and automatic exclusion', async (t) => {
  const bytes = builtMlp(3);
  const ds = builtData(130);
  const r = await quantizeModel(bytes, { mode: 'static', calib: ds, groupSize: 65, minSpearman: 1.01, ...fast });
  t.equal(r.report.sensitivity?.length, 3, 'one sensitivity row per quantized node');
  t.equal(r.report.target?.met, false, 'an impossible target is reported as not met');
  t.ok((r.report.auto_excluded?.length ?? 0) >= 1, 'most harmful nodes were put back to float');
  const ok = await quantizeModel(bytes, { mode: 'static', calib: ds, groupSize: 65, minTop1: 0, ...fast });
  t.equal(ok.report.target?.met, true);
  t.same(ok.report.auto_excluded ?? [], []);
});

t.test('structured pruning equals the original with those units masked', async (t) => {
  for (const [name, bytes, ds] of [
    ['mlp4', readFileSync(join(FIX, 'mlp4_reward.onnx')), readDataset(join(FIX, 'mlp4_reward.ref.json'))],
    ['lidar', readFileSync(join(FIX, 'lidar_conv1d.onnx')), readDataset(join(FIX, 'lidar_conv1d.ref.json'))],
    ['built', builtMlp(2), builtData(20)],
  ] as const) {
    const r = await pruneModel(bytes, { structured: true, sparsity: 0.5, ...fast });
    t.ok(r.plans && r.plans.length > 0, `${name}: chains pruned`);
    const masked = decodeModel(bytes);
    applyUnitPlans(masked, r.plans!, 'mask');
    const a = await run(r.bytes, ds);
    const b = await run(encodeModel(masked), ds);
    t.ok(maxDiff(a, b) < 1e-4, `${name}: pruned == masked (max diff ${maxDiff(a, b)})`);
    t.ok(r.report.params_out < r.report.params_in * 0.6, `${name}: ${r.report.params_in} -> ${r.report.params_out} parameters`);
  }
});

t.test('unstructured pruning: exact sparsity, sparse storage loads', async (t) => {
  const bytes = readFileSync(join(FIX, 'mlp4_reward.onnx'));
  const ds = readDataset(join(FIX, 'mlp4_reward.ref.json'));
  const r = await pruneModel(bytes, { sparsity: 0.5, evalData: ds, groupSize: 8, ...fast });
  const total = 256 * 40 + 256 * 256 + 128 * 256 + 128;
  const out = decodeModel(r.bytes).graph!.initializer!.filter((i) => /weight/.test(i.name ?? ''));
  const zeros = out.reduce((a, i) => a + tensorToFloat32(i).filter((v) => v === 0).length, 0);
  t.equal(zeros, Math.floor(0.5 * total), 'exactly half of the weights are zero');
  const sp = await pruneModel(bytes, { sparsity: 0.8, sparseStorage: true, evalData: ds, groupSize: 8, ...fast });
  t.ok(sp.report.size_ratio < 0.7, `sparse storage shrinks the file (${sp.report.size_ratio}×)`);
  const dense = await pruneModel(bytes, { sparsity: 0.8, evalData: ds, groupSize: 8, ...fast });
  t.equal(maxDiff(await run(sp.bytes, ds), await run(dense.bytes, ds)), 0, 'sparse and dense storage give identical outputs');
  t.ok(decodeModel(sp.bytes).graph!.sparseInitializer!.length > 0);
});

t.test('refusals are clean', async (t) => {
  const mlp = readFileSync(join(FIX, 'mlp4_reward.onnx'));
  const code = async (p: Promise<unknown>, c: string, what: string) => {
    try {
      await p;
      t.fail(`${what}: no error`);
    } catch (e) {
      t.ok(isEdgeError(e), `${what}: EdgeError`);
      t.equal((e as { code?: string }).code, c, what);
    }
  };
  await code(quantizeModel(mlp, { mode: 'static', ...fast }), 'E_COMPRESS_CALIB', 'static without data');
  await code(quantizeModel(mlp, { mode: 'dynamic', bits: 4, ...fast }), 'E_COMPRESS_OPTION', '4-bit outside weight-only');
  await code(quantizeModel(new Uint8Array([1, 2, 3]), { ...fast }), 'E_ONNX_PARSE', 'not ONNX');
  await code(quantizeModel(mlp, { mode: 'dynamic', exclude: ['Gemm'], ...fast }), 'E_COMPRESS_NOTHING', 'everything excluded');
  await code(pruneModel(mlp, { ...fast }), 'E_COMPRESS_OPTION', 'prune without amount');
  await code(pruneModel(mlp, { structured: true, threshold: 0.1, ...fast }), 'E_COMPRESS_OPTION', 'structured by threshold');
  const tr = readFileSync(join(FIX, 'tiny_transformer.onnx'));
  await code(quantizeModel(tr, { mode: 'weight-only', ...fast }), 'E_COMPRESS_NOTHING', 'weight-only on tiny layers names them');
  t.throws(() => parseDataset('{"x": [1,2]}\n{"x": [1]}', 'bad.jsonl'), { code: 'E_COMPRESS_DATA' });
  void ort;
});
