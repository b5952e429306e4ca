/**
 * The scoring engine against real onnxruntime-node: numbers equal an independent forward
 * pass and the PyTorch exporter's reference outputs; batching, multi-input, fixed batch,
 * buffer reuse, refusals. No wall-clock assertions here (timings live in bench/).
 */
import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildMlpModel, type DenseLayer } from '../../../src/compress/onnx/build.js';
import { Scorer, loadSession } from '../../../src/runtime/engine/index.js';
import type { Manifest } from '../../../src/runtime/bundle/manifest.js';
import { rand, twoInputModel, rank1Model, int64InputModel } from './graphs.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'pytorch');

function dense(inDim: number, outDim: number, activation: DenseLayer['activation'], seed: number): DenseLayer {
  return { weight: rand(inDim * outDim, seed, 1 / Math.sqrt(inDim)), bias: rand(outDim, seed + 1, 0.1), inDim, outDim, activation };
}

/** The forward pass in plain TS, from the same weights (row-major in×out, x·W + b). */
function forward(layers: DenseLayer[], x: Float32Array, rows: number): Float64Array {
  let cur = Float64Array.from(x);
  for (const l of layers) {
    const next = new Float64Array(rows * l.outDim);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < l.outDim; o++) {
        let s = l.bias[o]!;
        for (let i = 0; i < l.inDim; i++) s += cur[r * l.inDim + i]! * l.weight[i * l.outDim + o]!;
        next[r * l.outDim + o] =
          l.activation === 'relu' ? Math.max(0, s) :
          l.activation === 'tanh' ? Math.tanh(s) :
          l.activation === 'sigmoid' ? 1 / (1 + Math.exp(-s)) :
          l.activation === 'gelu' ? s / (1 + Math.exp(-1.702 * s)) : s;
      }
    }
    cur = next;
  }
  return cur;
}

t.test('scores equal an independent forward pass from the same weights', async (t) => {
  const layers = [dense(10, 32, 'relu', 11), dense(32, 16, 'tanh', 21), dense(16, 8, 'gelu', 31), dense(8, 1, 'none', 41)];
  const s = await Scorer.fromModel(buildMlpModel({ inputName: 'x', outputName: 'reward', layers }), undefined, { label: 'mlp' });
  t.teardown(() => s.release());
  t.equal(s.provider, 'cpu');
  t.equal(s.id, 'mlp');
  for (const count of [1, 37, 256]) {
    const [x] = s.inputBuffers(count);
    t.equal(x!.length, count * 10);
    x!.set(rand(count * 10, count, 2));
    const got = await s.scoreBuffers(count);
    const want = forward(layers, x!, count);
    t.equal(got.length, count);
    let worst = 0;
    for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    t.ok(worst < 1e-5, `batch ${count}: max |ORT - TS| = ${worst.toExponential(2)}`);
  }
});

t.test('PyTorch-exported fixtures score as the exporter did (1e-4)', { skip: !existsSync(FIX) && 'test/fixtures/pytorch is not there' }, async (t) => {
  const names = readdirSync(FIX).filter((f) => f.endsWith('.onnx') && existsSync(join(FIX, f.replace(/\.onnx$/, '.ref.json'))));
  t.ok(names.length > 0, 'fixtures found');
  for (const f of names) {
    const ref = JSON.parse(readFileSync(join(FIX, f.replace(/\.onnx$/, '.ref.json')), 'utf8')) as {
      opset: number; inputs: Record<string, { dims: number[]; data: number[] }>; outputs: Record<string, { dims: number[]; data: number[] }>;
    };
    const s = await Scorer.fromFile(join(FIX, f));
    const count = Object.values(ref.inputs)[0]!.dims[0]!;
    const bufs = s.inputBuffers(count);
    s.layout.inputs.forEach((l, i) => bufs[i]!.set(ref.inputs[l.name]!.data));
    const got = await s.scoreBuffers(count);
    const want = ref.outputs[s.layout.output]!.data;
    let worst = 0;
    for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    t.ok(worst < 1e-4, `${f} (opset ${ref.opset}, ${s.layout.inputs.map((i) => i.name).join('+')}, batch ${count}${s.layout.fixedBatch ? ', fixed batch ' + s.layout.fixedBatch : ''}): max diff ${worst.toExponential(2)}`);
    await s.release();
  }
});

