/**
 * Builds the shipped sample model, models/sample/sample.bundle (`npm run models:sample`):
 * a small reward MLP for the reference robot task, so `bench`, `score` and the quick start
 * have something real to run before the trained teacher exists.
 *
 * How (honest, reproducible from the seeds below, no hand-typed numbers):
 *  1. data: drive the simulator (src/sim) with a noisy go-to-goal policy over seeded worlds;
 *     at every 3rd decision take the observation, the 65 candidates of DEFAULT_ACTION_GRID
 *     and their TRUE rewards (scoreCandidates rolls each action out);
 *  2. model: 39 -> 64 (tanh) -> 32 (relu) -> 1, targets clipped at -2. The hidden layers start
 *     as seeded random features, the last layer is fitted in closed form by ridge least
 *     squares (normal equations, Cholesky, float64); then 6 epochs of minibatch Adam through
 *     every layer, backprop written out by hand — plain TS math, no autograd library;
 *  3. fidelity on held-out worlds (R², top-1 agreement with the true argmax, regret) and a
 *     closed-loop run through the real engine, written into the manifest's provenance;
 *  4. bundle: the simulator's feature map and action grid as the manifest, signed with an
 *     ed25519 key generated here. Only the public key is kept (models/sample/trusted/);
 *     the private key is discarded, so every rebuild re-signs with a fresh key.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { DenseLayer } from '../src/compress/onnx/build.js';
import { createBundle } from '../src/runtime/bundle/create.js';
import { decodeBundle } from '../src/runtime/bundle/format.js';
import { generateKeyPair } from '../src/runtime/bundle/keys.js';
import { Scorer } from '../src/runtime/engine/scorer.js';
import { log } from '../src/telemetry/log.js';
import { DEFAULT_ACTION_GRID, gridCandidates } from '../src/sim/actions.js';
import { candidateFeatures, DEFAULT_FEATURE_MAP, FEATURE_DIM } from '../src/sim/features.js';
import { observe } from '../src/sim/observe.js';
import { argmax, scoreCandidates } from '../src/sim/reward.js';
import { createSim, stepSim } from '../src/sim/sim.js';
import { gaussian, mulberry32, type Rng } from '../src/sim/rng.js';
import { evaluate } from '../src/sim/episode.js';
import { modelPolicy } from '../src/sim/model-policy.js';
import { oraclePolicy } from '../src/sim/policies.js';
import { mlpToOnnx, rewardManifest } from '../src/train/export.js';

const OUT = fileURLToPath(new URL('../models/sample/', import.meta.url));
const SEED = 20240611;
const TRAIN_WORLDS = { first: 1, count: 48 };
const TEST_WORLDS = { first: 5001, count: 16 };
const EVAL_EPISODES = { seed: 9001, count: 20 };
const H1 = 64;
const H2 = 32;
const RIDGE = 1e-3;
/** Targets are clipped here: a collision (-10) is simply "worst", and does not swamp the squared error. */
const CLIP = -2;
const EPOCHS = 6;

const cands = gridCandidates(DEFAULT_ACTION_GRID);
const K = cands.length >> 1;

interface Data { x: Float32Array; y: Float32Array; states: number }

/** States visited by a noisy go-to-goal driver (sometimes a random action, so near-misses are seen too). */
function collect(first: number, count: number, rng: Rng): Data {
  const xs: Float32Array[] = [];
  const ys: Float32Array[] = [];
  for (let s = first; s < first + count; s++) {
    const sim = createSim(s);
    let step = 0;
    while (sim.status === 'running') {
      const obs = observe(sim);
      if (step++ % 3 === 0) {
        xs.push(candidateFeatures(obs, cands));
        ys.push(scoreCandidates(sim, sim.state, cands));
      }
      const b = obs.goal.bearing;
      const explore = rng() < 0.3;
      const v = explore ? rng() * 0.6 : 0.6 * Math.max(0, Math.cos(b)) ** 2;
      const w = explore ? (rng() * 2 - 1) * 1.5 : Math.max(-1.5, Math.min(1.5, 2 * b + 0.3 * gaussian(rng)));
      stepSim(sim, v, w);
    }
  }
  const x = new Float32Array(xs.length * K * FEATURE_DIM);
  const y = new Float32Array(ys.length * K);
  xs.forEach((a, i) => x.set(a, i * K * FEATURE_DIM));
  ys.forEach((a, i) => y.set(a, i * K));
  return { x, y, states: xs.length };
}

