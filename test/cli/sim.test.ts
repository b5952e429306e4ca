/**
 * `sim dataset`, `sim eval`, `sim render` and `eval fidelity` end to end through the real CLI, on a
 * tiny signed bundle with the teacher's manifest (so the manifest's feature map drives the robot)
 * and a few episodes. Figures are checked for shape and range, never for time.
 */
import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { generateKeyPair } from '../../src/runtime/bundle/keys.js';
import { DEFAULT_ACTION_GRID } from '../../src/sim/actions.js';
import { DEFAULT_FEATURE_MAP } from '../../src/sim/features.js';
import { mlpToOnnx, rewardManifest } from '../../src/train/export.js';
import { mulberry32 } from '../../src/sim/rng.js';

/** A tiny reward MLP that prefers going fast and toward the goal (bearing sin, w): a plausible driver. */
function tinyBundle(dir: string): { bundle: string; onnx: string; trust: string } {
  const rng = mulberry32(3);
  const w1 = new Float32Array(39 * 8).map(() => (rng() - 0.5) * 0.1);
  // hidden 0: v (col 37); hidden 1: sin(bearing) * w agreement (col 36 and 38)
  w1[37 * 8 + 0] = 1;
  w1[36 * 8 + 1] = 1;
  w1[38 * 8 + 1] = 1;
  const w2 = new Float32Array(8).fill(0);
  w2[0] = 0.5;
  w2[1] = 1;
  const layers = [
    { weight: w1, bias: new Float32Array(8), inDim: 39, outDim: 8, activation: 'relu' as const },
    { weight: w2, bias: new Float32Array(1), inDim: 8, outDim: 1, activation: 'none' as const },
  ];
  const onnx = mlpToOnnx(layers);
  const key = generateKeyPair();
  const trust = join(dir, 'trusted');
  mkdirSync(trust);
  writeFileSync(join(trust, `${key.keyId}.pub`), key.publicKeyPem);
  const manifest = rewardManifest({ name: 'tiny-nav', version: '0.0.1', description: 'test', featureMap: DEFAULT_FEATURE_MAP, grid: DEFAULT_ACTION_GRID, provenance: {} });
  const bundle = join(dir, 'tiny.bundle');
  writeFileSync(bundle, createBundle({ model: onnx, manifest, privateKeyPem: key.privateKeyPem }));
  const onnxPath = join(dir, 'tiny.onnx');
  writeFileSync(onnxPath, onnx);
  return { bundle, onnx: onnxPath, trust };
}

t.test('sim and eval commands', async (t) => {
  const dir = tmpDir(t);
  const m = tinyBundle(dir);

  await t.test('sim eval runs episodes with a signed bundle and prints the figures', async (t) => {
    const r = await runCli(['sim', 'eval', '--model', m.bundle, '--trust', m.trust, '--episodes', '3', '--seed', '1000', '--json', '--no-progress']);
    t.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as Record<string, number | string | null>;
    t.equal(o['policy'], 'tiny-nav@0.0.1');
    t.equal(o['episodes'], 3);
    for (const k of ['successRate', 'collisionRate', 'timeoutRate']) t.ok((o[k] as number) >= 0 && (o[k] as number) <= 1, k);
    t.ok(Math.abs((o['successRate'] as number) + (o['collisionRate'] as number) + (o['timeoutRate'] as number) - 1) < 1e-9, 'outcomes add up');
    t.ok((o['meanLatencyMs'] as number) > 0);
  });

  await t.test('sim eval --oracle prints a table; bad flags are refused with a code', async (t) => {
    const r = await runCli(['sim', 'eval', '--oracle', '--episodes', '2', '--no-progress']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /policy\s+oracle/);
    t.match(r.stdout, /success rate\s+\d+\.\d%/);
    const bad = await runCli(['sim', 'eval', '--oracle', '--model', m.onnx, '--episodes', '2']);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /exactly one of/);
  });

  await t.test('sim dataset writes a dataset; eval fidelity compares two models on it', async (t) => {
    const data = join(dir, 'd.erds');
    const g = await runCli(['sim', 'dataset', '--episodes', '2', '--seed', '7', '--out', data, '--json', '--no-progress']);
    t.equal(g.code, 0, g.stderr);
    const s = JSON.parse(g.stdout) as { states: number; candidates: number };
    t.ok(s.states > 0);
    t.equal(s.candidates, 65);
    const same = await runCli(['eval', 'fidelity', '--model', m.onnx, '--teacher', m.bundle, '--data', data, '--json']);
    t.equal(same.code, 0, same.stderr);
    const f = JSON.parse(same.stdout) as { vsTeacher: { top1Agreement: number; spearman: number; regret: number; maxAbsErr: number }; data: { states: number } };
    t.equal(f.data.states, s.states);
    t.equal(f.vsTeacher.top1Agreement, 1, 'the same network agrees with itself');
    t.ok(f.vsTeacher.maxAbsErr < 1e-5);
    t.equal(f.vsTeacher.regret, 0);
  });

  await t.test('sim render writes an SVG with the episode and the candidates', async (t) => {
    const out = join(dir, 'ep.svg');
    const r = await runCli(['sim', 'render', '--model', m.bundle, '--seed', '1000', '--out', out]);
    t.equal(r.code, 0, r.stderr);
    const svg = readFileSync(out, 'utf8');
    t.match(svg, /^<svg /);
    t.match(svg, /predicted reward/);
    t.match(svg, /<polyline/);
  });
});