t.test('multi-input model with a dynamic batch axis; extra outputs ignored', async (t) => {
  const w = rand(6, 5);
  await t.rejects(Scorer.fromModel(twoInputModel(w, 0.25), undefined), { code: 'E_ENGINE_OUTPUT' }, 'without a manifest the first output is the reward, and [batch, 6] is not one');
  const s = await Scorer.fromModel(twoInputModel(w, 0.25), undefined, { output: 'reward' });
  t.same(s.layout.inputs.map((i) => [i.name, i.batched, i.rowSize]), [['scan', true, 4], ['sa', true, 2]]);
  t.equal(s.layout.output, 'reward');
  await s.release();

  const m = await Scorer.fromModel(twoInputModel(w, 0.25), manifestFor(), {});
  t.teardown(() => m.release());
  t.equal(m.layout.output, 'reward');
  t.equal(m.id, 'two@0.1.0');
  t.equal(m.candidates!.count, 9);
  // scan is `shared` in the feature map: filled once, copied to every candidate row.
  const ranges = [1, 2, 3, 4];
  const { rewards, nonFinite } = await m.scoreObservation({ lidar: { ranges } });
  t.equal(nonFinite, 0);
  const cand = m.candidates!;
  for (let r = 0; r < cand.count; r++) {
    const row = [...ranges, cand.values[r * 2]!, cand.values[r * 2 + 1]! * 0.5];
    const want = row.reduce((a, x, i) => a + x * w[i]!, 0.25);
    t.ok(Math.abs(rewards[r]! - want) < 1e-5, `candidate ${r}`);
  }
  const missing = await m.scoreObservation({});
  t.equal(missing.nonFinite, 4, 'missing stream counted as non-finite');
  t.ok(Number.isNaN(missing.rewards[0]), 'non-finite rewards are returned as they are');
});

function manifestFor(): Manifest {
  return {
    format: 1, name: 'two', version: '0.1.0', min_runtime: '0.1.0',
    files: [{ name: 'model.onnx', role: 'model', sha256: '0'.repeat(64), size: 0 }],
    model: { inputs: [], outputs: [] },
    features: [
      { input: 'scan', per: 'shared', columns: [{ stream: 'lidar', field: 'ranges', count: 4 }] },
      { input: 'sa', per: 'candidate', columns: [{ action: 'v' }, { action: 'w', scale: 0.5 }] },
    ],
    actions: { type: 'grid', dims: [{ name: 'v', min: 0, max: 1, steps: 3 }, { name: 'w', min: -1, max: 1, steps: 3 }] },
    output: { name: 'reward', meaning: 'test' },
  };
}

t.test('rank-1 output [batch] works', async (t) => {
  const s = await Scorer.fromModel(rank1Model(), undefined);
  t.teardown(() => s.release());
  const [x] = s.inputBuffers(4);
  x!.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  t.same(Array.from(await s.scoreBuffers(4)), [6, 15, 24, 33]);
});

const STATIC = join(FIX, 'mlp_gemm_static.onnx');
t.test('a fixed batch of 1 is scored row by row, transparently', { skip: !existsSync(STATIC) && 'fixture missing' }, async (t) => {
  const f = STATIC;
  const s = await Scorer.fromFile(f);
  t.teardown(() => s.release());
  t.equal(s.layout.fixedBatch, 1);
  const n = 5;
  const [x] = s.inputBuffers(n);
  x!.set(rand(n * 12, 9));
  const all = Float32Array.from(await s.scoreBuffers(n));
  // Each row alone through a bare session must give the same value.
  const bare = await loadSession(readFileSync(f));
  t.teardown(() => bare.session.release());
  const ort = await import('onnxruntime-node');
  for (let r = 0; r < n; r++) {
    const out = await bare.session.run({ x: new ort.Tensor('float32', x!.slice(r * 12, r * 12 + 12), [1, 12]) });
    t.ok(Math.abs((out['reward']!.data as Float32Array)[0]! - all[r]!) < 1e-6, `row ${r}`);
  }
});