function randomLayer(inDim: number, outDim: number, gain: number, rng: Rng, activation: DenseLayer['activation']): DenseLayer {
  const weight = new Float32Array(inDim * outDim);
  for (let i = 0; i < weight.length; i++) weight[i] = (gain / Math.sqrt(inDim)) * gaussian(rng);
  const bias = new Float32Array(outDim);
  for (let i = 0; i < outDim; i++) bias[i] = 0.5 * gaussian(rng);
  return { weight, bias, inDim, outDim, activation };
}

/** Hidden activations of `rows` inputs through dense layers (x·W + b, activation), in float64. */
function hidden(layers: DenseLayer[], x: Float32Array, rows: number): Float64Array {
  let cur: Float64Array | Float32Array = x;
  for (const l of layers) {
    const next = new Float64Array(rows * l.outDim);
    for (let r = 0; r < rows; r++) {
      const xo = r * l.inDim;
      const yo = r * l.outDim;
      for (let o = 0; o < l.outDim; o++) next[yo + o] = l.bias[o]!;
      for (let i = 0; i < l.inDim; i++) {
        const xi = cur[xo + i]!;
        if (xi === 0) continue;
        const wo = i * l.outDim;
        for (let o = 0; o < l.outDim; o++) next[yo + o]! += xi * l.weight[wo + o]!;
      }
      for (let o = 0; o < l.outDim; o++) {
        const v = next[yo + o]!;
        next[yo + o] = l.activation === 'tanh' ? Math.tanh(v) : l.activation === 'relu' ? (v > 0 ? v : 0) : v;
      }
    }
    cur = next;
  }
  return cur as Float64Array;
}

/** Ridge least squares: argmin |[Φ 1]·w − y|² + λ|w|², via the normal equations and Cholesky. */
function ridge(phi: Float64Array, y: Float32Array, rows: number, d: number, lambda: number): Float64Array {
  const n = d + 1;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  const row = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) row[j] = phi[r * d + j]!;
    row[d] = 1;
    const t = y[r]!;
    for (let i = 0; i < n; i++) {
      const ri = row[i]!;
      if (ri === 0) continue;
      b[i]! += ri * t;
      for (let j = 0; j <= i; j++) a[i * n + j]! += ri * row[j]!;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!;
    if (i < d) a[i * n + i]! += lambda * rows; // no penalty on the intercept
  }
  // Cholesky a = L·Lᵀ, in place (lower triangle).
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= a[j * n + k]! ** 2;
    if (!(s > 0)) throw new Error(`ridge system is not positive definite at column ${j}; raise RIDGE`);
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = t / l;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= a[i * n + k]! * z[k]!;
    z[i] = t / a[i * n + i]!;
  }
  const w = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let t = z[i]!;
    for (let k = i + 1; k < n; k++) t -= a[k * n + i]! * w[k]!;
    w[i] = t / a[i * n + i]!;
  }
  return w;
}

/**
 * A few epochs of minibatch Adam on the squared error, through every layer (tanh/relu/none),
 * written out by hand: forward keeps the activations, backward is the chain rule per layer.
 */
