/**
 * `edgereward score` and `edgereward bench` end to end (real CLI process, real ORT), and the
 * shipped sample bundle: signed, loadable, and its feature map agrees with the simulator.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, ROOT } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';
import { Scorer } from '../../../src/runtime/engine/index.js';
import { openBundle } from '../../../src/runtime/bundle/create.js';
import { loadTrustStore } from '../../../src/runtime/bundle/keys.js';
import { createSim, stepSim } from '../../../src/sim/sim.js';
import { observe } from '../../../src/sim/observe.js';
import { candidateFeatures } from '../../../src/sim/features.js';
import { DEFAULT_ACTION_GRID, gridCandidates } from '../../../src/sim/actions.js';

const SAMPLE = join(ROOT, 'models', 'sample', 'sample.bundle');
const TRUSTED = join(ROOT, 'models', 'sample', 'trusted');
const MLP4 = join(ROOT, 'test', 'fixtures', 'pytorch', 'mlp4_reward.onnx');
const LIDAR = join(ROOT, 'test', 'fixtures', 'pytorch', 'lidar_conv1d.onnx');

interface Ref { inputs: Record<string, { dims: number[]; data: number[] }>; outputs: Record<string, { dims: number[]; data: number[] }> }

/** The exporter's reference batch as JSON lines, nested per row the way the tensor is shaped. */
function refRows(ref: Ref): string {
  const names = Object.keys(ref.inputs);
  const n = ref.inputs[names[0]!]!.dims[0]!;
  const lines: string[] = [];
  for (let r = 0; r < n; r++) {
    const row: Record<string, unknown> = {};
    for (const k of names) {
      const { dims, data } = ref.inputs[k]!;
      const w = dims.slice(1).reduce((a, b) => a * b, 1);
      const flat = data.slice(r * w, (r + 1) * w);
      row[k] = dims.length === 3 ? [flat] : flat; // [1, 32] rows stay nested
    }
    lines.push(JSON.stringify(row));
  }
  return lines.join('\n') + '\n';
}

t.test('score: PyTorch exports, batched, equal the exporter\'s outputs (1e-4)', { skip: !existsSync(LIDAR) && 'fixtures missing' }, async (t) => {
  const dir = tmpDir(t);
  for (const model of [MLP4, LIDAR]) {
    const ref = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.ref.json'), 'utf8')) as Ref;
    const rows = join(dir, 'rows.jsonl');
    writeFileSync(rows, refRows(ref));
    const r = await runCli(['score', '--model', model, '--input', rows, '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { model: string; rewards: number[] };
    const want = Object.values(ref.outputs)[0]!.data;
    t.equal(out.rewards.length, want.length);
    t.ok(out.rewards.every((x, i) => Math.abs(x - want[i]!) < 1e-4), `${out.model} matches`);
    const plain = await runCli(['score', '--model', model, '--input', rows]);
    t.equal(plain.stdout.trim().split('\n').length, want.length, 'one reward per line');
  }
});

t.test('score: a malformed row is refused with its line number', async (t) => {
  const dir = tmpDir(t);
  const rows = join(dir, 'bad.jsonl');
  const good = JSON.stringify({ x: new Array(39).fill(0.1) });
  const cases: Array<[string, RegExp]> = [
    [`${good}\n{"x": [1, 2]}\n`, /line 2: input "x" has 2 values; the model takes 39/],
    [`${good}\n\n{nope\n`, /line 3: not valid JSON/],
    [`{"y": [1]}\n`, /line 1: missing input "x"/],
    [`{"x": [${new Array(38).fill(0).join(',')}, "a"]}\n`, /line 1: input "x" must be a number/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(rows, text);
    const r = await runCli(['score', '--model', SAMPLE, '--input', rows]);
    t.equal(r.code, 2);
    t.match(r.stderr, /E_SCORE_INPUT/);
    t.match(r.stderr, re);
  }
});

t.test('score: the sample bundle, signature verified', async (t) => {
  const dir = tmpDir(t);
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, [0.1, 0.5].map((v) => JSON.stringify({ x: new Array(39).fill(v) })).join('\n'));
  const r = await runCli(['score', '--model', SAMPLE, '--input', rows, '--trust', TRUSTED, '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; rewards: number[] };
  t.equal(out.model, 'sample@0.1.0');
  t.equal(out.rewards.length, 2);
});

t.test('bench --json prints the figures and both ratios', async (t) => {
  const r = await runCli(['bench', '--model', SAMPLE, '--batch', '1,8', '--seconds', '1', '--json']);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown> & { batches: Array<Record<string, number>> };
  t.equal(out['model'], 'sample@0.1.0');
  t.same(out.batches.map((b) => b['batch']), [1, 8]);
  for (const b of out.batches) for (const k of ['p50_ms', 'p99_ms', 'cand_per_s']) t.ok(b[k]! > 0, `${k} is a positive figure`);
  t.ok((out['overhead_ratio'] as number) > 0);
  t.ok((out['batching_gain'] as number) > 0);
  const bad = await runCli(['bench', '--model', SAMPLE, '--batch', '0,x']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /E_CLI_ARG/);
});

t.test('the sample bundle: trusted, and its feature map feeds the model what the simulator would', async (t) => {
  const b = openBundle(SAMPLE, loadTrustStore(TRUSTED));
  t.equal(b.manifest.name, 'sample');
  t.ok(b.manifest.provenance?.['method'], 'provenance says how it was made');
  const s = await Scorer.fromBundle(b);
  t.teardown(() => s.release());
  t.equal(s.candidates!.count, 65);
  const sim = createSim(77);
  for (let i = 0; i < 5; i++) stepSim(sim, 0.3, 0.2);
  const obs = observe(sim);
  const viaManifest = Float32Array.from((await s.scoreObservation(obs as unknown as Record<string, Record<string, unknown>>)).rewards);
  const cands = gridCandidates(DEFAULT_ACTION_GRID);
  const [buf] = s.inputBuffers(65);
  candidateFeatures(obs, cands, buf);
  const viaSim = await s.scoreBuffers(65);
  t.ok(viaManifest.every((x, i) => Math.abs(x - viaSim[i]!) < 1e-5), 'manifest features = simulator features');
});