t.test('buffers are preallocated per batch size and reused', async (t) => {
  const s = await Scorer.fromModel(twoInputModel(rand(6, 3), 0), undefined, { output: 'reward' });
  t.teardown(() => s.release());
  const a = s.inputBuffers(16);
  t.equal(s.inputBuffers(16)[0], a[0], 'same Float32Array for the same count');
  t.equal(s.inputBuffers(16)[1], a[1]);
  t.not(s.inputBuffers(8)[0], a[0], 'another count has its own buffers');
  a[0]!.fill(1);
  a[1]!.fill(1);
  const r1 = await s.scoreBuffers(16);
  const v1 = r1[0];
  a[0]!.fill(2);
  const r2 = await s.scoreBuffers(16);
  t.equal(r2, r1, 'the rewards view is the same object on every call');
  t.not(r2[0], v1, 'and it holds the new values (the output tensor is bound and filled in place)');
  const p = s.prepared(16);
  t.equal((p.feeds['scan']!.data as Float32Array).buffer, a[0]!.buffer, 'the ORT tensor wraps our buffer (no copy)');
});

t.test('one call at a time per scorer', async (t) => {
  const s = await Scorer.fromModel(rank1Model(), undefined);
  t.teardown(() => s.release());
  const first = s.scoreBuffers(2);
  await t.rejects(s.scoreBuffers(2), { code: 'E_ENGINE_BUSY' });
  await first;
  await s.release();
  await t.rejects(s.scoreBuffers(3), { code: 'E_ENGINE_RELEASED' });
});

t.test('refusals carry codes and never crash the process', async (t) => {
  await t.rejects(Scorer.fromModel(new Uint8Array([8, 1, 18, 3, 0xff, 0xff, 0xff, 1, 2]), undefined), { code: 'E_ONNX_PARSE' }, 'garbage bytes');
  const f = join(FIX, 'mlp4_reward.onnx');
  if (existsSync(f)) {
    const bytes = readFileSync(f);
    await t.rejects(Scorer.fromModel(bytes.subarray(0, bytes.length >> 1), undefined), { code: 'E_ONNX_PARSE' }, 'truncated file');
  }
  await t.rejects(Scorer.fromFile('/nonexistent/model.onnx'), { code: 'E_ONNX_READ' });
  await t.rejects(Scorer.fromModel(int64InputModel(), undefined), { code: 'E_ENGINE_DTYPE' });
  const bad = { ...manifestFor(), output: { name: 'nope', meaning: 'x' } };
  await t.rejects(Scorer.fromModel(twoInputModel(rand(6, 1), 0), bad), { code: 'E_ENGINE_OUTPUT' });
  const wrongWidth = manifestFor();
  wrongWidth.features[1]!.columns.push({ action: 'v' });
  await t.rejects(Scorer.fromModel(twoInputModel(rand(6, 1), 0), wrongWidth), { code: 'E_FEATURE_MAP' });
  // still alive: a good model loads after all that
  const ok = await Scorer.fromModel(rank1Model(), undefined);
  await ok.release();
  t.pass('process survived');
});

t.test('execution provider fallback to cpu', async (t) => {
  // A real fallback, not a mock: onnxruntime-node ships no CUDA provider library here, so
  // asking for it fails inside ORT and the engine must fall back to the CPU provider.
  const s = await Scorer.fromModel(rank1Model(), undefined, { executionProviders: ['cuda', 'no-such-provider'] });
  t.teardown(() => s.release());
  t.equal(s.provider, 'cpu');
  const [x] = s.inputBuffers(1);
  x!.set([1, 1, 1]);
  t.same(Array.from(await s.scoreBuffers(1)), [3]);
});

t.test('session options: threads, optimization level, optimized graph saved', async (t) => {
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'engine-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'opt.onnx');
  const s = await Scorer.fromModel(rank1Model(), undefined, { intraOpThreads: 2, graphOptimization: 'extended', optimizedModelPath: out, warmupRuns: 0 });
  t.teardown(() => s.release());
  t.ok(statSync(out).size > 0, 'optimized graph written');
  const again = await Scorer.fromFile(out, { graphOptimization: 'disabled' });
  t.teardown(() => again.release());
  again.inputBuffers(1)[0]!.set([1, 2, 3]);
  t.same(Array.from(await again.scoreBuffers(1)), [6], 'and it loads and scores');
});