function adam(layers: DenseLayer[], x: Float32Array, y: Float32Array, rows: number, epochs: number, rng: Rng): void {
  const B = 256;
  const lr = 2e-3;
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = layers.map((l) => ({ w: new Float64Array(l.weight.length), b: new Float64Array(l.bias.length) }));
  const v = layers.map((l) => ({ w: new Float64Array(l.weight.length), b: new Float64Array(l.bias.length) }));
  const g = layers.map((l) => ({ w: new Float64Array(l.weight.length), b: new Float64Array(l.bias.length) }));
  const acts = [new Float64Array(B * layers[0]!.inDim), ...layers.map((l) => new Float64Array(B * l.outDim))];
  const deltas = layers.map((l) => new Float64Array(B * l.outDim));
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  let t = 0;
  for (let e = 0; e < epochs; e++) {
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start + B <= rows; start += B) {
      const a0 = acts[0]!;
      const d0 = layers[0]!.inDim;
      for (let r = 0; r < B; r++) for (let c = 0; c < d0; c++) a0[r * d0 + c] = x[order[start + r]! * d0 + c]!;
      layers.forEach((l, li) => {
        const ain = acts[li]!;
        const aout = acts[li + 1]!;
        for (let r = 0; r < B; r++) {
          for (let o = 0; o < l.outDim; o++) aout[r * l.outDim + o] = l.bias[o]!;
          for (let i = 0; i < l.inDim; i++) {
            const xi = ain[r * l.inDim + i]!;
            if (xi === 0) continue;
            for (let o = 0; o < l.outDim; o++) aout[r * l.outDim + o]! += xi * l.weight[i * l.outDim + o]!;
          }
          for (let o = 0; o < l.outDim; o++) {
            const z = aout[r * l.outDim + o]!;
            aout[r * l.outDim + o] = l.activation === 'tanh' ? Math.tanh(z) : l.activation === 'relu' ? (z > 0 ? z : 0) : z;
          }
        }
      });
      const last = layers.length - 1;
      const out = acts[last + 1]!;
      for (let r = 0; r < B; r++) deltas[last]![r] = (2 / B) * (out[r]! - y[order[start + r]!]!);
      for (let li = last; li >= 0; li--) {
        const l = layers[li]!;
        const d = deltas[li]!;
        const aout = acts[li + 1]!;
        if (l.activation !== 'none') {
          for (let k = 0; k < B * l.outDim; k++) {
            const a = aout[k]!;
            d[k]! *= l.activation === 'tanh' ? 1 - a * a : a > 0 ? 1 : 0;
          }
        }
        const ain = acts[li]!;
        const gw = g[li]!.w.fill(0);
        const gb = g[li]!.b.fill(0);
        for (let r = 0; r < B; r++) {
          for (let o = 0; o < l.outDim; o++) gb[o]! += d[r * l.outDim + o]!;
          for (let i = 0; i < l.inDim; i++) {
            const xi = ain[r * l.inDim + i]!;
            if (xi === 0) continue;
            for (let o = 0; o < l.outDim; o++) gw[i * l.outDim + o]! += xi * d[r * l.outDim + o]!;
          }
        }
        if (li > 0) {
          const dn = deltas[li - 1]!;
          for (let r = 0; r < B; r++) {
            for (let i = 0; i < l.inDim; i++) {
              let s = 0;
              for (let o = 0; o < l.outDim; o++) s += l.weight[i * l.outDim + o]! * d[r * l.outDim + o]!;
              dn[r * l.inDim + i] = s;
            }
          }
        }
      }
      t++;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      layers.forEach((l, li) => {
        for (const [p, gg, mm, vv] of [[l.weight, g[li]!.w, m[li]!.w, v[li]!.w], [l.bias, g[li]!.b, m[li]!.b, v[li]!.b]] as const) {
          for (let k = 0; k < p.length; k++) {
            mm[k] = b1 * mm[k]! + (1 - b1) * gg[k]!;
            vv[k] = b2 * vv[k]! + (1 - b2) * gg[k]! ** 2;
            p[k]! -= (lr * (mm[k]! / c1)) / (Math.sqrt(vv[k]! / c2) + eps);
          }
        }
      });
    }
  }
}

interface Fidelity { r2: number; top1: number; meanRegret: number; states: number }

/** R² against the fitted target; top-1 agreement and regret against the true reward. */
function fidelity(pred: ArrayLike<number>, y: Float32Array, states: number, fitted: Float32Array): Fidelity {
  let mean = 0;
  for (let i = 0; i < fitted.length; i++) mean += fitted[i]!;
  mean /= fitted.length;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < fitted.length; i++) {
    ssr += (fitted[i]! - pred[i]!) ** 2;
    sst += (fitted[i]! - mean) ** 2;
  }
  let top1 = 0;
  let regret = 0;
  for (let s = 0; s < states; s++) {
    const p = Array.from({ length: K }, (_, k) => pred[s * K + k]!);
    const t = y.subarray(s * K, s * K + K);
    const a = argmax(p);
    const b = argmax(t);
    if (a === b) top1++;
    regret += t[b]! - t[a]!;
  }
  const r = (x: number): number => Number(x.toFixed(4));
  return { r2: r(1 - ssr / sst), top1: r(top1 / states), meanRegret: r(regret / states), states };
}

async function main(): Promise<void> {
  log.level = 'warn';
  const t0 = performance.now();
  const rng = mulberry32(SEED);
  const train = collect(TRAIN_WORLDS.first, TRAIN_WORLDS.count, rng);
  const test = collect(TEST_WORLDS.first, TEST_WORLDS.count, rng);
  const rowsTrain = train.states * K;
  const layers = [randomLayer(FEATURE_DIM, H1, 1.5, rng, 'tanh'), randomLayer(H1, H2, Math.SQRT2, rng, 'relu')];
  const target = (d: Data): Float32Array => d.y.map((v) => Math.max(v, CLIP));
  const w = ridge(hidden(layers, train.x, rowsTrain), target(train), rowsTrain, H2, RIDGE);
  layers.push({ weight: Float32Array.from(w.subarray(0, H2)), bias: new Float32Array([w[H2]!]), inDim: H2, outDim: 1, activation: 'none' });
  if (EPOCHS > 0) adam(layers, train.x, target(train), rowsTrain, EPOCHS, rng);
  const fitTrain = fidelity(hidden(layers, train.x, rowsTrain), train.y, train.states, target(train));
  const fitTest = fidelity(hidden(layers, test.x, test.states * K), test.y, test.states, target(test));
  const params = layers.reduce((n, l) => n + l.weight.length + l.bias.length, 0);

  const model = mlpToOnnx(layers, 'edgereward sample reward model, fitted to the simulator\'s true reward by scripts/build-sample-model.ts');
  const provenance: Record<string, unknown> = {
    made_by: 'scripts/build-sample-model.ts (npm run models:sample)',
    method: `MLP 39->${H1} tanh->${H2} relu->1: hidden layers drawn from a seeded Gaussian, last layer fitted in closed form by ridge least squares (lambda ${RIDGE} per row, Cholesky), then ${EPOCHS} epochs of minibatch Adam (lr 2e-3, batch 256) on the squared error to the true reward clipped at ${CLIP}`,
    teacher: 'none: the targets are the simulator\'s true reward (src/sim/reward.ts, 1 s rollout per candidate)',
    data: { seed: SEED, train_worlds: TRAIN_WORLDS, test_worlds: TEST_WORLDS, train_states: train.states, candidates_per_state: K, behaviour: 'go-to-goal with Gaussian steering noise, 30% uniformly random actions, every 3rd decision recorded' },
    params,
    fidelity_train: fitTrain,
    fidelity_test: fitTest,
    note: 'a stand-in so bench, score and the quick start have a real model; the trained teacher replaces it',
  };

  // Closed loop through the real engine and the manifest's feature map (the device's path).
  const draft = rewardManifest({ name: 'sample', version: '0.1.0', description: 'sample reward model for the reference differential-drive task (lidar 32 beams, odometry, goal; actions v, w)', featureMap: DEFAULT_FEATURE_MAP, grid: DEFAULT_ACTION_GRID, provenance });
  const probeKey = generateKeyPair();
  const probe = decodeBundle(createBundle({ model, manifest: draft, privateKeyPem: probeKey.privateKeyPem }));
  const scorer = await Scorer.fromBundle(probe);
  const closed = await evaluate({ episodes: EVAL_EPISODES.count, seed: EVAL_EPISODES.seed, policy: modelPolicy(scorer) });
  await scorer.release();
  const oracle = await evaluate({ episodes: EVAL_EPISODES.count, seed: EVAL_EPISODES.seed, policy: oraclePolicy() });
  const r = (x: number): number => Number(x.toFixed(3));
  provenance['closed_loop'] = {
    episodes: EVAL_EPISODES.count,
    first_seed: EVAL_EPISODES.seed,
    success_rate: r(closed.successRate),
    collision_rate: r(closed.collisionRate),
    timeout_rate: r(closed.timeoutRate),
    oracle_success_rate: r(oracle.successRate),
  };

  // Sign with a fresh key; keep only its public half.
  const key = generateKeyPair();
  const bundle = createBundle({ model, manifest: draft, privateKeyPem: key.privateKeyPem });
  const trusted = join(OUT, 'trusted');
  mkdirSync(trusted, { recursive: true });
  for (const f of readdirSync(trusted)) if (f.endsWith('.pub')) rmSync(join(trusted, f));
  writeFileSync(join(trusted, `${key.keyId}.pub`), key.publicKeyPem);
  writeFileSync(join(OUT, 'sample.bundle'), bundle);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `wrote ${join(OUT, 'sample.bundle')} (${bundle.length} bytes, ${params} params, key ${key.keyId}; private key discarded) in ${secs} s\n` +
      `  train ${JSON.stringify(fitTrain)}\n  test  ${JSON.stringify(fitTest)}\n  closed loop ${JSON.stringify(provenance['closed_loop'])}\n`,
  );
}

await main();
